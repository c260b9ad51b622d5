"""Every page's markup, read as a screen reader or keyboard user meets it: every form control has a
label, ids are unique, headings start at one h1, images have text, buttons and links have names, and
every id an aria-* attribute points at exists."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from chat import services as chat_services
from trading import services
from trading.tests.conftest import new_stock

pytestmark = pytest.mark.django_db

FORM_CONTROLS = {"input", "select", "textarea"}
UNLABELLED_TYPES = {"hidden", "submit", "button"}
# Attributes that name other elements by id (a space-separated list).
ID_REFERENCES = ("aria-describedby", "aria-labelledby", "aria-controls")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """The facts the checks need, collected in one pass."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.label_for: set[str] = set()
        self.controls: list[dict] = []
        self.headings: list[str] = []
        self.images: list[dict] = []
        self.html_lang: str | None = None
        self.label_depth = 0
        self.named: list[dict] = []  # buttons and links, with the text inside them
        self.open_named: list[dict] = []
        self.references: list[tuple[str, str, str]] = []  # (tag, attribute, id)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if "id" in attributes:
            self.ids.append(attributes["id"])
        for name in ID_REFERENCES:
            self.references += [(tag, name, target) for target in attributes.get(name, "").split()]
        if tag == "html":
            self.html_lang = attributes.get("lang")
        elif tag == "label":
            self.label_depth += 1
            if attributes.get("for"):
                self.label_for.add(attributes["for"])
        elif tag in FORM_CONTROLS and attributes.get("type") not in UNLABELLED_TYPES:
            self.controls.append({**attributes, "tag": tag, "wrapped": self.label_depth > 0})
        elif tag in {"h1", "h2", "h3", "h4"}:
            self.headings.append(tag)
        elif tag == "img":
            self.images.append(attributes)
        if tag in {"button", "a"}:
            entry = {"tag": tag, "attrs": attributes, "text": ""}
            self.named.append(entry)
            self.open_named.append(entry)
        for entry in self.open_named:
            if tag == "img" and attributes.get("alt"):
                entry["text"] += attributes["alt"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth -= 1
        if tag in {"button", "a"} and self.open_named:
            self.open_named.pop()

    def handle_data(self, data: str) -> None:
        for entry in self.open_named:
            entry["text"] += data


def check(html: str, url: str) -> None:
    page = Page()
    page.feed(html)
    assert page.html_lang == "en", url
    duplicates = {i for i in page.ids if page.ids.count(i) > 1}
    assert not duplicates, f"{url}: duplicate ids {duplicates}"
    for control in page.controls:
        labelled = control["wrapped"] or control.get("id") in page.label_for or control.get("aria-label")
        assert labelled, f"{url}: <{control['tag']} name={control.get('name')!r}> has no label"
    assert page.headings.count("h1") == 1, f"{url}: {page.headings.count('h1')} h1 headings"
    assert page.headings[0] == "h1", f"{url}: the first heading is {page.headings[0]}"
    for image in page.images:
        assert "alt" in image, f"{url}: an image without alt text"
    for tag, attribute, target in page.references:
        assert target in page.ids, f"{url}: <{tag} {attribute}> points at a missing id {target!r}"
    for entry in page.named:
        name = entry["text"].strip() or entry["attrs"].get("aria-label", "").strip()
        assert name, f"{url}: a <{entry['tag']}> with no accessible name ({entry['attrs']})"


@pytest.fixture
def alice(make_user):
    new_stock("ACME")
    new_stock("BOLT")
    user = make_user("alice")
    bob = make_user("bob")
    for person in (user, bob):
        services.account_open(user=person)
    services.order_place(user=user, symbol="ACME", side="buy", quantity=2)
    services.order_place(user=user, symbol="BOLT", side="buy", type="limit", quantity=1, limit_price="1.00")
    cancelled = services.order_place(user=user, symbol="BOLT", side="buy", type="limit", quantity=1, limit_price="1.00")
    services.order_cancel(user=user, order_id=cancelled.pk)
    account_services.api_token_create(user=user, name="price export script")
    services.watchlist_create(owner=user, name="Favourites", symbols=["ACME", "BOLT"])
    services.watchlist_create(owner=user, name="Later", symbols=[])
    group = chat_services.group_create(user=user, title="Desk", member_usernames=["bob"])
    chat_services.message_send(user=bob, conversation_id=group.pk, body="hello")
    chat_services.stock_room_join(user=user, symbol="ACME")
    user.group_id = group.pk
    return user


def test_signed_out_pages(client):
    for url in ["/", reverse("login"), reverse("signup"), reverse("password_reset")]:
        response = client.get(url)
        assert response.status_code == 200, url
        check(response.content.decode(), url)
    # Sent back with errors: each field then points at its help text and at its error list.
    response = client.post(reverse("signup"), {"username": "", "email": "x", "password1": "a", "password2": "b"})
    html = response.content.decode()
    assert 'aria-describedby="id_email_helptext id_email_error"' in html
    check(html, "signup with errors")


def test_signed_in_pages(alice):
    client = Client()
    client.force_login(alice)
    urls = [
        "/",
        reverse("dashboard"),
        reverse("stock_list"),
        reverse("stock_detail", args=["ACME"]),
        reverse("stock_detail", args=["BOLT"]),
        reverse("portfolio"),
        reverse("chat"),
        reverse("conversation", args=[alice.group_id]),
        reverse("account"),
        reverse("password_change"),
        reverse("api_tokens"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        check(response.content.decode(), url)
    # The order ticket after a refused review, with its errors on screen.
    response = client.post(reverse("order_ticket", args=["ACME"]), {"side": "buy", "type": "limit", "quantity": "0"})
    assert response.status_code == 400
    check(response.content.decode(), "order ticket with errors")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('<h1>x</h1><input name="q">', "has no label"),
        ('<h1>x</h1><p id="a"></p><p id="a"></p>', "duplicate ids"),
        ("<h1>x</h1><h1>y</h1>", "2 h1 headings"),
        ("<h2>x</h2><h1>y</h1>", "the first heading is h2"),
        ('<h1>x</h1><img src="a.png">', "without alt text"),
        ('<h1>x</h1><button type="submit"> </button>', "no accessible name"),
        ('<h1>x</h1><input aria-label="q" aria-describedby="q_helptext">', "missing id 'q_helptext'"),
        ('<h1 id="t">x</h1><section aria-labelledby="t gone"></section>', "missing id 'gone'"),
        ('<h1>x</h1><button aria-controls="menu">Menu</button>', "missing id 'menu'"),
    ],
)
def test_the_checks_catch_what_they_look_for(body, problem):
    with pytest.raises(AssertionError, match=problem):
        check(f'<html lang="en"><body>{body}</body></html>', "sample")
