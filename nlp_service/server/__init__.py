"""The HTTP API of the NLP service: FastAPI app, micro-batcher, metrics, schemas."""

from nlp_service.server.app import create_app

__all__ = ["create_app"]
