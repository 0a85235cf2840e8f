"""A message's delivery mark as core moves it when a send is done: read and written in
one step of the store (`Store.modify_message`), so that a change made meanwhile (a
/correct, a receipt that overtook the send) is never written over, and the mark never
steps back (domain/delivery.py `advance`)."""

from __future__ import annotations

from ..domain import events as ev
from ..domain.delivery import advance
from ..domain.messages import ChatMessage, Delivery
from ..domain.ports import EventSink
from ..store.store import Store


async def mark_sent(store: Store, emit: EventSink, msg: ChatMessage) -> None:
    """`msg` was written to a server that gives no acks (no stream management): SENT."""
    def step(current: ChatMessage) -> ChatMessage | None:
        moved = advance(current.delivery, Delivery.SENT)
        return current.with_delivery(moved) if moved is not None else None

    account = msg.chat.account
    _, changed = await store.modify_message(account, msg.id, step)
    if changed is not None:
        emit(ev.MessageDeliveryChanged(account, msg.chat, msg.id, Delivery.SENT))
