"""The GraphQL endpoint itself (stockchat/graphql/): sign-in, CSRF, limits, GraphiQL, the schema file."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts import services as accounts
from core.graphql.limits import MAX_ALIASES, MAX_COST, MAX_DEPTH
from stockchat.graphql.export import SCHEMA_FILE, schema_text

ME = "{ conversations { id } }"


def post(client: Client, query: str, variables: dict | None = None, **headers):
    body = json.dumps({"query": query, "variables": variables or {}})
    return client.post("/graphql/", body, content_type="application/json", headers=headers)


def codes(response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json().get("errors", ())]


def test_schema_file_matches_the_code():
    # make graphql-schema writes it; a change to the schema must come with the file.
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text()


def test_anonymous_request_is_refused_with_a_code(db):
    response = post(Client(), ME)
    assert codes(response) == ["not_authenticated"]


def test_anonymous_may_introspect(db):
    response = post(Client(), "{ __schema { queryType { name } } }")
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


def test_personal_token_signs_in_without_csrf(make_user):
    user = make_user("tokenholder")
    _, secret = accounts.api_token_create(user=user, name="gql")
    client = Client(enforce_csrf_checks=True)
    response = post(client, ME, Authorization=f"Bearer {secret}")
    assert response.status_code == 200
    assert response.json() == {"data": {"conversations": []}}


def test_unknown_token_is_a_401_with_the_rest_code(db):
    response = post(Client(), ME, Authorization="Bearer sct_nope_nope")
    assert response.status_code == 401
    assert codes(response) == ["invalid_token"]


def test_session_post_needs_the_csrf_token(make_user):
    user = make_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    refused = post(client, 'mutation { startDirect(username: "nobody") { id } }')
    assert refused.status_code == 403
    assert codes(refused) == ["csrf_failed"]
    client.get("/graphql/", headers={"Accept": "text/html"})  # the GraphiQL page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    allowed = post(client, ME, **{"X-CSRFToken": token})
    assert allowed.json() == {"data": {"conversations": []}}


def test_mutation_over_get_is_refused(make_user):
    client = Client()
    client.force_login(make_user())
    response = client.get("/graphql/", {"query": 'mutation { startDirect(username: "x") { id } }'})
    assert response.status_code == 400
    assert codes(response) == ["bad_request"]


def test_graphiql_page_is_for_signed_in_users_with_local_assets(make_user):
    assert Client().get("/graphql/", headers={"Accept": "text/html"}).status_code == 302
    client = Client()
    client.force_login(make_user())
    page = client.get("/graphql/", headers={"Accept": "text/html"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "/static/vendor/graphiql/graphiql.min.js" in html
    assert "unpkg" not in html
    assert "jsdelivr" not in html
    assert "<script>" not in html
    assert "<style" not in html


def test_batches_are_refused(make_user):
    client = Client()
    client.force_login(make_user())
    body = json.dumps([{"query": ME}, {"query": ME}])
    response = client.post("/graphql/", body, content_type="application/json")
    assert response.status_code == 400
    assert codes(response) == ["bad_request"]


@pytest.fixture
def signed_in(make_user) -> Client:
    client = Client()
    client.force_login(make_user())
    return client


def test_too_deep_query_is_refused(signed_in):
    # The schema has no cycles, so a document this deep is also invalid; the depth refusal
    # comes first and names the limit.
    nested = "{ watchlists " + "{ stocks " * MAX_DEPTH + "{ symbol }" + " }" * MAX_DEPTH + " }"
    response = post(signed_in, nested)
    assert codes(response)[0] == "too_deep"
    assert f"maximum operation depth of {MAX_DEPTH}" in response.json()["errors"][0]["message"]


def test_too_many_aliases_are_refused(signed_in):
    query = "{ " + " ".join(f"a{i}: conversations {{ id }}" for i in range(MAX_ALIASES + 1)) + " }"
    assert codes(post(signed_in, query)) == ["too_many_aliases"]


def test_too_costly_query_is_refused(signed_in):
    fields = " ".join(["symbol name sector exchange currency tradable halted"] * 1)
    query = (
        "{ stocks(first: 100) { edges { node { " + fields + " quote { price previousClose change at symbol } } } } }"
    )
    wide = "{ " + " ".join(f"s{i}: " + query[2:-2] for i in range(MAX_COST // 1000 + 1)) + " }"
    assert codes(post(signed_in, wide)) == ["too_complex"]


def test_page_size_is_capped(signed_in):
    assert codes(post(signed_in, "{ stocks(first: 101) { edges { cursor } } }")) == ["page_too_large"]


def test_malformed_cursor_is_refused(signed_in):
    assert codes(post(signed_in, '{ stocks(after: "zzz") { edges { cursor } } }')) == ["invalid_cursor"]


def test_a_fault_is_masked_as_internal_error(signed_in, monkeypatch, caplog):
    from chat import selectors

    def broken(**kwargs):
        raise RuntimeError("relation chat_secret_table does not exist")

    monkeypatch.setattr(selectors, "conversation_list", broken)
    response = post(signed_in, ME)
    assert response.json()["errors"][0]["message"] == "Internal error."
    assert codes(response) == ["internal_error"]
    assert "chat_secret_table" not in response.content.decode()
    assert "chat_secret_table" in caplog.text  # logged for the operators
