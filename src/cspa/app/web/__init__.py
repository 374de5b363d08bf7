"""The web app and JSON API (issue 19): browse, compare, enter and moderate in a browser.

:func:`cspa.app.web.app.create_app` builds the ASGI application; ``cspa serve`` runs it on
uvicorn. Part of the application layer: it may import any stage below ``app``, and no stage
imports it.
"""
