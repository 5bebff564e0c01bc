"""ASGI entry point: HTTP through Django, websockets through Channels.

Websockets are authenticated by the Django session and must come from an
allowed origin (ALLOWED_HOSTS), which stops cross-site websocket hijacking.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from webapp.chat.routing import websocket_urlpatterns as chat_sockets  # noqa: E402
from webapp.dashboard.routing import websocket_urlpatterns as dashboard_sockets  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(chat_sockets + dashboard_sockets))),
    }
)

from webapp.heap import freeze_startup_heap  # noqa: E402

freeze_startup_heap()  # Django and the apps are loaded: full collections skip them (webapp/heap.py)
