"""Expected errors keep their message and code; anything else is masked and logged. A database
that cannot be reached is SERVICE_UNAVAILABLE (and HTTP 503), not a bug."""

import logging
import traceback
from collections.abc import Iterator
from typing import Any

from graphql.error import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import StreamExecutionResult

from app.db import is_unavailable
from app.errors import BelfryError, ServiceUnavailable
from app.logs import current_request_id

logger = logging.getLogger("belfry.graphql")

# Exceptions often quote what they were given (a 100,000-character category, say): a log line
# keeps at most this much of any of them.
MAX_LOG_LINE = 300
UNAVAILABLE = "The database cannot be reached; try again shortly"


# Strawberry's refusals of a request's shape before it runs: a subscription socket's operation
# that is not a subscription (the legacy graphql-ws), a document with several operations and
# no name, no document at all. They point at no place in the document.
CLIENT_MISTAKES = (
    BelfryError,
    InvalidOperationTypeError,
    CannotGetOperationTypeError,
    MissingQueryError,
)


def is_expected(error: GraphQLError) -> bool:
    if isinstance(error.original_error, CLIENT_MISTAKES):
        return True
    # No path means the request itself was rejected (syntax, validation, variables), pointing
    # into the document; a subscription whose stream failed has neither path nor location.
    return error.path is None and (error.original_error is None or bool(error.nodes))


def clipped(text: str, limit: int = MAX_LOG_LINE) -> str:
    return "\n".join(
        line if len(line) <= limit else f"{line[:limit]}... ({len(line) - limit} more characters)"
        for line in text.splitlines()
    )


def describe(error: BaseException) -> str:
    """The traceback, every line of it clipped."""
    return clipped("".join(traceback.format_exception(error)))


class ErrorPolicy(SchemaExtension):
    """Expected errors go out as they are, given BAD_USER_INPUT where they carry no code;
    anything else is logged and masked, telling the client only its request id. It works on
    Strawberry's public hooks: an operation's result once it has run, and each result of a
    stream as it is yielded."""

    def __init__(self) -> None:
        self._streamed = False  # a stream's results are masked one by one, as they go

    def on_operation(self) -> Iterator[None]:
        self._streamed = False
        yield
        if not self._streamed:
            self._process(self.execution_context.result)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        self._streamed = True
        self._process(result)
        for part in getattr(result, "incremental", None) or ():
            self._process(part)
        for part in getattr(result, "completed", None) or ():
            self._process(part)
        yield

    def _process(self, result: Any) -> None:
        # Read as an attribute: a runtime-checked protocol is slow, and this runs per event.
        if errors := getattr(result, "errors", None):
            result.errors = self.mask(errors)

    def mask(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        """The errors as this policy lets them out (also for those that came past its hooks)."""
        processed = []
        for error in errors:
            if not is_expected(error):
                error = anonymised(error)
            elif error.extensions is None or "code" not in error.extensions:
                error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
            processed.append(error)
        return processed


def anonymised(error: GraphQLError) -> GraphQLError:
    """The error as the client sees it, the original logged with the request id."""
    request_id = current_request_id()
    cause = error.original_error or error
    if is_unavailable(cause):
        logger.warning(
            "database unavailable %s at %s: %s", request_id, error.path, clipped(str(cause))
        )
        code, message = ServiceUnavailable.code, f"{UNAVAILABLE} (request id {request_id})."
    else:
        logger.error("unexpected error %s at %s\n%s", request_id, error.path, describe(cause))
        code, message = "INTERNAL_SERVER_ERROR", f"Unexpected error (request id {request_id})."
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": code, "requestId": request_id},
    )
