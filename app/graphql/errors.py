"""Expected errors keep their message and code; anything else is masked and logged."""

import logging
import uuid

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from app.errors import BelfryError

logger = logging.getLogger("belfry.graphql")


def is_expected(error: GraphQLError) -> bool:
    # No path means the request itself was rejected (syntax, validation, variables).
    return isinstance(error.original_error, BelfryError) or error.path is None


class ErrorPolicy(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not is_expected(error))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = uuid.uuid4().hex[:16]
        logger.error(
            "unexpected error %s at %s",
            request_id,
            error.path,
            exc_info=error.original_error or error,
        )
        return GraphQLError(
            message=f"Unexpected error (request id {request_id}).",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )

    def _process_result(self, result: object) -> None:
        # The base class checks a runtime Protocol here, which is slow, and this runs per event.
        if errors := getattr(result, "errors", None):
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            if error.extensions is None or "code" not in error.extensions:
                error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
        return processed
