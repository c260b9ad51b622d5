from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.env import env_bool, env_decimal, env_int, env_list, env_required


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("YES", True), (" on ", True), ("0", False), ("False", False), ("no", False)],
)
def test_booleans_accept_the_usual_words(raw, expected):
    assert env_bool({"FLAG": raw}, "FLAG", default=not expected) is expected


@pytest.mark.parametrize("raw", ["ture", "2", "y", "enabled", "-1"])
def test_junk_boolean_is_an_error_naming_the_variable(raw):
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        env_bool({"FLAG": raw}, "FLAG", default=False)


def test_unset_or_blank_boolean_takes_the_default():
    assert env_bool({}, "FLAG", default=True) is True
    assert env_bool({"FLAG": "  "}, "FLAG", default=False) is False


def test_list_splits_on_commas_and_drops_blanks():
    assert env_list({"HOSTS": "a.example, b.example,,"}, "HOSTS") == ["a.example", "b.example"]
    assert env_list({}, "HOSTS", ["localhost"]) == ["localhost"]


def test_required_variable_missing_names_it():
    with pytest.raises(ImproperlyConfigured, match="SECRET must be set when testing"):
        env_required({"SECRET": " "}, "SECRET", "when testing")


def test_int_with_a_minimum_refuses_smaller_numbers():
    assert env_int({"HOPS": "0"}, "HOPS", 1, minimum=0) == 0
    assert env_int({}, "HOPS", 1, minimum=0) == 1
    with pytest.raises(ImproperlyConfigured, match=r"HOPS='-1' must be 0 or more"):
        env_int({"HOPS": "-1"}, "HOPS", 1, minimum=0)


def test_int_and_decimal_refuse_junk():
    assert env_int({"N": "12"}, "N", 1) == 12
    with pytest.raises(ImproperlyConfigured, match="N="):
        env_int({"N": "twelve"}, "N", 1)
    assert env_decimal({"CASH": "100.50"}, "CASH", "0") == Decimal("100.50")
    for junk in ("lots", "-5", "NaN", "Infinity"):
        with pytest.raises(ImproperlyConfigured, match="CASH"):
            env_decimal({"CASH": junk}, "CASH", "0")
