"""The bench-only server: the app (HTTP and ``/ws/``) plus the baselines that must
share its process: ``/bench/constant`` (bench/urls.py) and the tutorial chat at
``/tutorial/`` (bench/tutorial.py).

    daphne bench.asgi:application
"""

import os

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

from core.asgi import get_one_hop_asgi_application
from stockchat.deploy.middleware import HEALTH_PATH, READY_PATH

# The app's own HTTP handler (stockchat/asgi.py), so the baseline view runs as the app's views do.
django_asgi_app = get_one_hop_asgi_application(loop_paths=(HEALTH_PATH, READY_PATH))

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from bench.tutorial import TutorialChatConsumer  # noqa: E402
from core.realtime.handshake import SiteOriginValidator  # noqa: E402
from stockchat.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The app's own origin check (stockchat/asgi.py), so /ws/ is measured as it runs.
        "websocket": SiteOriginValidator(
            AuthMiddlewareStack(URLRouter([path("tutorial/", TutorialChatConsumer.as_asgi()), *websocket_urlpatterns]))
        ),
    }
)
