"""The shared input checks: JSON that every client can read back and both databases store."""

import math

import pytest

from app.errors import BadUserInput
from app.services.validation import (
    check_category_filter,
    check_json,
    check_kept_json,
    is_storable,
)


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_a_number_json_cannot_carry_is_refused_with_its_path(number: float) -> None:
    with pytest.raises(BadUserInput) as refused:
        check_json("data", {"items": [1, {"price": number}]})

    assert refused.value.extensions == {"code": "BAD_USER_INPUT", "field": "data"}
    assert "data.items[1].price" in str(refused.value)


def test_json_deeper_than_the_limit_is_refused() -> None:
    with pytest.raises(BadUserInput, match="deeper than 3"):
        check_json("payload", {"a": {"b": {"c": {"d": 1}}}}, max_depth=3)


def test_json_larger_than_the_limit_is_refused_by_its_encoded_bytes() -> None:
    check_json("data", {"s": "é" * 40}, max_bytes=100)

    with pytest.raises(BadUserInput, match="at most 100"):
        check_json("data", {"s": "é" * 50}, max_bytes=100)  # 50 characters, 100 bytes


def test_ordinary_json_passes() -> None:
    check_json("data", {"n": 1.5, "big": 2**70, "list": [None, True, "x"], "nested": {"a": []}})
    check_json("data", None)


def test_text_with_nul_or_an_unpaired_surrogate_cannot_be_stored() -> None:
    assert is_storable("plain, émoji 🔔")
    assert not is_storable("a\x00b") and not is_storable("a\ud800b")


def test_a_category_filter_may_be_any_text_up_to_a_categorys_length() -> None:
    check_category_filter(["has space", "x" * 100])

    with pytest.raises(BadUserInput):
        check_category_filter(["x" * 101], field="categories")


def test_json_kept_as_a_whole_column_may_not_be_a_bare_string() -> None:
    # given JSON kept as a column's whole value: any JSON passes but a bare string
    check_kept_json("data", {"text": "words"})
    check_kept_json("data", 5)

    with pytest.raises(BadUserInput) as refused:
        check_kept_json("data", "words")
    assert refused.value.extensions == {"code": "BAD_USER_INPUT", "field": "data"}


def test_json_kept_as_a_whole_column_is_checked_as_any_json() -> None:
    with pytest.raises(BadUserInput, match="Infinity"):
        check_kept_json("payload", {"score": math.inf})
