"""The review service's HTTP API (FastAPI): `create_app` builds it on a store and settings."""

from api.http.app import create_app

__all__ = ["create_app"]
