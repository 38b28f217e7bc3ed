"""Every topic of the live layer, each with the channel names it uses and the codec of its
batches. Subscribing names a topic, so two subscribers of one channel always decode alike."""

import json
from collections.abc import Callable, Container, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from app.encoding import dumps
from app.live.credential_changes import (
    ApiKeyRevoked,
    CredentialChange,
    RoleChanged,
    SigningSecretRotated,
    UserErased,
)
from app.live.messages import ALL, DeliveryPayload, InboxMessage
from app.live.wire import decode_deliveries, decode_inbox

T = TypeVar("T")

# A batch's (key, message) pairs for the keys in the container: the keys subscribed here.
Decoder = Callable[[str, Container[str]], Iterable[tuple[str, T]]]


@dataclass(frozen=True, slots=True)
class Topic(Generic[T]):
    kind: str  # in every channel's name, and the label its events are counted by
    decode: Decoder[T]
    per_tenant: bool  # one channel per tenant, or one for all
    # Its messages are kept for a while, for subscribers coming back (app.live.backends):
    # they arrive as "ID MESSAGE", which its decoder takes.
    kept: bool = False

    def channel(self, tenant_id: UUID | str | None = None) -> str:
        """The tenant's id is a hash tag: on a Redis Cluster a tenant's channel and what is
        kept of it share a slot, and tenants spread across the slots."""
        if self.per_tenant:
            if tenant_id is None:
                raise ValueError(f"the {self.kind} topic has a channel per tenant")
            return f"belfry:{self.kind}:{{{tenant_id}}}"
        return f"belfry:{self.kind}"


def encode_credential_change(change: CredentialChange) -> str:
    return dumps({"kind": change.kind, **asdict(change)})


def decode_credential_change(
    raw: str, wanted: Container[str]
) -> list[tuple[str, CredentialChange]]:
    data = json.loads(raw)
    tenant_id = UUID(data["tenant_id"])
    change: CredentialChange
    match data["kind"]:
        case UserErased.kind:
            change = UserErased(tenant_id, UUID(data["user_id"]), str(data["external_id"]))
        case ApiKeyRevoked.kind:
            change = ApiKeyRevoked(tenant_id, UUID(data["key_id"]))
        case RoleChanged.kind:
            change = RoleChanged(tenant_id, UUID(data["user_id"]), str(data["role"]))
        case SigningSecretRotated.kind:
            until = datetime.fromisoformat(data["previous_until"])
            change = SigningSecretRotated(tenant_id, int(data["version"]), until)
        case unknown:
            raise ValueError(f"unknown credential change {unknown!r}")
    return [(ALL, change)]


def decode_wake(raw: str, wanted: Container[str]) -> list[tuple[str, str]]:
    return [(ALL, raw)]


# Each user's inbox changes, keyed by user id; kept, so that a client can resume.
INBOX: Topic[InboxMessage] = Topic("inbox", decode_inbox, per_tenant=True, kept=True)
# Each delivery's new state, keyed by its recipient's id and ALL.
DELIVERIES: Topic[DeliveryPayload] = Topic("deliveries", decode_deliveries, per_tenant=True)
# Credentials revoked or changed anywhere, which every process applies to what it holds.
CREDENTIALS: Topic[CredentialChange] = Topic(
    "credentials", decode_credential_change, per_tenant=False
)
# "New deliveries are queued": wakes idle workers sooner than their next poll.
WORK: Topic[str] = Topic("work", decode_wake, per_tenant=False)

TOPICS = (INBOX, DELIVERIES, CREDENTIALS, WORK)
