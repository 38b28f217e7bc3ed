"""Expected failures. graphql-core copies `extensions` from the original exception onto the
GraphQL error, so services raise these without knowing about GraphQL."""

from app.encoding import JsonObject, JsonValue


class BelfryError(Exception):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extra: JsonValue) -> None:
        super().__init__(message)
        self.extensions: JsonObject = {"code": self.code, **extra}


class Unauthenticated(BelfryError):
    code = "UNAUTHENTICATED"


class Forbidden(BelfryError):
    code = "FORBIDDEN"


class NotFound(BelfryError):
    code = "NOT_FOUND"


class BadUserInput(BelfryError):
    code = "BAD_USER_INPUT"


class RateLimited(BelfryError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retryAfterSeconds=retry_after)
        self.retry_after = retry_after


class InvalidNotificationIds(BelfryError):
    code = "INVALID_NOTIFICATION_IDS"

    def __init__(self, invalid_ids: list[str]) -> None:
        super().__init__(
            f"{len(invalid_ids)} notification id(s) do not exist or are not yours",
            invalidIds=[*invalid_ids],
        )


class ServiceUnavailable(BelfryError):
    """The database (or another service Belfry needs) cannot be reached; try again later."""

    code = "SERVICE_UNAVAILABLE"
