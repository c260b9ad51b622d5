"""The identity provider's access tokens (Cognito's) sign in to GraphQL, over HTTP and on the socket."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts import services
from accounts.tests.test_tokens import access_claims, carol, id_claims  # noqa: F401 (carol: fixture)
from stockchat.asgi import application
from testsupport.graphql import GraphQLSocket

ME = "{ conversations { id } }"


def graphql(token: str):
    body = json.dumps({"query": ME})
    return Client().post("/graphql/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.mark.django_db
def test_access_token_signs_in_over_http(carol, signing_key):  # noqa: F811
    response = graphql(signing_key.sign(access_claims(signing_key)))
    assert response.json() == {"data": {"conversations": []}}


@pytest.mark.django_db
def test_id_token_is_refused_with_the_rest_code(carol, signing_key):  # noqa: F811
    response = graphql(signing_key.sign(id_claims(signing_key)))
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "wrong_token_use"


@pytest.mark.django_db(transaction=True)
async def test_access_token_in_connection_init_signs_in(key_settings, signing_key, ws_headers):
    user = await database_sync_to_async(services.user_from_oidc_claims)(
        issuer=signing_key.issuer, claims=id_claims(signing_key)
    )
    token = signing_key.sign(access_claims(signing_key))
    socket = await GraphQLSocket.open(application, await ws_headers(None), payload={"authorization": f"Bearer {token}"})
    ack = await socket.acked()
    assert ack["payload"] == {"user": user.username}
    await socket.close()
