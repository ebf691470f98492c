"""The HTTP entry point: a versioned REST API (FastAPI) over the service layer (``app.service``)."""
