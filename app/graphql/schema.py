import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.types import ExecutionContext

from app.graphql.errors import ErrorPolicy
from app.graphql.inbox import InboxMutation, InboxQuery, InboxSubscription
from app.graphql.publishing import PublishingMutation
from app.graphql.users import UserMutation, UserQuery


@strawberry.type
class Query(UserQuery, InboxQuery):
    pass


@strawberry.type
class Mutation(UserMutation, PublishingMutation, InboxMutation):
    pass


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """ErrorPolicy logs what is unexpected; expected errors are the client's business."""


@strawberry.type
class Subscription(InboxSubscription):
    pass


schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        ErrorPolicy,
        lambda: QueryDepthLimiter(max_depth=12),
        lambda: MaxAliasesLimiter(max_alias_count=30),
    ],
)
