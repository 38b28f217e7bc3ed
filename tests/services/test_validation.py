"""The shared input checks: JSON that every client can read back and both databases store, and
links that a browser follows only to a web page."""

import math

import pytest

from app.errors import BadUserInput
from app.services.validation import (
    MAX_LINK,
    check_category_filter,
    check_json,
    check_kept_json,
    check_link,
    is_safe_link,
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


SAFE_LINKS = [
    "https://app.example/billing?a=1&b=2#top",
    "http://app.example",
    "HTTPS://App.Example:8443/x",
    "https://[2001:db8::1]/x",
    "https://bücher.example/straße",
    "https://cafe\u0301.example/",
    "/billing",
    "/",
    "/a//b?next=//evil.example",
    "/javascript:alert(1)",
]
UNSAFE_LINKS = [
    "javascript:alert(document.domain)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\x00javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "mailto:a@example.com",
    "ftp://files.example/x",
    "//evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\u00a0/evil.example",
    "/x\u202eevil",
    "/\u200b/evil.example",
    "/x\ud800",
    "https:evil.example",
    "https:/evil.example",
    "https:///evil.example",
    "https://",
    "https://:443/x",
    "https://good.example\\@evil.example",
    "https://user:secret@evil.example/",
    "https://good.example@evil.example/",
    "https://%65vil.example/",
    "https://evil.example:99999/",
    "https://[::1/",
    "https://[v1.x]/",
    "https://evil.example\uff03@good.example/",
    "https://evil.example/ x",
    "billing",
    "./billing",
    "?tab=1",
    "#top",
    "",
]


@pytest.mark.parametrize("link", SAFE_LINKS)
def test_a_web_url_or_a_path_on_the_same_site_is_a_safe_link(link: str) -> None:
    # Given an http(s) URL with a plain host, or a path starting with a single "/"
    # When it is checked, Then it passes
    assert is_safe_link(link)
    check_link("link", link)


@pytest.mark.parametrize("link", UNSAFE_LINKS)
def test_a_link_to_another_scheme_or_that_a_browser_would_read_otherwise_is_refused(
    link: str,
) -> None:
    # Given a link that is not an http(s) URL or a same-site path, or that a browser would
    # read as another scheme or host once it has dropped or replaced some of its characters
    # When it is checked, Then it is refused, naming the field
    assert not is_safe_link(link)
    with pytest.raises(BadUserInput) as refused:
        check_link("actions[1].url", link)
    assert refused.value.extensions == {"code": "BAD_USER_INPUT", "field": "actions[1].url"}


def test_a_link_longer_than_its_column_is_refused() -> None:
    # Given a path as long as the column holds, Then it passes, and one character more does not
    link = "/" + "x" * (MAX_LINK - 1)
    check_link("link", link)

    with pytest.raises(BadUserInput, match=f"at most {MAX_LINK}"):
        check_link("link", link + "x")
