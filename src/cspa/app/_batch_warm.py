"""Preloaded by the batch renderer's fork server (see cspa.app.batch): loads, once, what every
report needs (catalogue, areas, neighbour groups, templates), so each worker forked from the
server starts with them already in memory."""

from cspa.app.batch import _start_worker

_start_worker()
