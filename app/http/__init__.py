"""The HTTP and websocket transport, above app.graphql: what app.main assembles into the ASGI
application (app.http.transport)."""
