"""Counts every GraphQL operation and times queries and mutations (app.metrics).

One hook per operation, none per subscription event: a subscription is counted when it ends."""

import time
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from app import metrics

SERVER_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"})
TYPES = {
    OperationType.QUERY: "query",
    OperationType.MUTATION: "mutation",
    OperationType.SUBSCRIPTION: "subscription",
}


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        try:
            kind = TYPES.get(context.operation_type, "unknown")
        except RuntimeError:  # the document did not parse
            kind = "unknown"
        signed_in = getattr(context.context, "principal", None) is not None
        name = metrics.operation_names.label(context.operation_name, signed_in=signed_in)
        errors = context.result.errors if context.result is not None else None
        metrics.GRAPHQL_OPERATIONS.labels(name, kind, outcome(errors)).inc()
        if kind != "subscription":
            metrics.GRAPHQL_DURATION.labels(name, kind).observe(time.perf_counter() - started)


def outcome(errors: list[GraphQLError] | None) -> str:
    if not errors:
        return "ok"
    if any((error.extensions or {}).get("code") in SERVER_CODES for error in errors):
        return "server_error"
    return "client_error"
