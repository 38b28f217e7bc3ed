"""Every operator, CIDR ranges in both IP versions, wildcards and AND/OR."""

import pytest

from app.encoding import JsonValue
from app.errors import BadUserInput
from app.models import ConditionLogic
from app.services.conditions import Given, all_match, evaluate, event_matches, parse

PAYLOAD: JsonValue = {
    "ipAddress": "10.1.2.3",
    "ipv6": "2001:db8::42",
    "user": {"id": "u1", "plan": "pro", "tags": ["beta", "staff"]},
    "attempts": 5,
    "email": "ann@example.com",
    "flag": True,
}


def cond(field: str, operator: str, value: JsonValue = None) -> Given:
    return Given(field=field, operator=operator, value=value)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (cond("user.plan", "eq", "pro"), True),
        (cond("user.plan", "eq", "free"), False),
        (cond("user.plan", "neq", "free"), True),
        (cond("missing", "neq", "x"), True),
        (cond("user.plan", "in", ["pro", "team"]), True),
        (cond("user.plan", "not_in", ["pro"]), False),
        (cond("missing", "not_in", ["pro"]), True),
        (cond("email", "contains", "@example"), True),
        (cond("user.tags", "contains", "staff"), True),
        (cond("user.tags", "contains", "admin"), False),
        (cond("email", "starts_with", "ann"), True),
        (cond("email", "starts_with", "bob"), False),
        (cond("attempts", "gt", 4), True),
        (cond("attempts", "gt", 5), False),
        (cond("attempts", "gte", 5), True),
        (cond("attempts", "lt", 5), False),
        (cond("attempts", "lte", 5), True),
        (cond("user.plan", "gt", 1), False),  # not a number: no match, no error
        (cond("flag", "gt", 0), False),  # booleans are not numbers here
        (cond("user.id", "exists"), True),
        (cond("user.nope", "exists"), False),
        (cond("user.nope", "exists", False), True),
        (cond("missing", "eq", None), False),
        # CIDR, IPv4 and IPv6, as in the source's ipAddress not_in 192.168.1.0/24
        (cond("ipAddress", "in", ["10.0.0.0/8"]), True),
        (cond("ipAddress", "not_in", ["192.168.1.0/24"]), True),
        (cond("ipAddress", "not_in", ["10.1.0.0/16"]), False),
        (cond("ipv6", "in", ["2001:db8::/32"]), True),
        (cond("ipv6", "in", ["10.0.0.0/8"]), False),
        (cond("ipAddress", "in", ["2001:db8::/32", "10.1.2.3"]), True),
        (cond("user.plan", "in", ["10.0.0.0/8"]), False),  # not an address
    ],
)
def test_each_operator(condition: Given, expected: bool) -> None:
    [parsed] = parse([condition])  # every case here is a valid rule

    assert evaluate(parsed, PAYLOAD) is expected


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        (cond("", "eq", 1), "conditions[0].field"),
        (cond("a..b", "eq", 1), "conditions[0].field"),
        (cond("a", "matches", 1), "conditions[0].operator"),
        (cond("a", "in", "10.0.0.0/8"), "conditions[0].value"),
        (cond("a", "in", []), "conditions[0].value"),
        (cond("a", "in", ["10.0.0.0/33"]), "conditions[0].value"),
        (cond("a", "gt", "five"), "conditions[0].value"),
        (cond("a", "gt", True), "conditions[0].value"),
        (cond("a", "starts_with", 3), "conditions[0].value"),
        (cond("a", "exists", "yes"), "conditions[0].value"),
        (cond("a", "eq", {"x": 1}), "conditions[0].value"),
    ],
)
def test_conditions_that_cannot_be_evaluated_are_refused(condition, field) -> None:
    with pytest.raises(BadUserInput) as refused:
        parse([condition])

    assert refused.value.extensions["field"] == field


def test_event_patterns() -> None:
    assert event_matches(["auth.login_failed"], "auth.login_failed")
    assert event_matches(["auth.*"], "auth.login_failed")
    assert not event_matches(["auth.*"], "authx.login")
    assert not event_matches(["billing.*"], "auth.login_failed")
    assert event_matches(["*"], "anything.at_all")


def test_and_or_logic() -> None:
    yes, no = parse([cond("attempts", "gt", 1), cond("attempts", "gt", 100)])
    both, either = ConditionLogic.AND, ConditionLogic.OR

    assert all_match(both, [yes, yes], PAYLOAD) and not all_match(both, [yes, no], PAYLOAD)
    assert all_match(either, [no, yes], PAYLOAD) and not all_match(either, [no, no], PAYLOAD)
    assert all_match(both, [], PAYLOAD) and all_match(either, [], PAYLOAD)
