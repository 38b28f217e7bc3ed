import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.types import ExecutionContext

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
from app.graphql.preferences import PreferenceMutation, PreferenceQuery
from app.graphql.publishing import EventMutation, PublishingMutation
from app.graphql.rendering import EventExecutor
from app.graphql.rules import RuleMutation, RuleQuery
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
):
    pass


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """ErrorPolicy logs what is unexpected; expected errors are the client's business."""


@strawberry.type
class Subscription(InboxSubscription, DeliverySubscription):
    pass


LIMITS = [
    *QueryDepthLimiter(max_depth=12).validation_rules,
    *MaxAliasesLimiter(max_alias_count=30).validation_rules,
]

schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    execution_context_class=EventExecutor,
    # Few extensions on purpose: each one adds hooks to every subscription event.
    extensions=[
        ErrorPolicy,
        # Producers and browsers send the same few documents over and over.
        lambda: ValidationCache(maxsize=256),
        lambda: AddValidationRules(LIMITS),
    ],
)
