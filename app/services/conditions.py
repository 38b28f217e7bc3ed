"""Rule conditions over an event's payload: checked when a rule is saved, evaluated per event.

A condition is {field, operator, value}; `field` is a dotted path into the payload. `in` and
`not_in` treat list items written as CIDR ranges ("192.168.1.0/24", "2001:db8::/32") as
networks that an IP address in the payload may fall in."""

import ipaddress
from collections.abc import Callable
from typing import Any

from app.errors import BadUserInput
from app.services.validation import check_json

MISSING = object()
NUMERIC = {"gt", "gte", "lt", "lte"}
OPERATORS = {"eq", "neq", "in", "not_in", "contains", "starts_with", "exists"} | NUMERIC


def check(conditions: list[dict[str, Any]]) -> None:
    """Refuses, naming the field, any condition that could not be evaluated."""
    for index, condition in enumerate(conditions):
        where = f"conditions[{index}]"
        field, operator, value = (
            condition.get("field"),
            condition.get("operator"),
            condition.get("value"),
        )
        if not isinstance(field, str) or not field or any(not part for part in field.split(".")):
            raise BadUserInput(
                f"{where}.field must be a dotted path like ip or user.id", field=f"{where}.field"
            )
        if operator not in OPERATORS:
            raise BadUserInput(
                f"{where}.operator must be one of {', '.join(sorted(OPERATORS))}",
                field=f"{where}.operator",
            )
        check_json(f"{where}.value", value)
        problem = _value_problem(operator, value)
        if problem:
            raise BadUserInput(f"{where}.value {problem}", field=f"{where}.value")


def _value_problem(operator: str, value: Any) -> str | None:
    if operator in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            return "must be a non-empty list"
        for item in value:
            if isinstance(item, str) and "/" in item and _network(item) is None:
                return f"has {item!r}, which is not a CIDR range"
    elif operator in NUMERIC:
        if not _is_number(value):
            return "must be a number"
    elif operator == "starts_with":
        if not isinstance(value, str):
            return "must be a string"
    elif operator == "exists":
        if value is not None and not isinstance(value, bool):
            return "must be true, false or left out"
    elif isinstance(value, (dict, list)) and operator != "contains":
        return "must be a single value"
    return None


def evaluate(condition: dict[str, Any], payload: Any) -> bool:
    actual = lookup(payload, condition["field"])
    operator, value = condition["operator"], condition.get("value")
    if operator == "exists":
        return (actual is not MISSING) == (True if value is None else value)
    if actual is MISSING:
        return operator in ("neq", "not_in")
    test: Callable[[Any, Any], bool] = TESTS[operator]
    return test(actual, value)


def lookup(payload: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(payload, dict) or part not in payload:
            return MISSING
        payload = payload[part]
    return payload


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _member(actual: Any, items: list[Any]) -> bool:
    for item in items:
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


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    return lambda actual, value: _is_number(actual) and op(actual, value)


TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda actual, value: actual == value,
    "neq": lambda actual, value: actual != value,
    "in": _member,
    "not_in": lambda actual, value: not _member(actual, value),
    "contains": lambda actual, value: (
        str(value) in actual
        if isinstance(actual, str)
        else isinstance(actual, list) and value in actual
    ),
    "starts_with": lambda actual, value: isinstance(actual, str) and actual.startswith(value),
    "gt": _compare(lambda a, b: a > b),
    "gte": _compare(lambda a, b: a >= b),
    "lt": _compare(lambda a, b: a < b),
    "lte": _compare(lambda a, b: a <= b),
}


def event_matches(patterns: list[str], event_type: str) -> bool:
    """Exact names, "prefix.*" for a whole family, "*" for everything."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def all_match(logic: str, conditions: list[dict[str, Any]], payload: Any) -> bool:
    results = (evaluate(c, payload) for c in conditions)
    return any(results) if logic == "OR" and conditions else all(results)
