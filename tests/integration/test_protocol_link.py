"""ProtocolLink against the real local Prosody, with scripted plain slixmpp peers."""

from __future__ import annotations

import asyncio
import getpass
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import slixmpp

from xmppterm.config import AccountConfig
from xmppterm.devserver import Account, ProsodyServer, make_untrusted_certs
from xmppterm.domain import events as ev
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import Delivery, Direction
from xmppterm.domain.roster import Show
from xmppterm.protocol.errors import NotConnected
from xmppterm.protocol.link import ProtocolLink

from .peers import Events, Peer, until

pytestmark = pytest.mark.integration
ME = AccountId("me")


def config(server: ProsodyServer, acc: Account, *, direct: bool = False,
           ca: Path | None = None) -> AccountConfig:
    return AccountConfig(id=ME, jid=acc.jid, host="127.0.0.1",
                         port=server.direct_tls_port if direct else server.c2s_port,
                         tls="direct" if direct else "starttls", ca_file=ca or server.ca_file)


async def open_link(server: ProsodyServer, acc: Account, **kw: Any) -> tuple[ProtocolLink, Events]:
    events = Events()
    link = ProtocolLink(config(server, acc, **kw), acc.password, events)
    await link.connect()
    return link, events


async def befriend(server: ProsodyServer, a: Account, b: Account) -> None:
    """Mutual subscription between a and b, set up by plain clients."""
    pa, pb = Peer(a, server.ca_file, "setup"), Peer(b, server.ca_file, "setup")
    for p in (pa, pb):
        p.auto_authorize, p.auto_subscribe = True, True
        await p.start(server)
    pa.send_presence_subscription(pto=b.jid)
    for _ in range(100):
        if pa.client_roster[b.jid]["subscription"] == "both":
            break
        await asyncio.sleep(0.05)
    assert pa.client_roster[b.jid]["subscription"] == "both"
    await pa.stop()
    await pb.stop()


@dataclass
class Pair:
    link: ProtocolLink
    events: Events
    peer: Peer  # online as `friend`
    me: Account
    friend: Account

    @property
    def full(self) -> str:
        return self.events.of(ev.LinkUp)[0].jid


@pytest.fixture
async def pair(prosody: ProsodyServer, account_factory: Callable[..., Account]
               ) -> AsyncIterator[Pair]:
    """Our link (as `me`) online, and a befriended peer online."""
    me, friend = account_factory(), account_factory()
    await befriend(prosody, me, friend)
    peer = await Peer(friend, prosody.ca_file).start(prosody)
    link, events = await open_link(prosody, me)
    assert events.of(ev.LinkUp), events.items
    yield Pair(link, events, peer, me, friend)
    await link.disconnect()
    await peer.stop()


@pytest.mark.parametrize("direct", [False, True], ids=["starttls", "direct-tls"])
async def test_connects_and_binds_a_random_resource(
        prosody: ProsodyServer, account_factory: Callable[..., Account], direct: bool) -> None:
    acc = account_factory()
    link, events = await open_link(prosody, acc, direct=direct)
    try:
        up = events.of(ev.LinkUp)
        assert len(up) == 1 and link.online
        bare, _, resource = up[0].jid.partition("/")
        assert bare == acc.jid and resource.startswith("xt-") and len(resource) > 8
        local = acc.jid.split("@")[0]
        for name in (socket.gethostname(), getpass.getuser(), local, "slixmpp", "xmppterm"):
            assert name.lower() not in resource.lower()  # random: names nothing
        assert isinstance(events.items[0], ev.RosterReceived)  # the roster comes before LinkUp
    finally:
        await link.disconnect()
    assert not link.online
    assert not events.of(ev.LinkLost) and not events.of(ev.LinkFailed)  # a quiet goodbye
    with pytest.raises(NotConnected):
        link.send_chat(acc.jid, "x", "id1")


async def test_roster_and_presence(pair: Pair) -> None:
    roster = pair.events.of(ev.RosterReceived)[0]
    assert [(i.jid, i.subscription) for i in roster.items] == [(pair.friend.jid, "both")]
    pair.peer.send_presence(pshow="away", pstatus="in a meeting")
    got = await pair.events.wait(ev.PresenceChanged, lambda e: e.presence.show is Show.AWAY)
    assert got.presence.jid == pair.friend.jid and got.presence.status == "in a meeting"
    assert got.presence.resource == "peer" and got.account == ME
    pair.peer.send_presence(ptype="unavailable")
    await pair.events.wait(ev.PresenceChanged, lambda e: e.presence.show is Show.OFFLINE)


async def test_incoming_message(pair: Pair) -> None:
    msg = pair.peer.make_message(mto=pair.me.jid, mbody="hello <there> & you", mtype="chat")
    msg["origin_id"]["id"] = "peer-origin-1"
    msg.send()
    got = await pair.events.wait(ev.MessageReceived)
    m = got.message
    assert m.chat == ChatKey(ME, pair.friend.jid) and m.sender == pair.friend.jid
    assert m.direction is Direction.INCOMING and m.body == "hello <there> & you"
    assert m.origin_id == "peer-origin-1" and len(m.id) == 32 and m.id != "peer-origin-1"


async def test_outgoing_message_receipt_and_origin_id(pair: Pair) -> None:
    message_id = uuid.uuid4().hex
    pair.link.send_chat(pair.friend.jid, "ping from xmppterm", message_id)
    got = await pair.peer.next_message()
    assert got["body"] == "ping from xmppterm" and got["origin_id"]["id"] == message_id
    assert got["id"] == message_id and got["request_receipt"]
    assert got["from"].bare == pair.me.jid and got["from"].resource.startswith("xt-")
    sent = await pair.events.wait(  # the server's SM ack (link events: not reordered)
        ev.MessageDeliveryChanged, lambda e: e.delivery is Delivery.SENT)
    assert sent.delivery is Delivery.SENT and sent.message_id == message_id
    delivered = await pair.events.wait(  # the peer auto-acks
        ev.MessageDeliveryChanged, lambda e: e.delivery is Delivery.DELIVERED)
    assert delivered.message_id == message_id
    assert delivered.chat == ChatKey(ME, pair.friend.jid)


async def test_receipts_only_to_contacts(pair: Pair, prosody: ProsodyServer,
                                         account_factory: Callable[..., Account]) -> None:
    stranger = await Peer(account_factory(), prosody.ca_file).start(prosody)
    try:
        for sender, mid in ((pair.peer, "from-friend"), (stranger, "from-stranger")):
            msg = sender.make_message(mto=pair.me.jid, mbody=mid, mtype="chat")
            msg["id"], msg["request_receipt"] = mid, True
            msg.send()
            await pair.events.wait(ev.MessageReceived, lambda e, b=mid: e.message.body == b)
        await until(lambda: bool(pair.peer.receipts))
        await asyncio.sleep(0.3)  # the stranger's receipt, had one left, would be here now
        assert pair.peer.receipts == ["from-friend"] and stranger.receipts == []
    finally:
        await stranger.stop()


FORGED = ("<message xmlns='jabber:client' to='{to}'><{kind} xmlns='urn:xmpp:carbons:2'>"
          "<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' type='chat' "
          "from='{frm}' to='{bare}'><body>forged {kind}</body></message></forwarded>"
          "</{kind}></message>")


async def test_forged_carbons_are_dropped(pair: Pair) -> None:
    full, me = pair.full, pair.me.jid
    pair.peer.send_raw(FORGED.format(to=full, kind="received", frm="boss@example.test/x", bare=me))
    pair.peer.send_raw(FORGED.format(to=full, kind="sent", frm=f"{me}/other", bare=me))
    pair.peer.send_message(mto=full, mbody="sentinel", mtype="chat")
    await pair.events.wait(ev.MessageReceived, lambda e: e.message.body == "sentinel")
    assert [e.message.body for e in pair.events.of(ev.MessageReceived)] == ["sentinel"]


async def test_real_carbons_are_accepted(pair: Pair, prosody: ProsodyServer) -> None:
    other = await Peer(pair.me, prosody.ca_file, "phone").start(prosody)  # our own second device
    try:
        for attempt in range(20):  # carbons are enabled in the background after LinkUp
            other.send_message(mto=pair.friend.jid, mbody=f"from my phone {attempt}",
                               mtype="chat")
            try:
                got = await pair.events.wait(ev.MessageReceived, timeout=0.5)
                break
            except TimeoutError:
                continue
        else:
            pytest.fail("no carbon arrived")
        m = got.message
        assert m.direction is Direction.OUTGOING and m.chat == ChatKey(ME, pair.friend.jid)
        assert m.sender == pair.me.jid and m.delivery is Delivery.SENT
        pair.peer.send_message(mto=f"{pair.me.jid}/phone", mbody="to your phone", mtype="chat")
        got = await pair.events.wait(ev.MessageReceived,
                                     lambda e: e.message.body == "to your phone")
        assert got.message.direction is Direction.INCOMING
        assert got.message.sender == pair.friend.jid
    finally:
        await other.stop()


async def test_error_bounce_marks_the_message_failed(pair: Pair) -> None:
    pair.link.send_chat("nobody@other.test", "into the void", "mid-void")
    failed = await pair.events.wait(ev.MessageDeliveryChanged)
    assert failed.delivery is Delivery.FAILED and failed.message_id == "mid-void"
    assert failed.chat == ChatKey(ME, "nobody@other.test") and failed.error


@pytest.mark.parametrize("who", ["contact", "stranger"])
async def test_disco_does_not_name_the_library(pair: Pair, prosody: ProsodyServer,
                                               account_factory: Callable[..., Account],
                                               who: str) -> None:
    full = pair.full
    asker = pair.peer
    if who == "stranger":
        asker = await Peer(account_factory(), prosody.ca_file).start(prosody)
    try:
        info = await asker.plugin["xep_0030"].get_info(jid=full, timeout=10)
        identities = info["disco_info"]["identities"]
        assert {(cat, kind) for cat, kind, _lang, _name in identities} == {("client", "console")}
        text = str(info).lower()
        for name in ("slixmpp", "xmppterm", "python", socket.gethostname().lower(),
                     getpass.getuser().lower()):
            assert name not in text
        for ns in ("jabber:iq:version", "urn:xmpp:time", "jabber:iq:last"):
            iq = asker.make_iq_get(queryxmlns=ns, ito=full)
            with pytest.raises(slixmpp.exceptions.IqError) as err:
                await iq.send(timeout=10)
            assert err.value.iq["error"]["condition"] in ("service-unavailable",
                                                          "feature-not-implemented")
    finally:
        if asker is not pair.peer:
            await asker.stop()


@pytest.mark.parametrize(("policy", "contact", "stranger"), [
    ("never", False, False), ("all", True, True)])
async def test_receipts_follow_the_identity_setting(
        prosody: ProsodyServer, account_factory: Callable[..., Account], policy: str,
        contact: bool, stranger: bool) -> None:
    me, friend = account_factory(), account_factory()
    await befriend(prosody, me, friend)
    peers = [await Peer(friend, prosody.ca_file).start(prosody),
             await Peer(account_factory(), prosody.ca_file).start(prosody)]
    events = Events()
    link = ProtocolLink(replace(config(prosody, me), receipts=policy, chat_states=policy),
                        me.password, events)
    await link.connect()
    try:
        stranger_jid = peers[1].boundjid.bare
        assert [link._client.may_send_chat_state(j) for j in (friend.jid, stranger_jid)] == [
            contact, stranger]
        for sender, mid in zip(peers, ("from-contact", "from-stranger"), strict=True):
            msg = sender.make_message(mto=me.jid, mbody=mid, mtype="chat")
            msg["id"], msg["request_receipt"] = mid, True
            msg.send()
            await events.wait(ev.MessageReceived, lambda e, b=mid: e.message.body == b)
        await until(lambda: [bool(p.receipts) for p in peers] == [contact, stranger])
        await asyncio.sleep(0.5)  # a receipt that must not come would have come by now
        assert [bool(p.receipts) for p in peers] == [contact, stranger]
    finally:
        await link.disconnect()
        for peer in peers:
            await peer.stop()


async def test_wrong_certificate_fails_without_retry(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    other_ca = make_untrusted_certs(tmp_path / "other", ["example.test"]).ca_file
    acc = account_factory()
    for direct in (False, True):
        link, events = await open_link(prosody, acc, direct=direct, ca=other_ca)
        await asyncio.sleep(0.5)
        await link.disconnect()
        [failed] = events.of(ev.LinkFailed)
        assert "certificate for example.test did not verify" in failed.reason
        assert "ca_file" in failed.reason and "[accounts.me]" in failed.reason
        assert events.items == [failed]


async def test_wrong_password_fails_once(prosody: ProsodyServer,
                                         account_factory: Callable[..., Account]) -> None:
    acc = account_factory()
    events = Events()
    link = ProtocolLink(config(prosody, acc), "not the password", events)
    await link.connect()
    await asyncio.sleep(0.3)
    await link.disconnect()
    [failed] = events.items
    assert isinstance(failed, ev.LinkFailed)
    assert f"refused the password for {acc.jid} (not-authorized)" in failed.reason
    assert "password_command in [accounts.me]" in failed.reason


async def test_server_loss_is_reported_and_not_retried(fresh_prosody: ProsodyServer) -> None:
    acc = fresh_prosody.new_account()
    link, events = await open_link(fresh_prosody, acc)
    assert link.online
    fresh_prosody.kill()
    lost = await events.wait(ev.LinkLost)
    assert "example.test" in lost.reason and not link.online
    fresh_prosody.start()
    await asyncio.sleep(3)  # slixmpp on its own would be reconnecting by now
    link_events = [type(e) for e in events.items if isinstance(e, (ev.LinkUp, ev.LinkLost))]
    assert link_events == [ev.LinkUp, ev.LinkLost]  # lost once, never up again on its own
    await link.disconnect()
