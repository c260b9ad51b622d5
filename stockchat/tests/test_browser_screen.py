"""A trader's screen as a new user meets it in Chromium at 390 px and 1280 px: sign-in lands on the
dashboard, price alerts fire live on any page, tables fit a phone, addresses wrap at their seams, the
connection badge stays away unless the socket is really down, and the dark theme follows the system."""

from __future__ import annotations

import pytest

from stockchat.tests.browser import DESKTOP, ONLINE, PASSWORD, PHONE, open_page, shoot
from trading import services
from trading.models import Account, Company

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Set before any script of the page runs: remembers whether the connection badge was ever shown.
BADGE_WATCH = """
window.__badgeShown = false;
new MutationObserver(() => {
  const badge = document.getElementById("connection-status");
  if (badge && !badge.hidden) window.__badgeShown = true;
}).observe(document, { subtree: true, childList: true, attributes: true });
"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_sign_in_lands_on_the_dashboard_and_the_badge_never_flashes(people, site, browser, viewport):
    with open_page(browser, site, viewport=viewport) as watched:
        page = watched.page
        page.add_init_script(BADGE_WATCH)
        page.goto(f"{site.url}/accounts/login/")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{site.url}/dashboard/")
        page.wait_for_selector(ONLINE)
        for path in ("/portfolio/", "/stocks/", "/stocks/ACME/"):
            watched.open(f"{site.url}{path}")
            assert page.evaluate("window.__badgeShown") is False, path
        shoot(page, "signed-in")


def test_a_safe_next_still_wins_over_the_dashboard(people, site, browser):
    with open_page(browser, site) as watched:
        page = watched.page
        page.goto(f"{site.url}/portfolio/")
        page.wait_for_url("**/accounts/login/?next=/portfolio/")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{site.url}/portfolio/")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_alert_set_on_the_stock_page_fires_live_on_another_page(people, ticking_site, browser, viewport):
    alice, _ = people
    with (
        open_page(browser, ticking_site, alice, viewport=viewport) as board,
        open_page(browser, ticking_site, alice, viewport=viewport) as stock,
    ):
        board.open(f"{ticking_site.url}/dashboard/")
        assert board.page.get_attribute("[data-notifications-unread]", "data-notifications-unread") == "0"
        stock.open(f"{ticking_site.url}/stocks/ACME/")
        # At or below a price far above the market: the next tick meets it.
        stock.page.select_option("#id_alert_condition", "below")
        stock.page.fill("#id_alert_threshold", "100000")
        stock.page.click("button:has-text('Set alert')")
        stock.page.wait_for_selector("text=Alert set: ACME price at or below 100000.")
        toast = board.page.wait_for_selector(".toast")
        assert "ACME is at $" in toast.inner_text()
        assert "at or below your alert at $100,000.00" in toast.inner_text()
        board.page.wait_for_selector("[data-notifications-unread='1']")
        shoot(board.page, "alert-toast")
        # Fired once: later ticks add nothing; the count survives a reload.
        board.open(f"{ticking_site.url}/dashboard/")
        assert board.page.get_attribute("[data-notifications-unread]", "data-notifications-unread") == "1"
        board.open(f"{ticking_site.url}/notifications/")
        assert board.page.locator("[data-notification-list] li").count() == 1
        assert "Fired" in board.page.inner_text("[data-alert-id]")
        shoot(board.page, "alerts")
        board.page.click("button:has-text('Mark all as read')")
        board.page.wait_for_selector("[data-notifications-unread='0']", state="attached")
        stock.page.wait_for_selector("[data-notifications-unread='0']", state="attached")


def test_phone_tables_fit_their_boxes_and_addresses_wrap_at_their_seams(people, site, browser):
    alice, _ = people
    services.order_place(user=alice, symbol="ACME", side="buy", quantity=5)
    services.account_credit(account=Account.objects.get(user=alice), amount="1234.56", memo="A deposit, long memo")
    Company.objects.filter(stocks__symbol="ACME").update(
        name="Acme Interplanetary Anvils, Rockets and Other Fine Products Incorporated",
        website="https://investors.acme-interplanetary.example.com/annual-reports/2026/summary",
    )
    type(alice).objects.filter(pk=alice.pk).update(email="alice.longname-trader@subsidiary.example.com")
    with open_page(browser, site, alice, viewport=PHONE) as watched:
        page = watched.page
        for path in ("/portfolio/", "/stocks/", "/dashboard/", "/stocks/ACME/", "/accounts/me/"):
            watched.open(f"{site.url}{path}")
            too_wide = page.evaluate(
                """() => [...document.querySelectorAll("table")].filter((table) => {
                     const box = table.closest(".table-wrap") || table.parentElement;
                     return table.scrollWidth > box.clientWidth + 1;
                   }).map((table) => `${table.className} ${table.scrollWidth} > ${table.parentElement.clientWidth}`)"""
            )
            assert too_wide == [], (path, too_wide)
            clipped = page.evaluate(
                """() => [...document.querySelectorAll("main td, main th, main dd, main a")]
                     .filter((el) => el.offsetParent && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0)
                     .map((el) => el.textContent.trim().slice(0, 40))"""
            )
            assert clipped == [], (path, clipped)
            shoot(page, f"fits-{path.strip('/').replace('/', '-')}")
        # The company's website breaks only where the template marked a seam (after "/", before ".").
        watched.open(f"{site.url}/stocks/ACME/")
        link = page.locator("a.breakable")
        assert link.evaluate("a => a.querySelectorAll('wbr').length") >= 6
        assert link.evaluate("a => getComputedStyle(a).overflowWrap") == "break-word"
        # Each marked part sits on one line; one that breaks must do so at its own hyphen.
        parts = link.evaluate(
            """a => { const range = document.createRange(); const parts = [];
                 for (const node of a.childNodes) if (node.nodeType === 3) { range.selectNode(node);
                   const lines = [...range.getClientRects()].filter((rect) => rect.width > 0.5).length;
                   parts.push([node.textContent, lines]); }
                 return parts; }"""
        )
        assert all(lines == 1 or "-" in text for text, lines in parts), parts


def test_the_dark_theme_follows_the_system(people, site, browser):
    alice, _ = people
    services.order_place(user=alice, symbol="ACME", side="buy", quantity=5)
    for scheme, dark in (("dark", True), ("light", False)):
        with open_page(browser, site, alice, color_scheme=scheme) as watched:
            page = watched.page
            watched.open(f"{site.url}/dashboard/")
            background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
            red, green, blue = (int(part) for part in background[background.index("(") + 1 : -1].split(",")[:3])
            assert (red + green + blue < 150) is dark, background
            shoot(page, f"dashboard-{scheme}")
