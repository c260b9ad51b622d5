import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from trading.models import TimeInForce
from trading.tests.conftest import new_stock

pytestmark = pytest.mark.django_db


def test_home_page_says_what_stockchat_is(client):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Trade and talk about stocks" in body
    assert 'href="/accounts/login/"' in body


def test_signed_in_home_page_offers_sign_out_by_post(client, make_user):
    client.force_login(make_user("alice"))
    body = client.get("/").content.decode()
    assert "Signed in as <strong>alice</strong>" in body
    assert 'method="post" action="/accounts/logout/"' in body


def test_admin_requires_staff(client, make_user):
    assert client.get("/admin/").status_code == 302
    client.force_login(make_user("alice"))
    assert client.get("/admin/").status_code == 302
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    assert client.get("/admin/").status_code == 200


def test_unknown_host_is_refused(client):
    assert client.get("/", HTTP_HOST="evil.example").status_code == 400


def test_production_static_files_use_hashed_names(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    assert (tmp_path / "staticfiles.json").exists()
    with override_settings(DEBUG=False):
        body = Client().get("/").content.decode()
    assert "/static/css/stockchat." in body
    assert 'href="/static/css/stockchat.css"' not in body


FAVICON = '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">'


def test_the_admin_has_the_sites_favicon(client):
    body = client.get("/admin/login/").content.decode()
    assert FAVICON in body


def test_graphiql_has_the_sites_favicon(client, make_user):
    # Without it the browser asks for /favicon.ico: a 404 in the console of a signed-in page.
    client.force_login(make_user())
    body = client.get("/graphql/", headers={"Accept": "text/html"}).content.decode()
    assert "GraphiQL" in body
    assert FAVICON in body


def test_one_spelling_of_canceled_on_the_pages(client, make_user):
    assert TimeInForce.GTC.label == "Good till canceled"
    client.force_login(make_user("alice"))
    new_stock("ACME")
    body = client.get("/stocks/ACME/").content.decode()
    assert "cancelled" not in body.lower()
    assert "Good till canceled" in body
