"""core.money: the books round half to even, reserves round up, text rounds as the browser does."""

from __future__ import annotations

from decimal import Decimal as D

from core.money import cents_up, display_rounded, has_places, parse_decimal, to_cents


def test_the_books_round_ties_to_even_and_reserves_round_up():
    assert [to_cents(D(v)) for v in ("0.005", "0.015", "0.025", "-0.015")] == [
        D("0.00"),
        D("0.02"),
        D("0.02"),
        D("-0.02"),
    ]
    assert [cents_up(D(v)) for v in ("0.001", "0.010", "-0.019")] == [D("0.01"), D("0.01"), D("-0.01")]


def test_text_rounds_ties_away_from_zero_as_intl_number_format_does():
    assert [display_rounded(D(v)) for v in ("0.005", "0.015", "-0.005")] == [D("0.01"), D("0.02"), D("-0.01")]
    assert display_rounded(D("12.34565"), 4) == D("12.3457")


def test_parsing_refuses_junk_and_infinities():
    assert [parse_decimal(v) for v in (None, "", "x", "inf", "NaN")] == [None] * 5
    assert parse_decimal("1.50") == D("1.50")
    assert parse_decimal(3) == D(3)
    assert has_places(D("1.0050"), D("0.0001"))
    assert not has_places(D("1.00005"), D("0.0001"))
