"""The raw baseline of the live benchmarks: what the same job costs with no framework on top.

POST /publish inserts one row per recipient with plain asyncpg and publishes one Redis message
per recipient; each websocket (/ws/{user}) receives its user's messages through one shared
redis-py PubSub and sends them on with Starlette, framed like a GraphQL `next` message.
"""

import argparse
import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import uvicorn
from redis import asyncio as redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

TABLE = """
CREATE TABLE IF NOT EXISTS raw_notifications (
    id uuid PRIMARY KEY, recipient text NOT NULL, title text NOT NULL, created_at timestamptz
)
"""


def build(dsn: str, redis_url: str) -> Starlette:
    sockets: dict[str, WebSocket] = {}
    state: dict[str, Any] = {}
    # This process's own channels: benches running at once may share one Redis, and pub/sub
    # ignores the database number, so another raw server's frames would reach these sockets.
    channels = f"raw:{uuid.uuid4().hex[:12]}:inbox:"

    async def listen(pubsub: Any) -> None:
        async for message in pubsub.listen():
            if message["type"] == "pmessage":
                user = message["channel"].decode().rsplit(":", 1)[1]
                if (socket := sockets.get(user)) is not None:
                    await socket.send_text(message["data"].decode())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(dsn, min_size=2, max_size=10)
        await state["pool"].execute(TABLE)
        state["redis"] = redis.Redis.from_url(redis_url)
        state["pubsub"] = state["redis"].pubsub()
        await state["pubsub"].psubscribe(f"{channels}*")
        task = asyncio.create_task(listen(state["pubsub"]))
        yield
        task.cancel()
        await state["pubsub"].aclose()
        await state["redis"].aclose()
        await state["pool"].close()

    async def publish(request: Request) -> JSONResponse:
        body = await request.json()
        now = datetime.now(UTC)
        rows = [(uuid.uuid4(), r, body["title"], now) for r in body["recipients"]]
        await state["pool"].executemany(
            "INSERT INTO raw_notifications (id, recipient, title, created_at) "
            "VALUES ($1, $2, $3, $4)",
            rows,
        )
        async with state["redis"].pipeline(transaction=False) as pipe:
            for nid, recipient, title, _ in rows:
                frame = {
                    "id": "1",
                    "type": "next",
                    "payload": {
                        "data": {
                            "inbox": {
                                "kind": "CREATED",
                                "unreadCount": 1,
                                "notification": {"id": str(nid), "title": title},
                            }
                        }
                    },
                }
                pipe.publish(f"{channels}{recipient}", json.dumps(frame))
            await pipe.execute()
        return JSONResponse({"count": len(rows)})

    async def ws(websocket: WebSocket) -> None:
        user = websocket.path_params["user"]
        await websocket.accept()
        sockets[user] = websocket
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            sockets.pop(user, None)

    return Starlette(
        routes=[Route("/publish", publish, methods=["POST"]), WebSocketRoute("/ws/{user}", ws)],
        lifespan=lifespan,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--redis", required=True)
    args = parser.parse_args()
    uvicorn.run(
        build(args.dsn, args.redis),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        ws_per_message_deflate=False,
    )


if __name__ == "__main__":
    main()
