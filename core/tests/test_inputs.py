"""The one place untrusted ids, text and JSON are parsed (core/inputs.py)."""

from __future__ import annotations

import json

import pytest

from core.inputs import (
    MAX_BIGINT,
    InputError,
    check_text,
    find_forbidden_text,
    json_depth_exceeds,
    loads_json,
    parse_id,
    parse_int,
    require_id,
)


@pytest.mark.parametrize("value", ["1", "42", 7, str(MAX_BIGINT)])
def test_ascii_digits_and_json_integers_are_ids(value):
    assert parse_id(value) == int(value)


@pytest.mark.parametrize(
    "value",
    [
        "²",
        "٣",
        "\uff11",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1_000",
        "1.0",
        "",
        "0",
        "abc",
        "1\x00",
        True,
        1.0,
        None,
        [],
        {},
        str(MAX_BIGINT + 1),
        "9" * 40,
        -5,
        MAX_BIGINT + 1,
    ],
)
def test_anything_else_is_not_an_id(value):
    assert parse_id(value) is None


def test_parse_int_allows_zero_by_default_and_honours_bounds():
    assert parse_int("0") == 0
    assert parse_int("5", maximum=4) is None
    assert parse_int(3, minimum=4) is None


def test_require_id_names_the_field():
    with pytest.raises(InputError) as caught:
        require_id("²", name="after")
    assert caught.value.code == "invalid_id"
    assert "after" in caught.value.detail
    assert caught.value.status == 400


@pytest.mark.parametrize("text", ["a\x00b", "\x07", "\x1b[31m", "\x7f", "\x85", "\ud800"])
def test_control_characters_and_lone_surrogates_are_refused(text):
    with pytest.raises(InputError) as caught:
        check_text(text)
    assert caught.value.code == "control_character"


@pytest.mark.parametrize("text", ["plain", "tab\tand\nlines\r\n", "émoji 📈 ²", ""])
def test_ordinary_text_passes(text):
    assert check_text(text) == text


def test_depth_scan_counts_brackets_outside_strings_only():
    assert not json_depth_exceeds('{"a": "[[[[[[[[[["}', limit=2)
    assert not json_depth_exceeds(r'{"a": "\"[[[[[[[[["}', limit=2)
    assert not json_depth_exceeds(r'{"a\\": [1]}', limit=2)
    assert json_depth_exceeds(r'{"a\\": [[[1]]]}', limit=2)
    assert json_depth_exceeds("[" * 3 + "]" * 3, limit=2)
    assert not json_depth_exceeds(b"[[]]", limit=2)


def test_deep_json_is_refused_before_the_decoder_recurses():
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(InputError) as caught:
        loads_json(deep)
    assert caught.value.code == "too_deep"
    assert loads_json(json.dumps({"a": [[1]]})) == {"a": [[1]]}


def test_malformed_json_is_an_input_error():
    with pytest.raises(InputError) as caught:
        loads_json("{nope")
    assert caught.value.code == "malformed"


def test_forbidden_text_is_found_in_keys_and_nested_values():
    assert find_forbidden_text({"a": ["ok", {"b": "x\x00"}]})
    assert find_forbidden_text({"k\x00": 1})
    assert not find_forbidden_text({"a": ["ok", {"b": 1.5, "c": None}]})
