"""core.marks.mark_sent: SENT after a send without acks, in one step of the store, never
a step back (a receipt that overtook the send stays DELIVERED; a correction stays)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from xmppterm.core.marks import mark_sent
from xmppterm.domain import events as ev
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import ChatMessage, Delivery, Direction
from xmppterm.store.store import Store

ACC = AccountId("work")
BOB = ChatKey(ACC, "bob@example.org")


def pending(body: str = "hi") -> ChatMessage:
    return ChatMessage("m1", BOB, Direction.OUTGOING, "me@example.org", body,
                       datetime.now(UTC), delivery=Delivery.PENDING, origin_id="m1")


async def test_pending_becomes_sent_and_is_told() -> None:
    store, events = Store.open(None), []
    await store.add_message(pending())
    await mark_sent(store, events.append, pending())
    stored = await store.get_message(ACC, "m1")
    assert stored is not None and stored.delivery is Delivery.SENT
    assert events == [ev.MessageDeliveryChanged(ACC, BOB, "m1", Delivery.SENT)]
    await store.close()


async def test_no_step_back_and_nothing_written_over() -> None:
    store, events = Store.open(None), []
    stale = pending("teh")
    await store.add_message(stale)
    # meanwhile: the receipt came first, and the message was corrected
    await store.update_message(replace(stale, body="the", delivery=Delivery.DELIVERED))
    await mark_sent(store, events.append, stale)  # the copy read before those
    stored = await store.get_message(ACC, "m1")
    assert stored is not None and (stored.body, stored.delivery) == ("the", Delivery.DELIVERED)
    assert events == []
    await store.close()
