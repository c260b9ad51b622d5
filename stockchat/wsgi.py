"""WSGI entry point, for management tooling only: WebSockets need ASGI (asgi.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stockchat.settings")

application = get_wsgi_application()
