"""/correct (XEP-0308) in an OMEMO room against the real Prosody: two xmppterm identities
and a scripted OMEMO owner in a members-only, non-anonymous, archived room. A correction
travels encrypted (named inside the OMEMO 2 envelope, and outside for legacy devices),
changes the message for every member and nothing else: not another member's, not a
plaintext one, not a legacy OMEMO one; where the room's OMEMO was switched since, it is
refused and nothing leaves."""

from __future__ import annotations

import asyncio
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.ids import ChatKey
from xmppterm.domain.messages import ChatMessage, Encryption
from xmppterm.domain.omemo import SetChatOmemo

from .omemo_peers import Identity, archived_bodies, identity
from .room_omemo_peers import RoomOmemoPeer
from .rooms import RoomPeer, make_room, new_room
from .test_room_omemo import ENCRYPTED, delivered, in_room, join, keys_known, no_undecryptable, say

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPLACE = "{urn:xmpp:message-correct:0}replace"


async def seen(me: Identity, body: str) -> ChatMessage:
    return (await me.events.wait(ev.MessageReceived, lambda e: e.message.body == body, 20)
            ).message


async def stored(me: Identity, local: str) -> ChatMessage:
    found = await me.manager.store.get_message(me.account, local)
    assert found is not None
    return found


async def refused(me: Identity, room: str, body: str) -> str:
    """/correct BODY in `room`, refused: the reason (the text came back)."""
    me.manager.dispatch(it.CorrectMessage(me.account, ChatKey(me.account, room), body))
    why = await me.events.wait(ev.SendRefused, lambda e: e.body == f"/correct {body}", 20)
    return why.reason


async def test_a_correction_in_an_encrypted_room(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, bob, olga = account_factory(), account_factory(), account_factory()
    owner = await RoomOmemoPeer(olga, prosody.ca_file).start(prosody)
    script = await RoomPeer(alice, prosody.ca_file, resource="script").start(prosody)
    room = await make_room(owner, new_room(prosody, "fix"), "olga", members_only=True,
                           members=[alice.jid, bob.jid])
    tag = secrets.token_hex(4)
    try:
        async with identity(prosody, alice, tmp_path / "a", "alice") as a, \
                identity(prosody, bob, tmp_path / "b", "bob") as b:
            await join(a, room, "alice", owner)
            await join(b, room, "bob", owner)
            await keys_known(a, bob.jid, olga.jid)
            await keys_known(b, alice.jid, olga.jid)
            first, fixed = f"teh secret {tag}", f"the secret {tag}"
            sent = (await say(a, room, first)).message
            theirs = await seen(b, first)
            assert theirs.encryption in ENCRYPTED and theirs.sender == alice.jid
            on_owner = await owner.next_encrypted(room)
            assert (await owner.read_groupchat(on_owner))[0] == first
            await delivered(a, sent.id)

            # /correct: the same message changes, on both sides, still encrypted
            a.manager.dispatch(it.CorrectMessage(a.account, ChatKey(a.account, room), fixed))
            mine = await seen(a, fixed)
            assert mine.id == sent.id and mine.edited and mine.original_body == first
            got = await seen(b, fixed)
            assert got.id == theirs.id and got.edited and got.original_body == first
            assert got.encryption in ENCRYPTED
            assert (await stored(b, theirs.id)).body == fixed
            # the wire: named inside the OMEMO 2 envelope, and outside for legacy devices
            stanza = await owner.next_encrypted(room)
            assert await owner.read_groupchat(stanza) == (fixed, alice.jid, sent.origin_id)
            outside = stanza.xml.find(REPLACE)
            assert outside is not None and outside.get("id") == sent.origin_id
            assert first not in str(on_owner) and fixed not in str(stanza)
            # our reflection is matched to the correction kept: shown once, never twice
            record = next(m for m in await a.manager.store.history(ChatKey(a.account, room))
                          if m.applied_to == sent.id)
            await delivered(a, record.id)
            await asyncio.sleep(1.0)
            assert [e.message.id for e in in_room(a, room, fixed)] == [sent.id]
            assert [e.message.id for e in in_room(b, room, fixed)] == [theirs.id]
            no_undecryptable(a, room)
            no_undecryptable(b, room)

            await hostile_corrections(a, b, owner, script, room, sent, theirs, tag)
            for text in (first, fixed, f"bob rewrites {tag}", f"olga says {tag}",
                         f"olga rewrites {tag}"):
                assert not archived_bodies(prosody, text), text
            await switched_omemo_refuses(prosody, a, room, tag)
    finally:
        await owner.stop()
        await script.stop()


async def hostile_corrections(a: Identity, b: Identity, owner: RoomOmemoPeer, script: RoomPeer,
                              room: str, sent: ChatMessage, theirs: ChatMessage,
                              tag: str) -> None:
    """Corrections that must change nothing: shown as messages of their own."""
    fixed = (await stored(a, sent.id)).body
    # another member, encrypted (OMEMO 2, the id named inside), names alice's message
    link: Any = b.manager.sessions[b.account].online_link
    forged = f"bob rewrites {tag}"
    sealed = await link.omemo.seal_group(room, frozenset({a.jid, owner.boundjid.bare}), forged,
                                         secrets.token_hex(8), replaces=sent.origin_id)
    link.send_sealed(sealed)
    claim = await seen(a, forged)
    assert claim.id != sent.id and claim.replaces == sent.origin_id
    assert claim.sender == b.jid and claim.encryption in ENCRYPTED
    assert (await stored(a, sent.id)).body == fixed

    # alice's own account, from a client without OMEMO: a plaintext <replace>
    await script.join(room, "alice-script")
    plain = f"plaintext rewrite {tag}"
    msg = script.make_message(mto=room, mbody=plain, mtype="groupchat")
    ET.SubElement(msg.xml, REPLACE, {"id": str(sent.origin_id)})
    msg.send()
    spoof = await seen(b, plain)
    assert spoof.id != theirs.id and spoof.encryption is Encryption.PLAIN
    assert spoof.sender == a.jid and spoof.replaces == sent.origin_id
    kept = await stored(b, theirs.id)
    assert kept.body == fixed and kept.encryption in ENCRYPTED

    # legacy OMEMO: a <replace> outside the encryption, from the writer, changes nothing
    said = f"olga says {tag}"
    olga_id = await owner.say_encrypted(room, said, [a.jid, b.jid])
    hers = await seen(b, said)
    rewrite = f"olga rewrites {tag}"
    await owner.say_encrypted(room, rewrite, [a.jid, b.jid], replaces=olga_id)
    again = await seen(b, rewrite)
    assert again.id != hers.id and again.encryption in ENCRYPTED
    assert (await stored(b, hers.id)).body == said


async def switched_omemo_refuses(prosody: ProsodyServer, a: Identity, room: str,
                                 tag: str) -> None:
    """An encrypted message with OMEMO now off, a plaintext one with it on again: the
    correction is refused, nothing kept, changed or sent."""
    chat = ChatKey(a.account, room)
    last = (await say(a, room, f"encrypted last {tag}")).message
    await delivered(a, last.id)
    a.manager.dispatch(SetChatOmemo(a.account, chat, False))
    await a.events.wait(ev.Notice, lambda e: "now OFF in this room" in e.text, 15)
    leak = f"must stay secret {tag}"
    assert "was encrypted" in await refused(a, room, leak)

    plain = (await say(a, room, f"in the open {tag}")).message
    assert plain.encryption is Encryption.PLAIN
    await delivered(a, plain.id)
    a.manager.dispatch(SetChatOmemo(a.account, chat, True))
    await a.events.wait(ev.Notice, lambda e: "now on in this room" in e.text, 15)
    later = f"in the open, fixed {tag}"
    assert "was not encrypted" in await refused(a, room, later)

    await asyncio.sleep(1.0)
    assert (await stored(a, last.id)).body == f"encrypted last {tag}"
    assert (await stored(a, plain.id)).body == f"in the open {tag}"
    kept = [m.body for m in await a.manager.store.history(chat)]
    assert leak not in kept and later not in kept
    assert not archived_bodies(prosody, leak) and not archived_bodies(prosody, later)
