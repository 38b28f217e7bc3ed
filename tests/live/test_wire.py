"""The wire formats of the inbox and delivery topics, and what a message can tell of itself."""

import uuid
from dataclasses import asdict, replace
from datetime import UTC, datetime

import pytest

from app.live.messages import (
    ALL,
    ActionPayload,
    DeliveryPayload,
    InboxEventKind,
    InboxMessage,
    NotificationPayload,
)
from app.live.wire import (
    decode_deliveries,
    decode_inbox,
    encode_created,
    encode_deliveries,
    encode_inbox,
)
from app.models import Priority


def created(user: int, unread: int, title: str = "T") -> tuple[str, InboxMessage]:
    """A notification created for user `user`, whose unseen count is one above its unread."""
    payload = NotificationPayload(
        id=f"n{user}",
        category="a.b",
        title=title,
        body=None,
        link="/x",
        data={"k": [1, 2]},
        priority=Priority.HIGH,
        actions=[ActionPayload(id="open", label="Open", primary=True)],
        tags=["calls", "weekly"],
        read_at=None,
        seen_at=None,
        archived_at=datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
        interacted_at=None,
        snoozed_until=None,
        collapse_key="calls",
        occurrences=3,
        expires_at=datetime(2026, 2, 1, tzinfo=UTC),
        created_at=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    )
    message = InboxMessage(
        kind=InboxEventKind.CREATED,
        unread_count=unread,
        unseen_count=unread + 1,
        notification=payload,
        notification_ids=[f"n{user}"],
        categories=["a.b"],
    )
    return f"u{user}", message


def test_messages_survive_the_wire_in_as_few_batches_as_they_allow() -> None:
    same = [created(i, unread=i) for i in range(2500)]
    other = [
        created(9, unread=1, title="other"),
        ("u1", InboxMessage(InboxEventKind.UPDATED, 0, 4)),
    ]

    wire = encode_inbox(same + other)

    assert len(wire) == 5  # 1000 + 1000 + 500 alike, then two of their own
    everyone = {user for user, _ in same + other}
    assert [m for batch in wire for m in decode_inbox(batch, everyone)] == same + other


def test_a_batch_decodes_only_for_the_users_subscribed_here() -> None:
    wire = encode_inbox([created(i, unread=i) for i in range(10)])

    decoded = decode_inbox(wire[0], {"u3", "u7"})

    assert [(user, m.unread_count, m.unseen_count) for user, m in decoded] == [
        ("u3", 3, 4),
        ("u7", 7, 8),
    ]


def test_a_notification_created_for_many_travels_with_its_content_once() -> None:
    _, template = created(0, unread=0)
    assert template.notification is not None
    to = [(uuid.uuid4(), uuid.uuid4(), i, 2 * i, i % 3 == 0) for i in range(1500)]

    wire = encode_created(template.notification, to)

    assert len(wire) == 2
    assert len(wire[0]) < 100 * 1000  # the content is not repeated per user
    decoded = [m for batch in wire for m in decode_inbox(batch, {str(u) for u, *_ in to})]
    assert [
        (user, m.unread_count, m.unseen_count, m.notification_ids, m.quiet) for user, m in decoded
    ] == [(str(u), unread, unseen, [str(n)], quiet) for u, n, unread, unseen, quiet in to]
    first = decoded[0][1].notification
    assert first is not None
    assert first.id == str(to[0][1])
    assert first.same_content(template.notification)


def test_the_team_a_notification_came_through_travels_with_it_only_when_there_is_one() -> None:
    _, plain = created(0, unread=0)
    assert plain.notification is not None
    through_ops = replace(plain.notification, team_key="ops", team_name="Operations")
    to = [(uuid.uuid4(), uuid.uuid4(), 1, 1, False)]

    [with_team] = encode_created(through_ops, to)
    [without] = encode_created(plain.notification, to)

    [(_, decoded)] = decode_inbox(with_team, {str(to[0][0])})
    assert decoded.notification is not None and decoded.notification.team_key == "ops"
    assert decoded.notification.team is not None
    assert (decoded.notification.team.key, decoded.notification.team.name) == ("ops", "Operations")
    # A process from before teams decodes the notifications of direct recipients as ever.
    assert "team" not in without


def delivery(i: int, **changes: object) -> DeliveryPayload:
    payload = DeliveryPayload(
        id=f"d{i}",
        recipient_id=f"u{i}",
        notification_id=f"n{i}",
        channel="IN_APP",
        category="a.b",
        status="SENT",
        attempt_count=1,
        last_error=None,
        rule_id=None,
        job_id=None,
        created_at=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        sent_at=datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=UTC),
        next_attempt_at=None,
    )
    return replace(payload, **changes)  # type: ignore[arg-type]


def test_deliveries_share_what_they_have_in_common_on_the_wire() -> None:
    payloads = [delivery(i) for i in range(3)] + [delivery(3, status="QUEUED", sent_at=None)]

    wire = encode_deliveries([asdict(p) for p in payloads])

    assert len(wire) == 1
    decoded = decode_deliveries(wire[0], {ALL})
    assert [p for key, p in decoded] == payloads
    assert {key for key, _ in decoded} == {ALL}
    assert '"category":"a.b"' in wire[0] and wire[0].count("a.b") == 1


def test_deliveries_decode_for_the_recipients_and_tenant_wide_keys_subscribed_here() -> None:
    wire = encode_deliveries([asdict(delivery(i)) for i in range(5)])

    mine = decode_deliveries(wire[0], {"u1", "u4"})
    with_admin = decode_deliveries(wire[0], {ALL, "u1"})

    assert [(key, p.id) for key, p in mine] == [("u1", "d1"), ("u4", "d4")]
    assert [(key, p.id) for key, p in with_admin][:3] == [(ALL, "d0"), (ALL, "d1"), ("u1", "d1")]


@pytest.mark.parametrize(
    ("message", "category", "touched"),
    [
        (InboxMessage(InboxEventKind.CREATED, 1, 1, categories=["a.b"]), None, True),
        (InboxMessage(InboxEventKind.CREATED, 1, 1, categories=["a.b"]), "a.b", True),
        (InboxMessage(InboxEventKind.CREATED, 1, 1, categories=["a.b"]), "c.d", False),
        (InboxMessage(InboxEventKind.UPDATED, 0, 0, all=True), "c.d", True),
        (InboxMessage(InboxEventKind.UPDATED, 0, 0, all=True, category="a.b"), "c.d", False),
    ],
)
def test_a_message_knows_which_counts_it_can_move(message, category, touched) -> None:
    assert message.touches(category) is touched
