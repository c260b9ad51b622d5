"""Attachments in a real Chromium, on the embedded default (`make run`: local storage): alice
attaches an image and a file, bob sees the thumbnail live and opens the full image, and carol,
who is not a member, cannot fetch the attachment's URL. Screenshots at 390 and 1280 px, light
and dark."""

from __future__ import annotations

import pytest
from django.test import Client

from chat import services as chat_services
from chat.models import Attachment
from chat.tests.attachment_files import png
from chat.tests.conftest import client_for
from stockchat.tests.browser import DESKTOP, ONLINE, PHONE, Site, open_page, shoot

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media_site(tmp_path):
    site = Site()
    site.env["STOCKCHAT_MEDIA_ROOT"] = str(tmp_path / "media")
    with site.running() as server:
        yield server


def test_an_image_and_a_file_reach_a_member_and_no_one_else(people, media_site, browser, make_user, tmp_path):
    alice, bob = people
    carol = make_user("carol")
    group = chat_services.group_create(user=alice, title="Desk", member_usernames=["bob"])
    url = f"{media_site.url}/chat/{group.pk}/"
    chart = tmp_path / "chart.png"
    chart.write_bytes(png(1200, 800, color=(20, 140, 90)))
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"buy low, sell high\n")
    with open_page(browser, media_site, alice) as a, open_page(browser, media_site, bob) as b:
        for watched in (a, b):
            watched.page.goto(url)
            watched.page.wait_for_selector(ONLINE)
        a.page.set_input_files("#composer input[type=file]", [str(chart), str(notes)])
        a.page.wait_for_function("() => document.querySelectorAll('.attachment-tray li.ready').length === 2")
        a.page.fill("#id_body", "today's chart")
        a.page.press("#id_body", "Enter")

        thumb = b.page.locator("#message-list .attachment-image img").last
        thumb.wait_for()
        b.page.wait_for_function(
            "() => { const img = document.querySelector('#message-list .attachment-image img');"
            " return img && img.complete && img.naturalWidth === 480; }"
        )
        card = b.page.locator("#message-list .attachment-file").last
        assert card.locator(".attachment-name").text_content() == "notes.txt"
        assert card.locator(".attachment-size").text_content() == "19 bytes"
        # The thumbnail opens the full image in a new tab.
        with b.page.context.expect_page() as opened:
            thumb.click()
        full = opened.value
        full.wait_for_load_state()
        assert full.evaluate("() => [document.images[0].naturalWidth, document.images[0].naturalHeight]") == [1200, 800]
        full.close()
        # After a reload the server-rendered page shows the same.
        b.page.reload()
        b.page.wait_for_selector(ONLINE)
        assert b.page.locator("#message-list .attachment-image img").count() == 1
        assert b.page.locator("#message-list .attachment-file .attachment-name").text_content() == "notes.txt"

    image = Attachment.objects.get(kind="image")
    attachment_url = f"/api/v1/attachments/{image.pk}"
    assert client_for(bob).get(attachment_url).status_code == 302
    refused = client_for(carol).get(attachment_url)
    assert (refused.status_code, refused.json()["code"]) == (404, "attachment_not_found")
    assert Client().get(attachment_url).status_code in {401, 403}

    for viewport in (PHONE, DESKTOP):
        for scheme in ("light", "dark"):
            with open_page(browser, media_site, bob, viewport=viewport, color_scheme=scheme) as watched:
                watched.page.goto(url)
                watched.page.wait_for_selector(ONLINE)
                watched.page.wait_for_function(
                    "() => [...document.querySelectorAll('#message-list img')].every(i => i.complete && i.naturalWidth)"
                )
                # Nothing wider than the screen.
                assert watched.page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
                shoot(watched.page, f"chat-attachments-{scheme}")
