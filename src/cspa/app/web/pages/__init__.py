"""The pages, one module per page kind (each a FastAPI router)."""
