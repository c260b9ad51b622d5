"""ASGI entry point: HTTP through Django, WebSockets through Channels.

uvicorn serves this in the image (docker/entrypoint.sh); daphne does on ``make run`` and may in the image too.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stockchat.settings")

from core.asgi import get_one_hop_asgi_application
from stockchat.deploy.middleware import HEALTH_PATH, READY_PATH

# Django must be set up before anything imports models, consumers included.
# One thread hop per request (core/asgi.py); the async health checks stay on the event loop.
django_asgi_app = get_one_hop_asgi_application(loop_paths=(HEALTH_PATH, READY_PATH))

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from core.realtime.handshake import SiteOriginValidator  # noqa: E402
from stockchat.deploy.client_address import ClientAddressMiddleware  # noqa: E402
from stockchat.routing import websocket_urlpatterns  # noqa: E402
from trading.market.embedded import EmbeddedMarketFeed  # noqa: E402

router = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The origin check refuses sockets opened by pages of other origins
        # (cross-site WebSocket hijacking): browsers send cookies with them,
        # even from another port or scheme of the same host. It is exact, as
        # Django's CSRF check of an Origin header (core/realtime/handshake.py).
        # The client address behind the load balancer comes first, as for HTTP
        # (where Django's middleware sets it).
        "websocket": ClientAddressMiddleware(
            SiteOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# Starts the simulator in this process when STOCKCHAT_MARKET_FEED=embedded.
application = EmbeddedMarketFeed(router)
