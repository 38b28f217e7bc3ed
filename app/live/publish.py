"""Publishing: each function tells every process's subscribers of a change that committed.
None raises: the database already holds the truth, and subscribers resync after any gap."""

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from app.live.backends import UNREACHABLE
from app.live.credential_changes import CredentialChange
from app.live.hub import connected_hub
from app.live.messages import InboxMessage, NotificationPayload
from app.live.topics import CREDENTIALS, DELIVERIES, INBOX, WORK, encode_credential_change
from app.live.wire import Created, encode_created, encode_deliveries, encode_inbox
from app.models.deliveries import DeliveryRow

if TYPE_CHECKING:  # the live layer reads rows; it never queries
    from app.models import Delivery

logger = logging.getLogger("belfry.live")
WAKE = "1"


async def publish_inbox(
    tenant_id: UUID | str, messages: Sequence[tuple[UUID | str, InboxMessage]]
) -> None:
    """Each message to its user's subscribers (and kept for those who come back)."""
    channel = INBOX.channel(tenant_id)
    await _publish_many([], "inbox", kept=[(channel, wire) for wire in encode_inbox(messages)])


async def publish_created(
    tenant_id: UUID | str,
    created: Sequence[tuple[NotificationPayload, Sequence[Created]]],
    deliveries: Sequence[DeliveryRow] = (),
    *,
    wake: bool = False,
) -> None:
    """What one publish tells, in one round trip: the notification created for many users
    (each content with its `to`, as encode_created takes them) first, which browsers wait on,
    then the deliveries it wrote, then a wake-up for the workers if asked."""
    inbox = INBOX.channel(tenant_id)
    kept = [
        (inbox, wire) for notification, to in created for wire in encode_created(notification, to)
    ]
    messages: list[tuple[str, str]] = []
    if deliveries:
        channel = DELIVERIES.channel(tenant_id)
        messages += [(channel, wire) for wire in encode_deliveries(deliveries)]
    if wake:
        messages.append((WORK.channel(), WAKE))
    await _publish_many(messages, "publish", kept=kept)


async def publish_delivery(delivery: "Delivery") -> None:
    """One delivery's new state."""
    await publish_deliveries(delivery.tenant_id, [delivery])


async def publish_deliveries(
    tenant_id: UUID | str, deliveries: "Sequence[DeliveryRow | Delivery]"
) -> None:
    if deliveries:
        await _publish(DELIVERIES.channel(tenant_id), encode_deliveries(deliveries), "delivery")


async def publish_credential_change(change: CredentialChange) -> None:
    """A process that misses one re-checks what it holds when it resyncs
    (services.credentials), and requests read the database anyway."""
    await _publish(CREDENTIALS.channel(), [encode_credential_change(change)], "credential")


async def wake_workers() -> None:
    """New deliveries are queued. A lost wake-up only delays them: workers also poll."""
    await _publish(WORK.channel(), [WAKE], "wake-up")


async def _publish(channel: str, wires: list[str], what: str) -> None:
    await _publish_many([(channel, wire) for wire in wires], what)


async def _publish_many(
    messages: list[tuple[str, str]], what: str, *, kept: list[tuple[str, str]] | None = None
) -> None:
    """`kept`: messages of the inbox topic, which are kept as well as published."""
    hub = connected_hub()
    if not (messages or kept) or hub is None:
        return
    try:
        await hub.publish_many(messages, kept=kept or [])
    except UNREACHABLE as error:
        count = len(messages) + len(kept or [])
        logger.warning("%d batch(es) of %s events not sent: %s", count, what, error)
