"""Forms in a real Chromium: the order ticket through review and back."""

from __future__ import annotations

import pytest

from stockchat.tests.browser import open_page
from trading.forms import ERROR_LIMIT_REQUIRED
from trading.models import Order

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_changing_a_reviewed_order_brings_back_the_ticket_as_entered(people, site, browser):
    alice, _ = people
    with open_page(browser, site, alice) as watched:
        page = watched.page
        page.goto(f"{site.url}/stocks/ACME/")
        page.select_option("#id_type", "limit")
        page.fill("#id_quantity", "7")
        page.fill("#id_limit_price", "12.5")
        page.select_option("#id_time_in_force", "gtc")
        page.click("button:has-text('Review order')")
        review = page.locator(".review-line")
        review.wait_for()
        assert "7" in review.inner_text()
        assert "GTC" in review.inner_text()

        page.click("button:has-text('Change the order')")
        page.wait_for_selector("button:has-text('Review order')")
        assert page.input_value("#id_quantity") == "7"
        assert page.input_value("#id_type") == "limit"
        assert page.input_value("#id_time_in_force") == "gtc"
        assert float(page.input_value("#id_limit_price")) == 12.5
        # ticket.js shows the price field the restored type uses, and only that one.
        page.locator(".field-stop_price").wait_for(state="hidden")
        assert page.locator(".field-limit_price").is_visible()

        # A refused price shows its own error, not "required" as well.
        page.fill("#id_limit_price", "0")
        page.click("button:has-text('Review order')")
        error = page.locator(".field-limit_price .field-error")
        error.wait_for()
        assert "greater than or equal to 0.0001" in error.inner_text()
        assert ERROR_LIMIT_REQUIRED not in page.locator("#ticket").inner_text()
    assert not Order.objects.exists()
