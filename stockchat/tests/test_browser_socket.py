"""The page's socket client (static/js/socket.js) in a real Chromium across a server restart.

When the server stops (SIGTERM, as in a deploy) it closes the page's socket with 1012 (service
restart): the client reconnects at once, before any backoff timer, and once the server is back it
resumes what it follows. A lost connection (1006) still backs off first.
"""

from __future__ import annotations

import pytest

from chat import services as chat_services
from stockchat.tests.browser import OFFLINE, ONLINE, open_page

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Records, in order, each socket the page opens, each close code, and each timer the socket
# client (socket.js) sets. A reconnect that waits for a backoff shows as a timer between the
# close and the next socket; other scripts' timers (the connection badge's grace) do not count.
RECORD_SOCKETS = """
window.__socketLog = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    window.__socketLog.push("open");
    this.addEventListener("close", (event) => window.__socketLog.push(`close ${event.code}`));
  }
};
const nativeSetTimeout = window.setTimeout.bind(window);
window.setTimeout = (...args) => {
  // The caller's frame (the stack's third line: after "Error" and this function).
  const caller = (new Error().stack || "").split("\\n")[2] || "";
  if (caller.includes("/socket.js")) window.__socketLog.push("timer");
  return nativeSetTimeout(...args);
};
"""


def test_a_server_restart_closes_with_1012_and_the_page_reconnects_at_once(people, site, browser):
    alice, bob = people
    conversation = chat_services.direct_start(user=alice, other_username="bob")
    with open_page(browser, site, alice) as watched:
        page = watched.page
        page.add_init_script(RECORD_SOCKETS)
        watched.open(f"{site.url}/chat/{conversation.pk}/")
        with watched.server_down():
            site.stop()
            page.wait_for_selector(OFFLINE)
            log = page.evaluate("window.__socketLog")
            assert "close 1012" in log, log
            # The next thing the client did was open a socket, not set a backoff timer (that
            # attempt finds the server gone, and the client backs off from there).
            assert log[log.index("close 1012") + 1] == "open", log
            chat_services.message_send(user=bob, conversation_id=conversation.pk, body="sent during the restart")
            site.start()
            page.wait_for_selector(ONLINE, timeout=60_000)
        page.wait_for_selector("#message-list .body:text-is('sent during the restart')")
