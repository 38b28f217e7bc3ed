"""A fuzz run over the whole schema: generated queries, mutations and subscriptions for every
root field, sent by a valid API key, a tenant owner and callers with bad credentials. Whatever
they send, the answer is JSON, never a 5xx, and every error carries a known `extensions.code`
with a message written for the caller: no masked INTERNAL_SERVER_ERROR (a bug the server hid),
no exception text and no traceback.

Queries and mutations come from schemathesis (positive cases, and negative ones that break the
schema); it does not generate subscriptions, so those come from the same generator pointed at
the Subscription type. Generation is derandomized and done once, before any request, so a run
is repeatable and no database time counts against Hypothesis. BELFRY_FUZZ_EXAMPLES sets the
examples per root field and mode (see docs/security.md for the long run)."""

import base64
import json
import os
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Any

import graphql
import jwt
import pytest
import schemathesis
import websockets
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from schemathesis import BaseSchema, Case, GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.graphql import nodes
from websockets.exceptions import ConnectionClosed

from app.graphql.schema import schema as belfry_schema
from app.models import Delivery, DeliveryStatus
from app.services.conditions import OPERATORS
from tests.conftest import LiveServer
from tests.helpers import (
    ISSUE_TOKEN,
    Api,
    TenantAccess,
    make_tenant,
    make_user,
    publish,
    signing_secret_of,
)
from tests.wsclient import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

READ_ALL = "mutation { markAllNotificationsRead { marked } }"
EXAMPLES = int(os.environ.get("BELFRY_FUZZ_EXAMPLES", "3"))
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)

KNOWN_CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "INVALID_NOTIFICATION_IDS",
    "RATE_LIMITED",
}
# What exception text and tracebacks look like; none of it is ever meant for a caller.
INTERNAL_MARKERS = (
    "Traceback (most recent call last)",
    '.py", line',
    "tortoise",
    "asyncpg",
    "sqlite",
    "IntegrityError",
    "OperationalError",
    "NoneType",
    "object has no attribute",
    "unexpected keyword argument",
    "positional argument",
    "not subscriptable",
    "not iterable",
    "unhashable type",
    "invalid literal for",
    "could not convert",
    "index out of range",
    "division by zero",
    "maximum recursion depth",
    "KeyError",
    "TypeError",
    "AttributeError",
    "ValueError",
    "OverflowError",
    "UNIQUE constraint",
    "violates",
    "orjson",
)

# Channel config keys and loopback targets (the SSRF rules must refuse them): generated JSON
# reaches config checks and target checks, not just the JSON encoder. Loopback only: a fuzz
# run must never send anything beyond this machine, even if a check were broken.
JSON_KEYS = (
    *("url", "webhookUrl", "host", "port", "botToken", "chatId", "apiBaseUrl", "from"),
    *("ipAddress", "user", "id", "link", "text"),  # what rule conditions look at
)
LOOPBACK_TARGETS = ("http://127.0.0.1:1/", "http://[::1]:1/", "http://localhost:1/", "127.0.0.1")


def value_node(value: Any) -> graphql.ValueNode:
    """A GraphQL literal for a JSON value; infinite floats as the literal 1e999."""
    if value is None:
        return nodes.Null
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, float):
        if value in (float("inf"), float("-inf")):
            return graphql.FloatValueNode(value="1e999" if value > 0 else "-1e999")
        return nodes.Float(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([value_node(item) for item in value])
    return nodes.Object(
        [
            graphql.ObjectFieldNode(name=graphql.NameNode(value=key), value=value_node(item))
            for key, item in value.items()
        ]
    )


def json_values() -> st.SearchStrategy[Any]:
    keys = st.sampled_from(JSON_KEYS) | st.from_regex(r"\A[_A-Za-z][_0-9A-Za-z]{0,8}\Z")
    leaves = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=20)
        | st.sampled_from(LOOPBACK_TARGETS)
    )
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=12,
    )


# Times at the ends of the calendar, in UTC and at offsets, and text that is no time at all.
EDGE_TIMES = (
    *("0001-01-01T00:00:00+05:00", "0001-01-01T00:00:00", "0001-01-01T00:00:00-05:00"),
    *("9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59.999999+00:00", "9999-12-31"),
    *("", "now", "2024-13-45T25:61:00", "2024-02-30T00:00:00Z", "0"),
)


def cursor(text: str | bytes) -> str:
    return base64.urlsafe_b64encode(text.encode() if isinstance(text, str) else text).decode()


# Cursors Belfry did not write: at the ends of the calendar, without an offset, not a cursor.
FORGED_CURSORS = (
    *(cursor(f"{time}|{uuid.UUID(int=1)}") for time in EDGE_TIMES),
    *(cursor("2024-05-01T12:00:00+00:00|x"), cursor("|"), "=", "%%%", cursor(b"\xff\xfe|")),
)


def date_times() -> st.SearchStrategy[str]:
    """ISO date-times from year 1 to 9999, naive or with any offset, and a few that are not."""
    offsets = st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)).map(
        timezone
    )
    valid = st.datetimes(timezones=st.none() | st.just(UTC) | offsets).map(datetime.isoformat)
    return valid | st.sampled_from(EDGE_TIMES)


# The generator knows GraphQL's own scalars; Belfry's are registered here.
schemathesis.graphql.scalar("JSON", json_values().map(value_node))
schemathesis.graphql.scalar("DateTime", date_times().map(nodes.String))


@dataclass(frozen=True)
class Operation:
    label: str  # "Mutation.createRule"
    query: str
    negative: bool


def _generated(schema: BaseSchema, root: str, name: str, mode: GenerationMode) -> list[str]:
    strategy = schema[root][name].as_strategy(generation_mode=mode)
    bodies: list[str] = []

    # Generation only: no shrinking, no example database, no deadline, the same every run.
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    @given(strategy)
    def collect(case: Case[Any]) -> None:
        assert isinstance(case.body, str)  # a GraphQL case's body is its document
        bodies.append(case.body)

    collect()
    return bodies


def _operations(sdl: str, as_subscriptions: bool = False) -> list[Operation]:
    schema = schemathesis.graphql.from_file(sdl, config=SchemathesisConfig())
    found = []
    for root in schema:
        for name in schema[root]:
            for mode in MODES:
                for body in _generated(schema, root, name, mode):
                    query = _as_subscription(body) if as_subscriptions else body
                    label = f"{'Subscription' if as_subscriptions else root}.{name}"
                    found.append(Operation(label, query, mode == GenerationMode.NEGATIVE))
    return found


def _as_subscription(body: str) -> str:
    document = graphql.parse(body)
    definitions = tuple(
        replace(d, operation=graphql.OperationType.SUBSCRIPTION)
        if isinstance(d, graphql.OperationDefinitionNode)
        else d
        for d in document.definitions
    )
    return graphql.print_ast(graphql.DocumentNode(definitions=definitions))


@cache
def queries_and_mutations() -> list[Operation]:
    return _operations(belfry_schema.as_str())


@cache
def subscriptions() -> list[Operation]:
    # The generator writes queries and mutations only: it is shown a schema whose query type
    # is Belfry's Subscription type, and what it writes is sent as subscriptions.
    source = belfry_schema._schema
    assert source.subscription_type is not None
    shadow = graphql.GraphQLSchema(query=source.subscription_type, types=source.type_map.values())
    return _operations(graphql.print_schema(shadow), as_subscriptions=True)


def root_fields(root: graphql.GraphQLObjectType | None) -> set[str]:
    return {f"{root.name}.{name}" for name in root.fields} if root else set()


# What the fuzz tenant holds, so that generated ids and names sometimes hit real records.


@dataclass
class Pool:
    notification_ids: list[str]
    delivery_ids: list[str]
    rule_ids: list[str]
    spare_key_ids: list[str]  # never the key the fuzz run calls with
    external_ids: list[str]  # never the owner's, whom an erasure or upsert would change
    categories: list[str]
    cursors: list[str]

    def ids_for(self, root_field: str) -> list[str]:
        lowered = root_field.lower()
        if "rule" in lowered:
            return self.rule_ids
        if "deliver" in lowered:
            return self.delivery_ids
        if "apikey" in lowered:
            return self.spare_key_ids
        return self.notification_ids

    def values(self, root_field: str, argument: str) -> list[str]:
        return {
            "id": self.ids_for(root_field),
            "ids": self.notification_ids,
            "notificationId": self.notification_ids,
            "ruleId": self.rule_ids,
            "externalId": self.external_ids,
            "recipients": self.external_ids,
            "category": self.categories,
            "categories": self.categories,
            "type": self.categories,
            "key": self.categories,
            "events": ["*", "auth.*", *self.categories],
            "field": ["ipAddress", "user.id", "link"],
            "operator": sorted(OPERATORS),
            "after": self.cursors,
        }.get(argument, [])

    @staticmethod
    def numbers(argument: str) -> list[int]:
        """Numbers within the bounds, and at them, where a random one would be refused."""
        return {
            "first": [1, 2, 50, 200],
            "offset": [0, 1, 3],
            "ttlSeconds": [60, 3600, 2592000],
            "retentionDays": [1, 90, 3650],
            "purgeDeletedAfterDays": [1, 90, 3650],
            "emailRateLimitSeconds": [0, 60, 2592000],
            "graceSeconds": [0, 86400, 2592000],
        }.get(argument, [])


@dataclass(frozen=True)
class Caller:
    kind: str  # "apiKey", "owner" or "invalid"
    authorization: str | None

    def headers(self) -> dict[str, str]:
        return {"authorization": self.authorization} if self.authorization else {}


@dataclass
class Fuzzed:
    tenant: TenantAccess
    pool: Pool
    api_key: Caller
    owner: Caller
    owner_token: str
    invalid: list[Caller]

    def callers(self, index: int) -> list[Caller]:
        """The good callers, and one bad credential in turn: the kinds send as many each."""
        return [self.api_key, self.owner, self.invalid[index % len(self.invalid)]]

    async def renew_owner_token(self, api: Api) -> None:
        """A rotated signing secret retires the owner's token (at once without grace, or at
        the next rotation): the owner goes on with a token of the current secret."""
        issued = await api.data(
            ISSUE_TOKEN, {"externalId": "fuzz-owner"}, token=self.tenant.api_key
        )
        self.owner_token = issued["issueUserToken"]["token"]
        self.owner = Caller("owner", f"Bearer {self.owner_token}")


async def given_a_fuzz_tenant(api: Api) -> Fuzzed:
    tenant = await make_tenant("Fuzz")
    owner = await make_user(api, tenant, "fuzz-owner", role="OWNER", email="owner@example.com")
    member = await make_user(
        api, tenant, "fuzz-member", email="member@example.com", phone="+15550100"
    )
    published = await publish(api, tenant, [owner.external_id, member.external_id])
    await publish(api, tenant, [owner.external_id], category="auth.welcome", data={"a": [1]})
    rule = {
        "name": "fuzz rule",
        "events": ["auth.*"],
        "actions": [{"channel": "IN_APP", "recipients": [member.external_id, "role:ADMIN"]}],
    }
    created = await api.data(
        "mutation($input: RuleInput!) { createRule(input: $input) { id } }",
        {"input": rule},
        token=tenant.api_key,
    )
    spare = await api.data(
        'mutation { createApiKey(name: "spare") { apiKey { id } } }', None, tenant.api_key
    )
    found = await api.data(
        "{ deliveries { edges { node { id } } } notifications { edges { cursor node { id } } } }",
        token=owner.token,
    )
    secret = await signing_secret_of(tenant.tenant_id)
    delivery_ids = [edge["node"]["id"] for edge in found["deliveries"]["edges"]]
    # One delivery that gave up, so retryDelivery has something to retry.
    await Delivery.filter(id=delivery_ids[0]).update(
        status=DeliveryStatus.FAILED, attempt_count=8, last_error="gave up"
    )
    pool = Pool(
        notification_ids=[
            *published["notificationIds"],
            *(edge["node"]["id"] for edge in found["notifications"]["edges"]),
        ],
        delivery_ids=delivery_ids,
        rule_ids=[created["createRule"]["id"]],
        spare_key_ids=[spare["createApiKey"]["apiKey"]["id"]],
        external_ids=[member.external_id, "fuzz-newcomer"],
        categories=["billing.low_balance", "auth.welcome", "auth.login_failed"],
        cursors=[*(edge["cursor"] for edge in found["notifications"]["edges"]), *FORGED_CURSORS],
    )
    return Fuzzed(
        tenant=tenant,
        pool=pool,
        api_key=Caller("apiKey", f"Bearer {tenant.api_key}"),
        owner=Caller("owner", f"Bearer {owner.token}"),
        owner_token=owner.token,
        invalid=[Caller("invalid", value) for value in bad_credentials(tenant, secret)],
    )


def bad_credentials(tenant: TenantAccess, signing_secret: str) -> list[str | None]:
    """Every way a credential can be wrong, and none at all."""
    claims = {"sub": "fuzz-owner", "tid": tenant.tenant_id, "iat": time.time()}
    later = datetime.now(UTC) + timedelta(hours=1)
    earlier = datetime.now(UTC) - timedelta(hours=1)
    return [
        "Bearer bfk_" + "x" * 43,  # shaped like a key, but no key
        "Bearer "
        + jwt.encode(
            {**claims, "exp": later}, "not-the-tenants-signing-secret-" * 2, algorithm="HS256"
        ),
        "Bearer " + jwt.encode({**claims, "exp": earlier}, signing_secret, algorithm="HS256"),
        "Bearer " + jwt.encode({"tid": "not-a-uuid", "exp": later}, "x" * 32, algorithm="HS256"),
        "Bearer not-a-token",
        "Basic Zm9vOmJhcg==",
        None,
    ]


# Each case is sent as generated, or with real ids put in and its arguments moved into
# variables (which take another path through the server: JSON in the body, variable coercion).


def prepared(
    operation: Operation, pool: Pool, rng: random.Random
) -> tuple[str, dict[str, Any] | None]:
    document = graphql.parse(operation.query)
    definition = next(
        d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode)
    )
    root, *others = definition.selection_set.selections
    assert isinstance(root, graphql.FieldNode)
    arguments = list(root.arguments or ())
    if rng.random() < 0.5:
        arguments = [
            replace(a, value=_real(root.name.value, a.name.value, a.value, pool, rng))
            for a in arguments
        ]
    declared: list[graphql.VariableDefinitionNode] = []
    variables = None
    if rng.random() < 0.5:
        arguments, declared, variables = _hoisted(operation.label, root.name.value, arguments)
    selections = (replace(root, arguments=tuple(arguments)), *others)
    changed = replace(
        definition,
        variable_definitions=(*(definition.variable_definitions or ()), *declared),
        selection_set=replace(definition.selection_set, selections=selections),
    )
    definitions = tuple(changed if d is definition else d for d in document.definitions)
    return graphql.print_ast(graphql.DocumentNode(definitions=definitions)), variables


def _real(
    root_field: str, name: str, value: graphql.ValueNode, pool: Pool, rng: random.Random
) -> graphql.ValueNode:
    """`value` with some of its strings, at any depth, replaced by real ids and names, and
    some of its numbers by ones within bounds."""
    choices = pool.values(root_field, name)
    if isinstance(value, graphql.StringValueNode) and choices and rng.random() < 0.7:
        return graphql.StringValueNode(value=rng.choice(choices))
    numbers = pool.numbers(name)
    if isinstance(value, graphql.IntValueNode) and numbers and rng.random() < 0.7:
        return graphql.IntValueNode(value=str(rng.choice(numbers)))
    if isinstance(value, graphql.ListValueNode):
        items = tuple(_real(root_field, name, item, pool, rng) for item in value.values)
        return replace(value, values=items)
    if isinstance(value, graphql.ObjectValueNode):
        fields = tuple(
            replace(f, value=_real(root_field, f.name.value, f.value, pool, rng))
            for f in value.fields
        )
        return replace(value, fields=fields)
    return value


def _hoisted(
    label: str, root_field: str, arguments: list[graphql.ArgumentNode]
) -> tuple[list[graphql.ArgumentNode], list[graphql.VariableDefinitionNode], dict[str, Any] | None]:
    """The arguments as variables, declared with the schema's types (a negative case's unknown
    argument stays a literal)."""
    root_type = belfry_schema._schema.get_type(label.split(".")[0])
    assert isinstance(root_type, graphql.GraphQLObjectType)
    definition = root_type.fields.get(root_field)
    if definition is None:
        return arguments, [], None
    variables: dict[str, Any] = {}
    declared = []
    hoisted = []
    for argument in arguments:
        name = argument.name.value
        if name not in definition.args:
            hoisted.append(argument)
            continue
        variable = graphql.VariableNode(name=graphql.NameNode(value=name))
        variables[name] = graphql.value_from_ast_untyped(argument.value)
        hoisted.append(replace(argument, value=variable))
        type_node = graphql.parse_type(str(definition.args[name].type))
        declared.append(graphql.VariableDefinitionNode(variable=variable, type=type_node))
    return hoisted, declared, variables


# What every answer must be.


def problems_with_errors(errors: Any) -> list[str]:
    if not isinstance(errors, list):
        return [f"errors is not a list: {errors!r}"]
    found = []
    for error in errors:
        code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
        message = error.get("message", "") if isinstance(error, dict) else ""
        if code is None:
            found.append(f"an error without extensions.code: {error!r}")
        elif code == "INTERNAL_SERVER_ERROR":
            found.append(f"a masked unexpected error: {error!r}")
        elif code not in KNOWN_CODES:
            found.append(f"an error with code {code}: {error!r}")
        if any(marker in str(message) for marker in INTERNAL_MARKERS):
            found.append(f"an unmasked internal message: {message!r}")
    return found


def problems_with(status: int, content_type: str, text: str) -> list[str]:
    found = []
    if status >= 500:
        found.append(f"HTTP {status}")
    if "Traceback (most recent call last)" in text:
        found.append("a traceback in the body")
    try:
        body = json.loads(text)
    except ValueError:
        return [*found, f"a body that is not JSON ({content_type})"]
    if not content_type.startswith("application/json"):
        found.append(f"JSON served as {content_type}")
    if not isinstance(body, dict) or not ({"data", "errors"} & body.keys()):
        return [*found, "a body that is not a GraphQL response"]
    return found + problems_with_errors(body.get("errors", []))


def _carried_out(text: str) -> bool:
    try:
        body = json.loads(text)
    except ValueError:
        return False
    return isinstance(body, dict) and not body.get("errors") and body.get("data") is not None


@dataclass
class Tally:
    """Figures of a run, per caller kind, printed at the end (`pytest -s` shows them)."""

    requests: Counter[str] = field(default_factory=Counter)
    server_errors: Counter[str] = field(default_factory=Counter)
    unmasked: Counter[str] = field(default_factory=Counter)
    masked: Counter[str] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)  # heard on sockets
    carried_out: Counter[str] = field(default_factory=Counter)  # answered without errors
    fields_carried_out: Counter[str] = field(default_factory=Counter)
    findings: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def record(
        self, kind: str, what: str, problems: list[str], label: str = "", carried_out: bool = False
    ) -> None:
        self.requests[kind] += 1
        self.carried_out[kind] += carried_out
        if label:
            self.fields_carried_out[label] += carried_out
        self.server_errors[kind] += any(p.startswith("HTTP 5") for p in problems)
        self.unmasked[kind] += any("unmasked" in p or "traceback" in p for p in problems)
        self.masked[kind] += any("masked unexpected" in p for p in problems)
        if problems:
            self.findings.append(f"{kind} {what}\n  " + "\n  ".join(problems))

    def summary(self, name: str) -> str:
        kinds = sorted(self.requests)
        per_kind = ", ".join(f"{kind} {self.requests[kind]}" for kind in kinds)
        return (
            f"{name}: {sum(self.requests.values())} requests ({per_kind}), "
            f"5xx {sum(self.server_errors.values())}, "
            f"unmasked {sum(self.unmasked.values())}, "
            f"masked unexpected {sum(self.masked.values())}, "
            f"carried out without errors {sum(self.carried_out.values())}, "
            + (f"{sum(self.messages.values())} messages heard, " if self.messages else "")
            + f"{time.monotonic() - self.started:.1f} s"
            + self._never_carried_out()
        )

    def _never_carried_out(self) -> str:
        # Where generated cases never got past the checks: the run says nothing deep of these.
        never = sorted(label for label, count in self.fields_carried_out.items() if not count)
        return f"; never carried out: {', '.join(never)}" if never else ""

    def assert_clean(self, name: str) -> None:
        print(f"\n{self.summary(name)}")
        shown = "\n".join(self.findings[:10])
        assert not self.findings, f"{len(self.findings)} bad answers; the first:\n{shown}"


def test_every_root_field_is_fuzzed() -> None:
    # given the schema's root fields, when cases are generated, then each has some
    graphql_schema = belfry_schema._schema
    expected = (
        root_fields(graphql_schema.query_type)
        | root_fields(graphql_schema.mutation_type)
        | root_fields(graphql_schema.subscription_type)
    )
    generated = {op.label for op in queries_and_mutations()} | {op.label for op in subscriptions()}
    assert generated == expected


async def test_no_query_or_mutation_gets_a_bad_answer(api: Api) -> None:
    # given a tenant with users, notifications, a rule and deliveries, and each kind of caller
    fuzzed = await given_a_fuzz_tenant(api)
    tally = Tally()

    # when each caller sends every generated query and mutation
    for index, operation in enumerate(queries_and_mutations()):
        for kind in range(len(fuzzed.callers(index))):
            caller = fuzzed.callers(index)[kind]  # as of now: a rotation renews the owner's
            rng = random.Random(f"{index}:{caller.kind}")
            query, variables = prepared(operation, fuzzed.pool, rng)
            body = json.dumps({"query": query, "variables": variables})  # lets 1e999 through
            response = await api.client.post(
                "/graphql",
                content=body,
                headers={"content-type": "application/json", **caller.headers()},
            )
            content_type = response.headers.get("content-type", "")
            problems = problems_with(response.status_code, content_type, response.text)
            mode = " (negative)" if operation.negative else ""
            what = f"{operation.label}{mode}: {query} {variables or ''} -> {response.text[:500]}"
            done = _carried_out(response.text)
            tally.record(caller.kind, what, problems, operation.label, done)
            if operation.label == "Mutation.rotateSigningSecret":
                await fuzzed.renew_owner_token(api)

    # then no answer is a 5xx, an unexpected error or exception text
    tally.assert_clean("queries and mutations")


# The envelope around a query, which schemathesis leaves alone: methods, content types and
# bodies that are not GraphQL requests. (method, query string, content type, body)
RAW_REQUESTS: list[tuple[str, str, str | None, bytes]] = [
    *((method, "", "application/json", b"{}") for method in ("PUT", "PATCH", "DELETE", "OPTIONS")),
    *(
        ("POST", "", content_type, b'{"query": "{ viewer { id } }"}')
        for content_type in (
            "text/plain",
            "application/graphql",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            None,
        )
    ),
    *(
        ("POST", "", "application/json", body)
        for body in (
            b'"a string"',
            b"5",
            b"null",
            b"[]",
            b"[5]",
            b'[{"query": "{ viewer { id } }"}]',
            b"{}",
            b'{"query": 5}',
            b'{"query": ["{ viewer { id } }"]}',
            b'{"query": "{ viewer { id } }", "variables": "x"}',
            b'{"query": "{ viewer { id } }", "extensions": 5}',
            b'{"query": "{ viewer { id } }", "operationName": 5}',
            b'{"query": "{ viewer { id } }", "operationName": "Nope"}',
            b'{"query": "query A { viewer { id } } query B { unreadCount }"}',
            b'{"query": "subscription { unreadCount }"}',
            b'{"query": "query($n: Int) { notifications(first: $n) { totalCount } }", '
            b'"variables": {"n": NaN}}',
            b'{"query": "{ viewer { id } }", "x": "\xff\xfe"}',
            b"{not json",
            b"[" * 3000 + b"]" * 3000,
        )
    ),
    *(
        ("GET", query, None, b"")
        for query in (
            "",
            "?query={viewer{id}}",
            "?query=mutation{deleteReadNotifications{deleted}}",
            "?query=subscription{unreadCount}",
            "?query={viewer{id}}&variables=1",
            "?query={viewer{id}}&variables={not",
        )
    ),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # refused before it, mostly
async def test_no_request_around_a_query_gets_a_bad_answer(api: Api) -> None:
    # given a fuzz tenant and each kind of caller
    fuzzed = await given_a_fuzz_tenant(api)
    tally = Tally()

    # when each sends every request shape
    for caller in (fuzzed.api_key, fuzzed.owner, *fuzzed.invalid):
        for method, query_string, content_type, body in RAW_REQUESTS:
            # An API client's Accept: a browser's gets GraphiQL outside production.
            headers = caller.headers() | {"accept": "application/json"}
            headers |= {"content-type": content_type} if content_type else {}
            response = await api.client.request(
                method, "/graphql" + query_string, content=body, headers=headers
            )
            problems = problems_with(
                response.status_code, response.headers.get("content-type", ""), response.text
            )
            what = f"{method} {query_string} {content_type} {body[:100]!r} -> {response.text[:300]}"
            tally.record(caller.kind, what, problems, carried_out=_carried_out(response.text))

    # then each answer is GraphQL JSON with a known code, never a 5xx
    tally.assert_clean("requests around a query")


async def open_socket(
    server: LiveServer, caller: Caller, protocol: str = TRANSPORT_WS
) -> GraphQLSocket:
    connection = await websockets.connect(server.ws_url, subprotocols=[protocol])  # type: ignore[list-item]
    socket = GraphQLSocket(connection, protocol)
    payload = {"authorization": caller.authorization} if caller.authorization else {}
    await socket.send({"type": "connection_init", "payload": payload})
    return socket


def problems_with_message(message: dict[str, Any]) -> list[str]:
    """graphql-transport-ws's next/error/complete, and graphql-ws's data/error/complete (whose
    error carries one error, not a list)."""
    kind = message.get("type")
    payload = message.get("payload")
    if kind in ("next", "data"):
        if not isinstance(payload, dict) or not ({"data", "errors"} & payload.keys()):
            return [f"a result that is not a GraphQL response: {message!r}"]
        return problems_with_errors(payload.get("errors", []))
    if kind == "error":
        return problems_with_errors([payload] if isinstance(payload, dict) else payload)
    if kind == "complete":
        return []
    return [f"an unexpected message: {message!r}"]


PER_SOCKET = 50  # well within the operations one socket may run


async def heard_on_one_socket(
    server: LiveServer,
    live_api: Api,
    fuzzed: Fuzzed,
    caller: Caller,
    batch: list[tuple[int, Operation]],
    tally: Tally,
    protocol: str,
) -> None:
    """Subscribes to each of `batch` on one socket, makes things happen, and checks all that
    the socket says within a second."""
    socket = await open_socket(server, caller, protocol)
    await socket.acknowledged()
    sent: dict[str, str] = {}
    for index, operation in batch:
        rng = random.Random(f"{index}:{caller.kind}")
        query, variables = prepared(operation, fuzzed.pool, rng)
        sent[await socket.subscribe(query, variables)] = f"{operation.label}: {query} {variables}"
    await publish(live_api, fuzzed.tenant, ["fuzz-owner", "fuzz-member"], title="news")
    await live_api.call(READ_ALL, token=fuzzed.owner_token)
    try:
        heard, closed = await socket.received_within(1.0), None
    except ConnectionClosed as error:
        heard, closed = [], error
    await socket.close()

    tally.messages[caller.kind] += len(heard)
    found: dict[str, list[str]] = {op: [] for op in sent}
    carried: set[str] = set()
    for message in heard:
        found.setdefault(str(message.get("id")), []).extend(problems_with_message(message))
        if message.get("type") in ("next", "data") and not message["payload"].get("errors"):
            carried.add(str(message.get("id")))
    for op, problems in found.items():
        label = sent.get(op, "").split(":")[0]
        tally.record(caller.kind, sent.get(op, f"message {op}"), problems, label, op in carried)
    if closed is not None:
        tally.record(caller.kind, "the socket", [f"closed: {closed}"])


async def next_within(socket: GraphQLSocket, seconds: float) -> dict[str, Any] | None:
    try:
        return await socket.receive(timeout=seconds)
    except TimeoutError:
        return None


# Frames a client may send after connection_init that are not a well-formed subscribe.
RAW_FRAMES: list[str | bytes] = [
    "not json",
    b"\x00binary",
    "[]",
    '{"type": "no-such-type"}',
    '{"type": "subscribe"}',
    '{"id": "1", "type": "subscribe", "payload": {"query": 5}}',
    '{"id": "1", "type": "subscribe", "payload": {}}',
    '{"id": "1", "type": "subscribe", "payload": 5}',
    '{"id": "1", "type": "subscribe"}',
    '{"type": 5}',
    '{"id": 5, "type": "subscribe", "payload": {"query": "subscription { unreadCount }"}}',
    '{"id": "1", "type": "subscribe", "payload": {"query": "{ viewer { id } }", "variables": 5}}',
    '{"id": "1", "type": "subscribe", "payload": {"query": "mutation { deleteReadNotifications '
    '{ deleted } }"}}',
    '{"id": "x", "type": "complete"}',
    '{"type": "connection_init", "payload": {}}',
    '{"type": "ping", "payload": 5}',
]
# How a socket may end: normally, on a binary frame (1002), or with one of
# graphql-transport-ws's refusals.
CLEAN_CLOSES = {1000, 1002, 4400, 4401, 4403, 4409, 4429}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # frames barely reach it
@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_no_frame_on_a_socket_gets_a_bad_answer(
    server: LiveServer, live_api: Api, protocol: str
) -> None:
    # given a fuzz tenant's owner, on a socket of their own per frame
    fuzzed = await given_a_fuzz_tenant(live_api)
    tally = Tally()
    frames = [*RAW_FRAMES, "x" * (2 * 1024 * 1024)]
    if protocol == LEGACY_WS:  # the legacy protocol's names for the same messages
        frames = [f.replace('"subscribe"', '"start"') if isinstance(f, str) else f for f in frames]

    caller = fuzzed.owner
    for frame in frames:
        socket = await open_socket(server, caller, protocol)
        await socket.acknowledged()

        # when it sends a frame that is no well-formed subscribe
        await socket.connection.send(frame)
        problems: list[str] = []
        rejected = False
        try:
            while message := await next_within(socket, 0.15):
                # The legacy protocol refuses a connection_init so, then closes with 1011.
                rejected |= message.get("type") == "connection_error"
                if not rejected:
                    problems += problems_with_message(message)
            await socket.close()
        except ConnectionClosed as closed:
            # then the socket stays, answers with a coded error, or closes with a reason
            code = closed.rcvd.code if closed.rcvd else None
            if code not in CLEAN_CLOSES and not (rejected and code == 1011):
                problems.append(f"closed with {code}")
        tally.record(caller.kind, f"frame {frame[:100]!r}", problems)

    tally.assert_clean(f"frames on a {protocol} socket")


# The legacy protocol differs in its frames, not in what reaches the database.
@pytest.mark.parametrize(
    ("database_url", "protocol"),
    [("sqlite", TRANSPORT_WS), ("postgres", TRANSPORT_WS), ("sqlite", LEGACY_WS)],
    indirect=["database_url"],
)
async def test_no_subscription_gets_a_bad_answer(
    server: LiveServer, live_api: Api, protocol: str
) -> None:
    # given a fuzz tenant, and each kind of caller on sockets of their own
    fuzzed = await given_a_fuzz_tenant(live_api)
    tally = Tally()

    # when a bad credential opens a socket, then it is refused (graphql-transport-ws closes
    # with 4403; graphql-ws says connection_error, then closes), nothing else
    for caller in fuzzed.invalid:
        socket = await open_socket(server, caller, protocol)
        if protocol == TRANSPORT_WS:
            closed = await socket.close_frame()
            problems = [] if closed and closed[0] == 4403 else [f"closed with {closed}"]
        else:
            refusal = await socket.result()
            problems = [] if refusal["type"] == "connection_error" else [f"answered {refusal}"]
            await socket.close_frame()
        tally.record(caller.kind, f"connection_init {caller.authorization}", problems)

    # when a good caller subscribes to every generated subscription, and things happen, then
    # every message is a result, an error with a known code, or the end of a stream
    cases = list(enumerate(subscriptions()))
    for caller in (fuzzed.api_key, fuzzed.owner):
        for start in range(0, len(cases), PER_SOCKET):
            batch = cases[start : start + PER_SOCKET]
            await heard_on_one_socket(server, live_api, fuzzed, caller, batch, tally, protocol)

    tally.assert_clean(f"subscriptions on {protocol}")
