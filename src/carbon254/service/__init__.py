"""The HTTP service: a FastAPI app over the store (`create_app`)."""

from carbon254.service.app import create_app

__all__ = ["create_app"]
