"""Kept messages in Redis, for the Redis and Redis Cluster backends: a stream per channel,
trimmed by time, that a script appends to and publishes from at once, so that the order of
the stream is the order subscribers received. The stream, its epoch and the channel share a
hash tag (app.live.topics), hence a cluster slot, as a script's keys and channel must."""

import uuid
from collections.abc import Sequence

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.client import Pipeline

from app.live.backends import REPLAY_LIMIT, Head, position_before, replayable

# KEYS[1] the stream; ARGV: the channel, the message, milliseconds to keep, the publish command.
KEEP_AND_PUBLISH = """
local now = redis.call('TIME')
local oldest = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[3])
local minid = string.format('%.0f', oldest)
local id = redis.call('XADD', KEYS[1], 'MINID', '~', minid, '*', 'm', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call(ARGV[4], ARGV[1], id .. ' ' .. ARGV[2])
return id
"""


def stream_key(channel: str) -> str:
    return f"belfry:kept:{channel}"


def epoch_key(channel: str) -> str:
    return f"belfry:epoch:{channel}"


Outgoing = tuple[str, str, bool]  # channel, message, kept


def outgoing(
    messages: Sequence[tuple[str, str]], kept: Sequence[tuple[str, str]]
) -> list[Outgoing]:
    """The kept messages first, as Backend.publish_many sends them."""
    return [(c, m, True) for c, m in kept] + [(c, m, False) for c, m in messages]


def keeping(
    channel: str, message: str, keep_seconds: float, command: str
) -> tuple[str, int, str, str, str, int, str]:
    """The arguments of the EVAL that keeps and publishes one message."""
    keep_ms = max(1, int(keep_seconds * 1000))
    return KEEP_AND_PUBLISH, 1, stream_key(channel), channel, message, keep_ms, command


def queue(pipe: Pipeline, batch: Sequence[Outgoing], keep_seconds: float, command: str) -> None:
    """Adds each message to a pipeline: a kept one through the script, the others plainly."""
    for channel, message, kept in batch:
        if kept:
            pipe.eval(*keeping(channel, message, keep_seconds, command))
        else:
            getattr(pipe, command)(channel, message)


# KEYS[1] the stream; ARGV: the position to read after, how many at most. Reads with the
# server's time, as one command (a cluster pipeline takes no TIME).
SINCE = """
local now = redis.call('TIME')
local entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
return {now[1], now[2], entries}
"""

# KEYS[1] the epoch, KEYS[2] the stream; ARGV[1] an epoch for a store that has none.
HEAD = """
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local epoch = redis.call('GET', KEYS[1])
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local now = redis.call('TIME')
return {epoch, now[1], now[2], last}
"""


async def since(
    client: Redis | RedisCluster, channel: str, after: str, keep_seconds: float
) -> list[tuple[str, str]] | None:
    seconds, micros, entries = await client.eval(
        SINCE, 1, stream_key(channel), after, REPLAY_LIMIT + 1
    )
    found = [(_text(kept_id), _text(fields[1])) for kept_id, fields in entries]
    return replayable(after, found, _ms(seconds, micros), keep_seconds)


async def head(client: Redis | RedisCluster, channel: str) -> Head:
    """The epoch is made by the first reader after the store lost it (or never had it)."""
    keys = (epoch_key(channel), stream_key(channel))
    epoch, seconds, micros, last = await client.eval(HEAD, 2, *keys, uuid.uuid4().hex)
    if last:
        return Head(_text(epoch), _text(last[0][0]))
    return Head(_text(epoch), position_before(_ms(seconds, micros)))


def _ms(seconds: bytes | int, micros: bytes | int) -> int:
    return int(seconds) * 1000 + int(micros) // 1000


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
