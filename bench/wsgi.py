"""The bench-only server under WSGI (gunicorn): the same URLs and settings as bench/asgi.py, for the
constant view's baseline: what the same view costs with no event loop and no thread hop at all."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
application = get_wsgi_application()
