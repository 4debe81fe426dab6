"""The web shell: settings, URLs, the ASGI app (HTTP + websockets) and the Celery app."""

from .celery import app as celery_app

__all__ = ("celery_app",)
