"""The media types of GraphQL over HTTP (the specification's current draft): which one a
response is written in, and when a GraphQL response is a refused request (status 400)."""

from collections.abc import Mapping

from strawberry.http import GraphQLHTTPResponse

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


def negotiate(accept: str | None) -> str:
    """application/graphql-response+json when the Accept header prefers it (a tie goes to it,
    the newer one); else application/json, as for no Accept header or `*/*`, so clients that
    predate the specification keep the answers they know."""
    preferences = dict(_preferences(accept or ""))
    graphql_response = preferences.get(GRAPHQL_RESPONSE_JSON, 0.0)
    json = next(
        (preferences[name] for name in (JSON, "application/*", "*/*") if name in preferences), 0.0
    )
    return GRAPHQL_RESPONSE_JSON if graphql_response > 0 and graphql_response >= json else JSON


def _preferences(accept: str) -> list[tuple[str, float]]:
    found = []
    for item in accept.split(","):
        media_type, *parameters = item.split(";")
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        found.append((media_type.strip().lower(), quality))
    return found


def is_request_error(response: GraphQLHTTPResponse | list[GraphQLHTTPResponse]) -> bool:
    """A response to a request GraphQL refused before running it: a document that did not
    parse or validate, variables that did not coerce, a document over Belfry's limits. Such
    errors have no path; an error while executing has one, and comes with (partial) data."""
    if not isinstance(response, Mapping) or response.get("data") is not None:
        return False
    errors = response.get("errors") or ()
    return bool(errors) and not any(
        isinstance(error, Mapping) and "path" in error for error in errors
    )
