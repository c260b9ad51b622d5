"""Money moves live: every figure of the dashboard, portfolio and stock pages, read after live ticks,
is the cent the API gives at the same quotes (trading/valuation.py and static/js/valuation.js)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stockchat.tests.browser import DESKTOP, PHONE, open_page, shoot
from testsupport.waiting import wait_until
from trading import services
from trading.templatetags.market_format import money, signed_money

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# One look at the page, the API, and the page again, all inside the browser: when the page's prices
# did not change while the API answered and equal the API's, the page and the API saw the same quotes.
SNAPSHOT = """async () => {
  const read = () => {
    const text = (root, selector) => root.querySelector(selector)?.textContent.trim() ?? null;
    const summary = document.querySelector("[data-valuation-summary]");
    const rows = {};
    for (const row of document.querySelectorAll("[data-position-symbol]")) {
      rows[row.dataset.positionSymbol] = {
        price: text(document, `[data-quote-symbol="${row.dataset.positionSymbol}"] [data-field=price]`),
        market_value: text(row, "[data-money=market_value]"),
        unrealized_pnl: text(row, "[data-money=unrealized_pnl]"),
        day_change: text(row, "[data-money=day_change]"),
      };
    }
    return {
      summary: summary && {
        equity: text(summary, "[data-money=equity]"),
        day_change: text(summary, "[data-money=day_change]"),
        long_market_value: text(summary, "[data-money=long_market_value]"),
        unrealized_pnl: text(summary, "[data-money=unrealized_pnl]"),
      },
      rows,
    };
  };
  const before = read();
  const get = async (url) => (await fetch(url, { headers: { Accept: "application/json" } })).json();
  const [account, positions] = await Promise.all([get("/api/v1/account"), get("/api/v1/positions")]);
  return { before, after: read(), account, positions };
}"""


def _same_moment(snapshot: dict) -> dict | None:
    """The snapshot if the page and the API saw the same prices, else None (a tick fell in between)."""
    if snapshot["before"] != snapshot["after"]:
        return None
    rows = snapshot["before"]["rows"]
    for position in snapshot["positions"]:
        row = rows.get(position["symbol"])
        if row is not None and row["price"] is not None and row["price"] != money(position["current_price"]):
            return None
    return snapshot


def _money_figures_match_the_api(page) -> None:
    snapshot = wait_until(
        lambda: _same_moment(page.evaluate(SNAPSHOT)), what="the page and the API at the same quotes", timeout=30
    )
    page_figures, account = snapshot["before"], snapshot["account"]
    by_symbol = {position["symbol"]: position for position in snapshot["positions"]}
    for symbol, row in page_figures["rows"].items():
        position = by_symbol[symbol]
        assert row["market_value"] == money(position["market_value"]), symbol
        assert row["unrealized_pnl"] == signed_money(position["unrealized_pnl"]), symbol
        assert row["day_change"].split(" (")[0] == signed_money(position["change_today"]), symbol
    summary = page_figures["summary"]
    if summary is not None:
        day_change = Decimal(account["equity"]) - Decimal(account["last_equity"])
        assert summary["equity"] == money(account["equity"])
        assert summary["day_change"].split(" (")[0] == signed_money(day_change)
        assert summary["long_market_value"] == money(account["long_market_value"])
        assert summary["unrealized_pnl"] == signed_money(account["unrealized_pnl"])


PRICES = "[data-quote-symbol] [data-field=price]"


def _prices_moved(page, first: dict) -> None:
    page.wait_for_function(
        """first => [...document.querySelectorAll("[data-quote-symbol] [data-field=price]")]
            .some((el, i) => el.textContent !== first[i])""",
        arg=first,
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_money_figure_moves_with_the_prices_and_equals_the_api(people, ticking_site, browser, viewport):
    alice, _ = people
    services.order_place(user=alice, symbol="ACME", side="buy", quantity=7)
    services.order_place(user=alice, symbol="BOLT", side="buy", quantity=13)
    with open_page(browser, ticking_site, alice, viewport=viewport) as watched:
        page = watched.page
        for name, path in [("dashboard", "/dashboard/"), ("portfolio", "/portfolio/"), ("stock", "/stocks/ACME/")]:
            watched.open(f"{ticking_site.url}{path}")
            held = page.locator("[data-position-symbol]").count()
            assert held == (1 if name == "stock" else 2)
            first_equity = page.text_content("[data-money=equity]") if name != "stock" else None
            first_value = page.text_content("[data-position-symbol=ACME] [data-money=market_value]")
            # Over several ticks, check the page against the API each time the money moved.
            for _ in range(3):
                prices = page.eval_on_selector_all(PRICES, "els => els.map(e => e.textContent)")
                _prices_moved(page, prices)
                _money_figures_match_the_api(page)
            moved = page.text_content("[data-position-symbol=ACME] [data-money=market_value]") != first_value
            if first_equity is not None:
                moved = moved or page.text_content("[data-money=equity]") != first_equity
            assert moved, f"no money figure moved on the {name} page"
            if name != "stock":
                # The equity chart's last point is the live equity.
                live, shown = page.evaluate(
                    """() => [document.getElementById("equity-chart").dataset.liveEquity,
                              document.querySelector("[data-money=equity]").textContent]"""
                )
                assert money(live) == shown
            shoot(page, f"money-{name}")


def test_the_browser_values_positions_to_the_cent_the_server_does(people, site, browser):
    # static/js/valuation.js against trading/valuation.py on ties, negatives and 4-place prices.
    import random

    from trading.valuation import value_account, value_position

    rng = random.Random(20)
    cases = [(3, "65.5950", "64.0050"), (1, "0.0050", "0.0150"), (7, "12.3456", "12.3444"), (10, "65.59", "65.53")]
    for _ in range(400):
        price, previous = rng.randint(1, 99_999_999) / 10_000, rng.randint(1, 9_999_999) / 10_000
        cases.append((rng.randint(1, 100_000), f"{price:.4f}", f"{previous:.4f}"))
    with open_page(browser, site, people[0]) as watched:
        watched.open(f"{site.url}/dashboard/")
        computed = watched.page.evaluate(
            """async (cases) => {
                 const v = await import("/static/js/valuation.js");
                 const held = cases.map(([quantity, price, previous_close]) => {
                   const costBasis = v.productCents(quantity, "10.000500");
                   return { costBasis, ...v.valuePosition({ quantity, costBasis }, { price, previous_close }) };
                 });
                 const totals = v.valueAccount(v.cents("12345.67"), held);
                 const text = v.centsText;
                 return {
                   rows: held.map((h) => [text(h.marketValue), text(h.dayChange), text(h.unrealized)]),
                   equity: text(totals.equity),
                   day: text(totals.dayChange),
                 };
               }""",
            cases,
        )
    expected = [
        value_position(quantity=q, average_cost=Decimal("10.000500"), price=Decimal(p), previous_close=Decimal(prev))
        for q, p, prev in cases
    ]
    assert computed["rows"] == [[str(e.market_value), str(e.day_change), str(e.unrealized_pnl)] for e in expected]
    totals = value_account(cash=Decimal("12345.67"), positions=expected)
    assert (computed["equity"], computed["day"]) == (str(totals.equity), str(totals.day_change))
