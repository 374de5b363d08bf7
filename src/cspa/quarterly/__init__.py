"""Quarterly performance management (issue 7): targets, actuals, progress, RAG, commentary and
action plans, with SPC; an Excel template to get them in, a history of every change, and the
quarterly report in the layout of seed 001 (Luton, January to March 2008)."""
