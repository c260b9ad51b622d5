"""docs/asyncapi.yaml: a sound document, the same frames as docs/websocket.md, and used by every socket test."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from testsupport.socket_contract import ContractCommunicator, ContractViolation, contract

ROOT = Path(__file__).resolve().parent.parent.parent
PROSE = (ROOT / "docs" / "websocket.md").read_text()


def section(title: str) -> str:
    """The text under a ``#``-heading of docs/websocket.md, up to the next heading of any level."""
    match = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#)", PROSE, flags=re.MULTILINE | re.DOTALL)
    assert match, f"docs/websocket.md has no section {title!r}"
    return match.group(1)


def first_column_names(text: str) -> set[str]:
    """The backticked names in the first column of the Markdown table(s) in ``text``."""
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            names.update(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return names


def test_every_schema_is_a_valid_json_schema_and_every_reference_resolves():
    document = contract().document
    for schema in document["components"]["schemas"].values():
        Draft7Validator.check_schema(schema)
    text = json.dumps(document)
    for ref in set(re.findall(r'"\$ref": "(#/[^"]+)"', text)):
        node = document
        for part in ref[2:].split("/"):
            assert part in node, f"{ref} does not resolve"
            node = node[part]


def test_each_message_is_named_after_its_frame_type_and_used_by_an_operation():
    document = contract().document
    used = {
        message["$ref"].rsplit("/", 1)[1]
        for operation in document["operations"].values()
        for message in operation["messages"]
    }
    assert used == set(document["channels"]["socket"]["messages"])
    for name, message in document["components"]["messages"].items():
        schema = document["components"]["schemas"][message["payload"]["$ref"].rsplit("/", 1)[1]]
        assert message["title"] == schema["properties"]["type"]["const"], name


def test_docs_list_exactly_the_frame_types_of_the_contract():
    assert first_column_names(section("Client → server")) == set(contract().client_frames)
    assert first_column_names(section("Server → client")) == set(contract().server_frames)


def test_every_error_code_in_the_docs_is_known_to_the_contract():
    described = set(re.findall(r"`([a-z_]+)`", contract().document["components"]["schemas"]["error"]["description"]))
    documented = first_column_names(section("Errors"))
    assert documented, "docs/websocket.md lists no error codes"
    assert documented <= described, f"add to the error frame's description: {sorted(documented - described)}"


def test_the_docs_example_frames_follow_the_contract():
    checked = 0
    for arrow, text in re.findall(r"^(→|←) (\{.*\})$", PROSE, flags=re.MULTILINE):
        if "..." in text:
            continue  # abridged in the docs
        frame = json.loads(text)
        if arrow == "←":
            contract().check_server_frame(text)
        else:
            assert not list(contract().client_frames[frame["type"]].iter_errors(frame)), text
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "hello", "v": 1}',  # a required field missing
        '{"type": "hello", "v": 2, "user": "alice"}',  # another protocol version
        '{"type": "hello", "v": 1, "user": "alice", "extra": true}',  # a field the contract does not name
        '{"type": "quote.updated", "v": 1, "quote": {"symbol": "ACME", "price": 101.25, "previous_close": "1",'
        ' "change": "1", "at": "2026-11-22T10:15:02+00:00"}}',  # money as a float
        '{"type": "launch.missiles"}',  # no such frame
        "[1]",
    ],
)
def test_frames_that_break_the_contract_are_caught(text):
    with pytest.raises(ContractViolation):
        contract().check_server_frame(text)


def test_error_frames_may_carry_codes_added_later():
    contract().check_server_frame('{"type": "error", "code": "some_future_code", "detail": "Why.", "ref": 3}')
    contract().check_server_frame('{"type": "chat.resumed", "conversation_ids": [1], "ref": null, "more": [1]}')


def test_every_socket_test_checks_frames_against_the_contract():
    """A test that opens /ws/ of the app with Channels' plain communicator would skip the contract."""
    offenders = []
    paths = [path for app in ("accounts", "chat", "stockchat", "trading") for path in (ROOT / app).rglob("test_*.py")]
    assert len(paths) > 20
    for path in paths:
        if path == Path(__file__):
            continue
        text = path.read_text()
        opens_ws = '"/ws/"' in text or "'/ws/'" in text  # /graphql/ speaks graphql-transport-ws instead
        if (
            opens_ws
            and "stockchat.asgi import application" in text
            and "channels.testing import WebsocketCommunicator" in text
        ):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [], f"use {ContractCommunicator.__module__}.ContractCommunicator in {offenders}"


def test_the_order_updated_frame_documents_the_rest_apis_order(tmp_path):
    # One order shape (trading.events.order_data): the AsyncAPI frame and the OpenAPI Order list the same fields.
    import yaml
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target))
    rest = yaml.safe_load(target.read_text())["components"]["schemas"]["Order"]
    frame = contract().document["components"]["schemas"]["order.updated"]["properties"]["order"]
    assert set(frame["properties"]) == set(rest["properties"])
    # Every key is always present in both; the frame's schema says so for all of them.
    assert set(frame["required"]) == set(frame["properties"]) >= set(rest["required"])
