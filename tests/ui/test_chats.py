"""The buffer list, without Textual."""

from __future__ import annotations

from xmppterm.domain.ids import ChatKey
from xmppterm.domain.messages import ChatMessage, Delivery, Direction
from xmppterm.ui.chats import Change, Chats
from xmppterm.ui.render import NoticeLine

from .conftest import ALICE, WORK, message

BOB = ChatKey(WORK, "bob@example.org")


def test_status_buffer_is_first_and_cannot_be_closed() -> None:
    chats = Chats()
    assert chats.current.key is None and chats.current.title == "status"
    assert chats.close(ALICE) is False
    assert len(chats.buffers) == 1


def test_message_for_an_unknown_chat_creates_its_buffer_and_counts_unread() -> None:
    chats = Chats()
    buffer, change = chats.add_message(message("hi"), stranger=True)
    assert change is Change.APPENDED
    assert buffer.key == ALICE and buffer.stranger and buffer.unread == 1
    assert chats.activity() == [2]
    assert chats.select(1) and buffer.unread == 0 and chats.activity() == []


def test_own_messages_are_not_unread() -> None:
    chats = Chats()
    buffer, _ = chats.add_message(message("x", direction=Direction.OUTGOING), False)
    assert buffer.unread == 0


def test_same_id_replaces() -> None:
    chats = Chats()
    chats.add_message(message("x", msg_id="a", direction=Direction.OUTGOING,
                              delivery=Delivery.PENDING), False)
    buffer, change = chats.add_message(message("x", msg_id="a", direction=Direction.OUTGOING,
                                               delivery=Delivery.SENT), False)
    assert change is Change.REPLACED and len(buffer.entries) == 1


def test_update_delivery() -> None:
    chats = Chats()
    chats.add_message(message("x", msg_id="a", direction=Direction.OUTGOING,
                              delivery=Delivery.PENDING), False)
    found = chats.update_delivery(ALICE, "a", Delivery.FAILED, "offline")
    assert found is not None
    assert found[1].delivery is Delivery.FAILED and found[1].error == "offline"
    assert chats.update_delivery(ALICE, "nope", Delivery.SENT) is None
    assert chats.update_delivery(BOB, "a", Delivery.SENT) is None


def test_open_keeps_lines_that_raced_the_history() -> None:
    chats = Chats()
    early = message("early", msg_id="e")
    chats.add_message(early, False)
    chats.add_notice(NoticeLine("careful"), ALICE)
    history = (message("old", msg_id="o"), early)
    buffer = chats.open(ALICE, history, stranger=False, focus=True)
    bodies = [e.body if isinstance(e, ChatMessage) else e.text for e in buffer.entries]
    assert bodies == ["old", "early", "careful"]
    assert chats.current is buffer


def test_open_without_focus_keeps_the_current_buffer() -> None:
    chats = Chats()
    chats.open(ALICE, (), stranger=False, focus=False)
    assert chats.index == 0


def test_close_current_moves_to_previous() -> None:
    chats = Chats()
    chats.open(ALICE, (), False, True)
    chats.open(BOB, (), False, True)
    assert chats.close(BOB) is True
    assert chats.current.key == ALICE
    assert chats.close(ALICE) is True
    assert chats.current.key is None


def test_cycle_wraps() -> None:
    chats = Chats()
    chats.open(ALICE, (), False, False)
    chats.cycle(-1)
    assert chats.current.key == ALICE
    chats.cycle(1)
    assert chats.current.key is None


def test_entries_are_bounded() -> None:
    chats = Chats(max_entries=3)
    for n in range(5):
        chats.add_message(message(str(n)), False)
    buffer = chats.find(ALICE)
    assert buffer is not None
    assert [e.body for e in buffer.entries if isinstance(e, ChatMessage)] == ["2", "3", "4"]


def test_notice_for_unknown_chat_goes_to_status() -> None:
    chats = Chats()
    assert chats.add_notice(NoticeLine("x"), BOB) is chats.status
