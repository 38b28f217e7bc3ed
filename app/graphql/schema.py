from collections.abc import AsyncGenerator, Callable, Iterable
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES, StreamResult
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from app.errors import BadUserInput
from app.graphql import enums  # noqa: F401  (registers every enum, before any type uses one)
from app.graphql.catalog import CatalogMutation, CatalogQuery
from app.graphql.channels import ChannelMutation, ChannelQuery
from app.graphql.deliveries import (
    DeliveryMutation,
    DeliveryQuery,
    DeliverySubscription,
    TestNotificationMutation,
)
from app.graphql.errors import ErrorPolicy
from app.graphql.inbox import InboxMutation, InboxQuery, InboxSubscription
from app.graphql.limits import RequestLimits, refusal
from app.graphql.log_fields import LogFields
from app.graphql.metrics import OperationMetrics
from app.graphql.preferences import PreferenceMutation, PreferenceQuery
from app.graphql.publishing import EventMutation, PublishingMutation, ScheduledQuery
from app.graphql.rendering import EventExecutor
from app.graphql.rules import RuleMutation, RuleQuery
from app.graphql.scalars import DATE_TIME
from app.graphql.teams import TeamMutation, TeamQuery
from app.graphql.tenants import TenantMutation, TenantQuery
from app.graphql.users import UserMutation, UserQuery


@strawberry.type
class Query(
    UserQuery,
    InboxQuery,
    CatalogQuery,
    PreferenceQuery,
    TenantQuery,
    ChannelQuery,
    DeliveryQuery,
    RuleQuery,
    ScheduledQuery,
    TeamQuery,
):
    pass


@strawberry.type
class Mutation(
    UserMutation,
    PublishingMutation,
    InboxMutation,
    CatalogMutation,
    PreferenceMutation,
    TenantMutation,
    ChannelMutation,
    DeliveryMutation,
    TestNotificationMutation,
    RuleMutation,
    EventMutation,
    TeamMutation,
):
    pass


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """ErrorPolicy logs what is unexpected; expected errors are the client's business."""

    # A document is refused for its length before Strawberry parses it; extensions only
    # start once it is parsed.
    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        if error := _refusal(query, variable_values, context_value):
            return ExecutionResult(data=None, errors=[error])
        # Subscriptions are served on websockets and as multipart HTTP streams (stream, below).
        # Executed once, as over plain HTTP, a subscription's resolver hands back a stream
        # where a value belongs: a bare error. Refused here, the view answers 400.
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        result = await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed - {OperationType.SUBSCRIPTION},
            operation_extensions,
        )
        if result.errors and not all(_has_code(error) for error in result.errors):
            # A failure inside an extension's hooks escapes ErrorPolicy, which runs in them:
            # masked here, so its message never reaches the client.
            result.errors = ErrorPolicy().mask(result.errors)
        return result

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> StreamResult:
        if error := _refusal(query, variable_values, context_value):
            return _refused(error)
        return await super().stream(query, variable_values, context_value, *args, **kwargs)


def _has_code(error: GraphQLError) -> bool:
    return "code" in (error.extensions or {})


def _refusal(query: str | None, variables: Any, context: Any) -> GraphQLError | None:
    if not isinstance(query, str | None):
        # Over HTTP Strawberry checks this itself; in a websocket's subscribe it does not.
        return GraphQLError(
            "The query must be a string", extensions={"code": BadUserInput.code, "field": "query"}
        )
    settings = getattr(context, "settings", None)
    if settings is None or not isinstance(variables, dict | None):
        return None
    return refusal(query, variables, settings)


async def _refused(error: GraphQLError) -> AsyncGenerator[PreExecutionError, None]:
    yield PreExecutionError(data=None, errors=[error])


@strawberry.type
class Subscription(InboxSubscription, DeliverySubscription):
    pass


schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    execution_context_class=EventExecutor,
    scalar_overrides={datetime: DATE_TIME},
    # Few extensions on purpose: each one adds hooks to every subscription event.
    extensions=[
        OperationMetrics,  # first, so that it sees the errors as ErrorPolicy lets them out
        ErrorPolicy,
        RequestLimits,  # sizes, depth, cost; and remembers valid documents of signed-in callers
        LogFields,
    ],
)


def with_extensions(
    extra: Iterable[type[SchemaExtension] | Callable[[], SchemaExtension]],
) -> Schema:
    """The same schema with `extra` extensions running around its own (tracing's)."""
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        execution_context_class=EventExecutor,
        scalar_overrides={datetime: DATE_TIME},
        extensions=[*extra, *schema.extensions],
    )
