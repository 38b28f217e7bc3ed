"""Strawberry's ASGI view with Belfry's HTTP policy.

A body is refused (413) as soon as it passes BELFRY_MAX_BODY_BYTES, before the rest is read;
a caller over its rate limit is refused (429, with Retry-After) once authenticated, before
anything runs, and so is each websocket operation over it, with an error message on the open
socket; and every failure, including those before GraphQL runs (a body that is not JSON, a
database that is down), is answered as GraphQL JSON with an `extensions.code`, never as plain
text; so is an operation over the limit of one websocket, and a frame of the wrong shape closes
its socket with 4400. Answers are in the media type the client prefers (app.http.media), and
subscriptions streamed over HTTP are held by their credential (app.http.streams)."""

import json
import logging
import sys
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, TypedDict, Unpack, cast

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, GraphQLFormattedError
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    Message as TransportMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import OperationMessage, StartMessage
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.graphql import OperationType

from app.db import is_unavailable
from app.encoding import JsonValue
from app.errors import BadUserInput, NotFound, RateLimited, ServiceUnavailable
from app.graphql.context import Context
from app.graphql.errors import UNAVAILABLE, clipped, describe
from app.http import streams
from app.http.graphiql import offline
from app.http.media import GRAPHQL_RESPONSE_JSON, JSON, is_request_error, negotiate
from app.http.ratelimit import RateLimiter
from app.http.registry import CredentialRegistry
from app.logs import current_request_id
from app.settings import Settings

logger = logging.getLogger("belfry.graphql")


class BodyTooLarge(Exception):
    pass


class PostOnly(HTTPException):
    """An operation sent with GET that GraphQL over HTTP sends with POST only."""

    def __init__(self, reason: str) -> None:
        super().__init__(405, reason)


# How to ask for a subscription, for those that asked for one another way.
SUBSCRIBING = (
    "subscriptions are served on websockets (graphql-transport-ws) and over HTTP as a "
    'multipart/mixed stream (POST with Accept: multipart/mixed;subscriptionSpec="1.0")'
)


def error_response(
    status: int, message: str, code: str, media_type: str = JSON, **extensions: JsonValue
) -> Response:
    """A request-level GraphQL error: no data, one error, as GraphQL over HTTP answers."""
    error = {"message": message, "extensions": {"code": code, **extensions}}
    return JSONResponse({"errors": [error]}, status_code=status, media_type=media_type)


def too_many_operations(limit: int) -> GraphQLFormattedError:
    return {
        "message": f"This socket already runs {limit} operations, the most one may run: "
        "complete one, or open another socket",
        "extensions": {"code": BadUserInput.code, "limit": "maxOperationsPerSocket"},
    }


def malformed(
    message: object, needs_id: set[str], needs_payload: set[str], needs_query: bool = False
) -> bool:
    """A frame that is JSON but not a message of the protocol's shape: Strawberry's handlers
    index into it unchecked, and a list or a payload that is a number made them fail and
    drop the connection without a close frame."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return True
    kind = message["type"]
    if kind in needs_id and not isinstance(message.get("id"), str):
        return True
    if kind not in needs_payload:
        return False
    payload = message.get("payload")
    return not isinstance(payload, dict) or (needs_query and "query" not in payload)


# A websocket close reason is at most 123 bytes (RFC 6455).
CLOSE_REASON_BYTES = 123


def refusal(
    websocket: WebSocket | None, message: str, code: str, **extensions: object
) -> ConnectionRejectionError:
    """What on_ws_connect raises to refuse a sign-in: the legacy protocol sends its payload as
    `connection_error`, and graphql-transport-ws closes with 4403 and `message` as the reason
    (WebSocketAdapter), so that a client can tell a bad token from a full server."""
    if websocket is not None:
        websocket.state.refusal = message.encode()[:CLOSE_REASON_BYTES].decode(errors="ignore")
    return ConnectionRejectionError({"message": message, "code": code, **extensions})


class WebSocketAdapter(ASGIWebSocketAdapter):
    """Strawberry closes every refused graphql-transport-ws sign-in with 4403 "Forbidden"."""

    async def close(self, code: int, reason: str) -> None:
        if code == 4403:
            reason = getattr(self.ws.state, "refusal", reason)
        await super().close(code, reason)


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, where each operation counts as one request of the socket's caller
    and a socket runs a bounded number of operations."""

    async def handle_message(self, message: TransportMessage) -> None:
        if malformed(message, needs_id={"subscribe"}, needs_payload={"subscribe"}):
            await self.handle_invalid_message("Failed to parse message")  # closes with 4400
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        # Signed in: the sign-in timeout is moot, and its task and sleep would otherwise stay
        # in memory for the rest of its wait, for every socket that just connected.
        if self.connection_acknowledged and self.connection_init_timeout_task is not None:
            self.connection_init_timeout_task.cancel()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        # Refusals of the protocol itself (not yet acknowledged, a duplicate id) come first.
        if self.connection_acknowledged and message["id"] not in self.operations:
            # Strawberry refuses an operation over its limit with an error that has no code.
            limit = self.max_subscriptions_per_connection
            if limit is not None and len(self.operations) >= limit:
                refusal: GraphQLFormattedError | None = too_many_operations(limit)
            else:
                refusal = await _operation_refusal(self.view, self.context)
            if refusal is not None:
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [refusal]}
                )
                return
        await super().handle_subscribe(message)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """The legacy graphql-ws protocol, where each `start` counts as one request."""

    async def handle_message(self, message: OperationMessage) -> None:
        # The legacy protocol has no code for it; 4400 as graphql-transport-ws says.
        if malformed(message, {"start", "stop"}, needs_payload={"start"}, needs_query=True):
            await self.websocket.close(code=4400, reason="Failed to parse message")
            return
        await super().handle_message(message)

    async def handle_start(self, message: StartMessage) -> None:
        if self.connection_acknowledged:
            # As above; a start that reuses a running id replaces it, so is not over the limit.
            limit = self.max_subscriptions_per_connection
            if limit is not None and message["id"] not in self.tasks and len(self.tasks) >= limit:
                refusal: GraphQLFormattedError | None = too_many_operations(limit)
            else:
                refusal = await _operation_refusal(self.view, self.context)
            if refusal is not None:
                await self.send_message({"id": message["id"], "type": "error", "payload": refusal})
                return
        await super().handle_start(message)


class ViewOptions(TypedDict, total=False):
    """Strawberry's options for its ASGI view, as GraphQL.__init__ names them."""

    allowed_origins: Sequence[str]
    subscription_protocols: Sequence[str]
    keep_alive: bool
    keep_alive_interval: float
    connection_init_wait_timeout: timedelta


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler
    websocket_adapter_class = WebSocketAdapter

    def __init__(
        self, schema: BaseSchema, settings: Settings, **options: Unpack[ViewOptions]
    ) -> None:
        super().__init__(
            schema, graphql_ide="graphiql" if settings.graphiql_enabled else None, **options
        )
        self.settings = settings
        self._graphiql_page = offline(super().graphql_ide_html) if self.graphql_ide else ""
        # Entered by the app's lifespan, which closes its connection to Redis.
        self.rate_limiter = RateLimiter(settings)
        # This process's websockets and streams, by their credentials.
        self.connections = CredentialRegistry()

    @property
    def graphql_ide_html(self) -> str:
        return self._graphiql_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        response = await self._answer(scope, receive)
        await response(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive) -> Response:
        limit = self.settings.max_body_bytes
        media_type = negotiate(Headers(scope=scope).get("accept"))
        if _declared_length(scope) > limit:
            return _too_large(limit, media_type)
        try:
            return await self.run(Request(scope, _within(receive, limit)))
        except BodyTooLarge:
            return _too_large(limit, media_type)
        except ClientDisconnect:
            # Not the server's fault, and anyone can do it: nothing for the error log. The
            # answer goes nowhere (uvicorn drops what is sent to a closed connection).
            request_id = current_request_id()
            logger.debug("client left before its body was complete (request id %s)", request_id)
            return error_response(400, "The request body ended early", BadUserInput.code)
        except RateLimited as error:
            return _rate_limited(error, media_type)
        except HTTPException as error:
            return _refused(error, media_type)
        except Exception as error:  # answered as GraphQL, whatever it was
            request_id = current_request_id()
            if is_unavailable(error):
                # Authentication is the first thing to read the database.
                logger.warning("database unavailable %s: %s", request_id, clipped(str(error)))
                return error_response(
                    503,
                    f"{UNAVAILABLE}.",
                    ServiceUnavailable.code,
                    media_type,
                    requestId=request_id,
                )
            logger.error("unexpected error %s\n%s", request_id, describe(error))
            return error_response(
                500,
                f"Unexpected error (request id {request_id}).",
                "INTERNAL_SERVER_ERROR",
                media_type,
                requestId=request_id,
            )

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        """Counts the request against its caller's limit once it is authenticated, before it
        runs; RateLimited is answered with 429 by `_answer`. A subscription streamed over HTTP
        is sent with POST, and counts as a socket would against its caller's share."""
        streamed = isinstance(request_data, GraphQLRequestData) and request_data.protocol != "http"
        if streamed and request_adapter.method == "GET":
            raise PostOnly("Subscriptions over HTTP are sent with POST")
        await self.rate_limiter.check(context.principal, _client_host(request))
        if streamed:
            streams.make_room(self.connections, context, self.settings.max_sockets_per_user)
        result = await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )
        if isinstance(result, SubscriptionExecutionResult):
            # Held by its credential, as a websocket is: revoked, erased or expired, it ends.
            followed = streams.follow(self.connections, result, context)
            return cast(SubscriptionExecutionResult, followed)
        return result

    def parse_json(self, data: str | bytes) -> JsonValue:
        try:
            parsed = self.decode_json(data)
        except json.JSONDecodeError as error:
            raise HTTPException(400, f"The body is not JSON: {error.msg}") from error
        # A body is a request (an object) or a batch (a list), and so are GET's variables and
        # extensions, as far as Strawberry's checks go: anything else fails inside it.
        if not isinstance(parsed, dict | list):
            raise HTTPException(400, 'Expected a JSON object, such as {"query": "..."}')
        return parsed

    def decode_json(self, data: str | bytes) -> object:
        """Strictly UTF-8, as GraphQL over HTTP asks. The failures below would otherwise
        escape the view as a bare 500 (and, on a websocket, end the connection uncleanly).
        Bodies, GET's variables and extensions, and websocket frames all come through here."""
        try:
            return json.loads(data.decode() if isinstance(data, bytes) else data)
        except json.JSONDecodeError:
            raise
        except UnicodeDecodeError as error:
            raise json.JSONDecodeError("it is not UTF-8", "", error.start) from error
        except RecursionError as error:
            raise json.JSONDecodeError("it nests too deeply", "", 0) from error
        except ValueError as error:  # Python reads no integer of more than 4300 digits
            message = f"it has a number of more than {sys.get_int_max_str_digits()} digits"
            raise json.JSONDecodeError(message, "", 0) from error

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        # The media type the response will be written in, for create_response.
        sub_response.media_type = negotiate(request.headers.get("accept"))
        return sub_response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        graphql_response = sub_response.media_type == GRAPHQL_RESPONSE_JSON
        if graphql_response and is_request_error(response_data):
            # As application/graphql-response+json has it: no data at all, and 400 unless the
            # fault was the server's.
            assert isinstance(response_data, dict)
            response_data = {"errors": response_data["errors"]}
            unexpected = "INTERNAL_SERVER_ERROR" in _codes(response_data)
            sub_response.status_code = 500 if unexpected else 400
        response = super().create_response(response_data, sub_response)
        if graphql_response:
            response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
        if ServiceUnavailable.code in _codes(response_data):
            response.status_code = 503
        return response


def _codes(response_data: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> set[str | None]:
    results = [response_data] if isinstance(response_data, Mapping) else response_data
    return {
        (error.get("extensions") or {}).get("code")
        for result in results
        for error in result.get("errors") or ()
    }


async def _operation_refusal(view: object, context: Context) -> GraphQLFormattedError | None:
    """Why a websocket operation is refused, as the error the protocols send, if it is."""
    limiter = cast(GraphQLView, view).rate_limiter
    try:
        await limiter.check(context.principal, _client_host(context.request))
    except RateLimited as error:
        return GraphQLError(str(error), extensions=error.extensions).formatted
    return None


def _client_host(request: Request | WebSocket | None) -> str | None:
    # uvicorn has applied X-Forwarded-For by now, from the proxies it trusts.
    client = request.client if request is not None else None
    return client.host if client is not None else None


def _refused(error: HTTPException, media_type: str) -> Response:
    """Strawberry's refusals, as GraphQL JSON with a code."""
    code = NotFound.code if error.status_code == 404 else BadUserInput.code
    refused = _refused_operation_type(error)
    if refused is OperationType.MUTATION or isinstance(error, PostOnly):
        # GraphQL over HTTP: GET is for what is safe; a mutation (or a stream) is sent with POST.
        response = error_response(405, error.reason, code, media_type)
        response.headers["allow"] = "POST"
        return response
    reason = (
        f"{error.reason}: {SUBSCRIBING}" if refused is OperationType.SUBSCRIPTION else error.reason
    )
    response = error_response(error.status_code, reason, code, media_type)
    if error.status_code == 405:
        response.headers["allow"] = "GET, POST"
    return response


def _refused_operation_type(error: HTTPException) -> OperationType | None:
    """The kind of operation Strawberry refused for the method or transport, if it was that."""
    cause = error.__cause__
    return cause.operation_type if isinstance(cause, InvalidOperationTypeError) else None


def _rate_limited(error: RateLimited, media_type: str) -> Response:
    response = error_response(
        429, str(error), error.code, media_type, retryAfterSeconds=error.retry_after
    )
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0  # the server refuses such a request before it gets here
    return 0


def _within(receive: Receive, limit: int) -> Receive:
    """`receive`, failing once the body read so far passes `limit`: a body sent without a
    length (chunked) is never buffered beyond it."""
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge
        return message

    return receive_within_limit


def _too_large(limit: int, media_type: str) -> Response:
    return error_response(
        413,
        f"The request body is larger than {limit} bytes (BELFRY_MAX_BODY_BYTES)",
        BadUserInput.code,
        media_type,
        limit="maxBodyBytes",
    )
