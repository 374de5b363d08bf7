"""Renderers: a report document (docs/report-spec.md) to HTML, PDF, Excel and JSON.

Use ``cspa.outputs.render.render(doc, fmt, path)``; see docs/outputs.md.
"""
