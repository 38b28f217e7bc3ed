"""uvicorn's websocket protocol, with one change: a peer that stops answering pings is cut
off at once. uvicorn closes such a connection gracefully, which waits for the unsent frames to
drain; a client that stopped reading never drains them, so its socket, its subscription and
the send parked on it would stay until the process ends, and hold up its shutdown."""

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class WebSocketProtocol(WebSocketsSansIOProtocol):
    def keepalive_timeout(self) -> None:
        super().keepalive_timeout()
        # The close frame that uvicorn queued cannot be delivered either.
        self.transport.abort()
