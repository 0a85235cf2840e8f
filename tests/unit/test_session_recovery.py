"""AccountSession recovering from losses with a fake link: SENT on the server's ack,
stream resumption before a new link, the archive catch-up marker (no server)."""

from __future__ import annotations

from datetime import UTC, datetime

from xmppterm.domain import events as ev
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import ChatKey
from xmppterm.domain.messages import ChatMessage, Delivery, Direction

from .test_session import ACC, Harness

BOB = ChatKey(ACC, "bob@x.org")


async def online(h: Harness) -> None:
    h.session.connect()
    await h.settle()
    h.links[-1].up()
    await h.settle()


def deliveries(h: Harness) -> list[Delivery]:
    return [e.delivery for e in h.events if isinstance(e, ev.MessageDeliveryChanged)]


def incoming(body: str, stanza_id: str | None = None) -> ChatMessage:
    return ChatMessage(f"local-{body}", BOB, Direction.INCOMING, BOB.jid, body,
                       datetime.now(UTC), stanza_id=stanza_id)


async def test_sent_only_on_the_servers_ack_and_never_back() -> None:
    h = Harness()
    await online(h)
    h.links[0].acks = True
    sent = await h.session.send(BOB, "hello")
    await h.settle()
    assert h.links[0].sent and deliveries(h) == []
    assert [m.id for m in await h.store.pending(ACC)] == [sent.id]  # still in the outbox
    for state in (Delivery.SENT, Delivery.DELIVERED, Delivery.SENT):  # the last one is late
        h.links[0].emit(ev.MessageDeliveryChanged(ACC, BOB, sent.id, state))
    await h.settle()
    assert deliveries(h) == [Delivery.SENT, Delivery.DELIVERED]
    stored = await h.store.get_message(ACC, sent.id)
    assert stored is not None and stored.delivery is Delivery.DELIVERED
    assert await h.store.pending(ACC) == []
    await h.session.close()


async def test_unacked_message_is_flushed_again_after_a_full_reconnect() -> None:
    h = Harness()
    await online(h)
    h.links[0].acks = True
    sent = await h.session.send(BOB, "in flight")
    h.links[0].emit(ev.LinkLost(ACC, "reset"))
    await h.settle()
    assert len(h.links) == 2  # not resumable: a new link
    h.links[1].up()
    await h.settle()
    assert [s[2] for s in h.links[1].sent] == [sent.id]  # same id, so receivers dedupe
    await h.session.close()


async def test_a_resumable_link_is_resumed_once_before_a_new_one() -> None:
    h = Harness()
    await online(h)
    first = h.links[0]
    first.resumable = True
    first.emit(ev.LinkLost(ACC, "network went away"))
    await h.settle()
    assert len(h.links) == 1 and first.connects == 2  # connect, then resume
    assert h.session.state is ConnState.CONNECTING
    first.resumable = False  # the resumption attempt failed
    first.emit(ev.LinkLost(ACC, "still away"))
    await h.settle()
    assert len(h.links) == 2 and h.links[1].connects == 1
    h.links[1].up()
    await h.settle()
    assert h.states().count(ConnState.WAITING) == 2 and h.session.state is ConnState.ONLINE
    await h.session.close()


async def test_catch_up_after_each_link_up_from_the_stored_marker() -> None:
    h = Harness()
    await online(h)
    assert h.links[0].catch_ups == [None]  # never read: the link reads the newest page
    h.links[0].emit(ev.ArchivePage(ACC, "A50"))
    h.links[0].emit(ev.ArchivePage(ACC, "A60", done=True, fetched=60))
    await h.settle()
    assert await h.store.archive_marker(ACC) == "A60"
    h.links[0].emit(ev.MessageReceived(ACC, incoming("live", stanza_id="A61")))
    await h.settle()
    assert await h.store.archive_marker(ACC) == "A61"  # caught up: live moves it on
    h.links[0].emit(ev.LinkLost(ACC, "reset"))
    await h.settle()
    h.links[1].up()
    await h.settle()
    assert h.links[1].catch_ups == ["A61"]
    h.links[1].emit(ev.MessageReceived(ACC, incoming("during catch-up", stanza_id="A99")))
    await h.settle()
    assert await h.store.archive_marker(ACC) == "A61"  # not before the catch-up is done
    await h.session.close()


async def test_a_bounded_catch_up_says_so_and_keeps_its_place() -> None:
    h = Harness()
    await online(h)
    h.links[0].emit(ev.ArchivePage(ACC, "A5000", done=True, fetched=5000, truncated=True))
    h.links[0].emit(ev.MessageReceived(ACC, incoming("live", stanza_id="B1")))
    await h.settle()
    assert await h.store.archive_marker(ACC) == "A5000"
    notices = [e.text for e in h.events if isinstance(e, ev.Notice)]
    assert any("5000" in text and "next connection" in text for text in notices)
    assert not any(isinstance(e, ev.ArchivePage) for e in h.events)  # core keeps it
    await h.session.close()


async def test_a_gap_in_the_archive_is_shown() -> None:
    h = Harness()
    await online(h)
    h.links[0].emit(ev.ArchivePage(ACC, "Z1", done=True, gap=True))
    await h.settle()
    assert any("may be missing" in e.text for e in h.events if isinstance(e, ev.Notice))
    await h.session.close()
