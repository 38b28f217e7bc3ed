"""Rule conditions over an event's payload: checked when a rule is saved, evaluated per event.

A condition is {field, operator, value}; `field` is a dotted path into the payload. `in` and
`not_in` treat list items written as CIDR ranges ("192.168.1.0/24", "2001:db8::/32") as
networks that an IP address in the payload may fall in."""

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TypeGuard

from app.encoding import JsonValue
from app.errors import BadUserInput
from app.models import Condition, ConditionLogic, Operator
from app.services.validation import check_json

NUMERIC = {Operator.GT, Operator.GTE, Operator.LT, Operator.LTE}
OPERATORS = {operator.value for operator in Operator}


class Missing(Enum):
    """What lookup finds where the payload has nothing."""

    MISSING = "missing"


MISSING = Missing.MISSING


@dataclass(frozen=True, slots=True)
class Given:
    """A condition as a client writes it, before parse checks it."""

    field: str
    operator: str
    value: JsonValue = None


def parse(given: Sequence[Given]) -> list[Condition]:
    """The conditions, refusing, naming the field, any that could not be evaluated."""
    return [_parsed(f"conditions[{index}]", condition) for index, condition in enumerate(given)]


def _parsed(where: str, given: Given) -> Condition:
    field, value = given.field, given.value
    if not field or any(not part for part in field.split(".")):
        raise BadUserInput(
            f"{where}.field must be a dotted path like ip or user.id", field=f"{where}.field"
        )
    if given.operator not in OPERATORS:
        raise BadUserInput(
            f"{where}.operator must be one of {', '.join(sorted(OPERATORS))}",
            field=f"{where}.operator",
        )
    operator = Operator(given.operator)
    check_json(f"{where}.value", value)
    problem = _value_problem(operator, value)
    if problem:
        raise BadUserInput(f"{where}.value {problem}", field=f"{where}.value")
    return Condition(field=field, operator=operator, value=value)


def _value_problem(operator: Operator, value: JsonValue) -> str | None:
    if operator in (Operator.IN, Operator.NOT_IN):
        if not isinstance(value, list) or not value:
            return "must be a non-empty list"
        for item in value:
            if isinstance(item, str) and "/" in item and _network(item) is None:
                return f"has {item!r}, which is not a CIDR range"
    elif operator in NUMERIC:
        if not _is_number(value):
            return "must be a number"
    elif operator is Operator.STARTS_WITH:
        if not isinstance(value, str):
            return "must be a string"
    elif operator is Operator.EXISTS:
        if value is not None and not isinstance(value, bool):
            return "must be true, false or left out"
    elif isinstance(value, (dict, list)) and operator is not Operator.CONTAINS:
        return "must be a single value"
    return None


def evaluate(condition: Condition, payload: JsonValue) -> bool:
    actual = lookup(payload, condition.field)
    operator, value = condition.operator, condition.value
    if operator is Operator.EXISTS:
        return (actual is not MISSING) == (True if value is None else value)
    if actual is MISSING:
        return operator in (Operator.NEQ, Operator.NOT_IN)
    return TESTS[operator](actual, value)


def lookup(payload: JsonValue, path: str) -> JsonValue | Missing:
    for part in path.split("."):
        if not isinstance(payload, dict) or part not in payload:
            return MISSING
        payload = payload[part]
    return payload


def _is_number(value: JsonValue) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _member(actual: JsonValue, items: JsonValue) -> bool:
    for item in items if isinstance(items, list) else ():
        if isinstance(item, str) and "/" in item:
            network = _network(item)
            try:
                if network is not None and ipaddress.ip_address(str(actual)) in network:
                    return True
            except ValueError:  # not an address, or of the other IP version
                continue
        elif actual == item:
            return True
    return False


def _contains(actual: JsonValue, value: JsonValue) -> bool:
    if isinstance(actual, str):
        return str(value) in actual
    return isinstance(actual, list) and value in actual


def _compare(op: Callable[[float, float], bool]) -> Callable[[JsonValue, JsonValue], bool]:
    def compare(actual: JsonValue, value: JsonValue) -> bool:
        return _is_number(actual) and _is_number(value) and op(actual, value)

    return compare


Test = Callable[[JsonValue, JsonValue], bool]  # (the payload's value, the condition's)

TESTS: dict[Operator, Test] = {
    Operator.EQ: lambda actual, value: actual == value,
    Operator.NEQ: lambda actual, value: actual != value,
    Operator.IN: _member,
    Operator.NOT_IN: lambda actual, value: not _member(actual, value),
    Operator.CONTAINS: _contains,
    Operator.STARTS_WITH: lambda actual, value: (
        isinstance(actual, str) and isinstance(value, str) and actual.startswith(value)
    ),
    Operator.GT: _compare(lambda a, b: a > b),
    Operator.GTE: _compare(lambda a, b: a >= b),
    Operator.LT: _compare(lambda a, b: a < b),
    Operator.LTE: _compare(lambda a, b: a <= b),
}


def event_matches(patterns: list[str], event_type: str) -> bool:
    """Exact names, "prefix.*" for a whole family, "*" for everything."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def all_match(logic: ConditionLogic, conditions: Sequence[Condition], payload: JsonValue) -> bool:
    results = (evaluate(c, payload) for c in conditions)
    return any(results) if logic == ConditionLogic.OR and conditions else all(results)
