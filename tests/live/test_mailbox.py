"""A subscriber's mailbox: bounded, and a signal always gets through."""

from app.live.mailbox import Mailbox
from app.live.messages import Signal


async def test_a_full_queue_trades_its_backlog_for_one_resync() -> None:
    subscription: Mailbox[str] = Mailbox(limit=3)

    for i in range(10):
        subscription.offer(str(i))

    items = [await subscription.get() for _ in range(subscription.pending())]
    # 0-2 fill it; 3 overflows into [RESYNC]; 4-5 join; 6 overflows; 7-8 join; 9 overflows.
    assert subscription.overflows == 3
    assert items == [Signal.RESYNC]


async def test_a_signal_gets_through_a_full_queue() -> None:
    subscription: Mailbox[str] = Mailbox(limit=2)
    subscription.offer("1")
    subscription.offer("2")

    subscription.signal(Signal.RESYNC)

    items = [await subscription.get() for _ in range(subscription.pending())]
    assert items == [Signal.RESYNC]
