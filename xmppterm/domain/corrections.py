"""Last message correction (XEP-0308): whether a correction may change a message.

Pure rules (THREATS.md, "Origins"; Gajim CVE-2022-39835). A correction changes a message
only when all of these hold, else it is shown as a message of its own, marked:
- the message is in the same chat, and one the correction names (by the id its sender
  gave it: the stanza id or the origin-id; or the id of an earlier correction applied
  to it, for clients that name the last correction instead of the first message);
- it was written by the same person: both ours (a correction from our other device, a
  carbon or a reflection), or both from the contact (1:1: the same bare JID); in a room
  where both carry the room's XEP-0421 occupant-id (`ChatMessage.occupant_id`, read only
  from a room that announces it) that id decides: the same id is the same person, also
  after a nick change or a rejoin (unless real JIDs the room told for both differ), a
  different one is not; else the same real JID when the room told both, otherwise the
  same nick and the same continuous presence of that occupant (`ChatMessage.occupant`,
  set by core only while it saw the occupant present since before the message): a nick
  taken over by someone else, after a leave or a reconnect, corrects nothing;
- the encryption class matches: plaintext corrects plaintext only; an OMEMO message
  only an OMEMO one, from a device trusted at least as much (a correction from an
  unverified device never changes a verified message); undecryptable ones never.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from enum import Enum

from .messages import ChatMessage, Delivery, Direction, Encryption

TRUST_RANK = {Encryption.OMEMO_UNTRUSTED: 1, Encryption.OMEMO_TRUSTED: 2}
NOT_APPLIED = "claims to correct an earlier message: not applied"


class Verdict(Enum):
    APPLY = "apply"
    NOT_A_CORRECTION = "not a correction"
    UNKNOWN = "no such message in this chat"
    OTHER_SENDER = "written by someone else"
    UNPROVEN = "the same writer cannot be established"
    ENCRYPTION = "the encryption does not match"


def wire_ids(msg: ChatMessage) -> frozenset[str]:
    """The ids a correction may name for `msg`: the ids its sender gave it."""
    ids = {msg.remote_id, msg.origin_id}
    if msg.direction is Direction.OUTGOING and msg.origin_id is None:
        ids.add(msg.id)  # ours, sent from here: its stanza id is its local id
    return frozenset(i for i in ids if i)


def wire_id(msg: ChatMessage) -> str:
    """The id a correction of our own message `msg` names."""
    return msg.origin_id or msg.remote_id or msg.id


def _occupant_jid(sender: str) -> bool:
    return "/" in sender  # a room's occupant JID room@service/nick; real JIDs are bare


def same_writer(original: ChatMessage, correction: ChatMessage) -> Verdict:
    if original.direction is not correction.direction or original.in_room != correction.in_room:
        return Verdict.OTHER_SENDER
    if correction.direction is Direction.OUTGOING:
        return Verdict.APPLY  # both ours, in the same chat
    if not correction.in_room:
        return Verdict.APPLY if original.sender == correction.sender else Verdict.OTHER_SENDER
    real = not _occupant_jid(original.sender) and not _occupant_jid(correction.sender)
    if original.occupant_id is not None and correction.occupant_id is not None:
        same = original.occupant_id == correction.occupant_id and \
            (not real or original.sender == correction.sender)  # ids and JIDs must agree
        return Verdict.APPLY if same else Verdict.OTHER_SENDER
    if real:
        return Verdict.APPLY if original.sender == correction.sender else Verdict.OTHER_SENDER
    if original.nick != correction.nick:
        return Verdict.OTHER_SENDER
    if original.occupant is None or original.occupant != correction.occupant:
        return Verdict.UNPROVEN
    return Verdict.APPLY


def encryption_allows(original: Encryption, correction: Encryption) -> bool:
    if original is Encryption.PLAIN or correction is Encryption.PLAIN:
        return original is correction
    if original not in TRUST_RANK or correction not in TRUST_RANK:
        return False  # undecryptable: nothing to correct, nothing to correct with
    return TRUST_RANK[correction] >= TRUST_RANK[original]


def target(correction: ChatMessage, history: Sequence[ChatMessage]) -> ChatMessage | None:
    """The message of the same chat that `correction` names, newest first; a named
    applied correction stands for the message it changed. Among several messages with
    that id, one from the same writer is preferred (an id copied by someone else must
    not hide the writer's own message, nor get the writer's correction refused)."""
    named = [m for m in reversed(history) if m.chat == correction.chat and m.id != correction.id
             and correction.replaces in wire_ids(m)]
    by_id = {m.id: m for m in history if m.chat == correction.chat}
    found = [by_id.get(m.applied_to) if m.applied_to else m for m in named]
    candidates = [m for m in found if m is not None and m.applied_to is None]
    for msg in candidates:
        if same_writer(msg, correction) is Verdict.APPLY:
            return msg
    return candidates[0] if candidates else None


def judge(correction: ChatMessage, history: Sequence[ChatMessage]
          ) -> tuple[Verdict, ChatMessage | None]:
    """Whether `correction` may change a message of `history` (the chat's recent
    messages, oldest first), and which."""
    if not correction.replaces:
        return Verdict.NOT_A_CORRECTION, None
    original = target(correction, history)
    if original is None:
        return Verdict.UNKNOWN, None
    verdict = same_writer(original, correction)
    if verdict is not Verdict.APPLY:
        return verdict, original
    if not encryption_allows(original.encryption, correction.encryption):
        return Verdict.ENCRYPTION, original
    return Verdict.APPLY, original


def corrected(original: ChatMessage, correction: ChatMessage) -> ChatMessage:
    """`original` as the correction changes it: the new body, the first one kept."""
    first = original.original_body if original.original_body is not None else original.body
    return replace(original, body=correction.body, original_body=first)


MOVED_ON = ("Your last message in this chat changed while you were editing (a newer one "
            "was sent, perhaps from another device). Nothing was sent; the text is back: "
            "Enter now corrects the newer one.")


def last_own(history: Sequence[ChatMessage],
             target: str | None = None) -> tuple[ChatMessage | None, str]:
    """Our message that `/correct` changes: the last one shown in the chat, if it is
    ours and was not refused (and, with `target`, has that id: the one the user was
    editing); else None and why."""
    shown = [m for m in history if m.shown]
    if not shown:
        return None, "There is no message in this chat to correct."
    last = shown[-1]
    if last.direction is not Direction.OUTGOING:
        return None, "The last message in this chat is not yours: only your own last " \
                     "message can be corrected."
    if last.delivery is Delivery.FAILED:
        return None, "Your last message was not sent: there is nothing to correct."
    if last.encryption is Encryption.UNDECRYPTABLE:
        return None, "Your last message is not readable on this device: it cannot be " \
                     "corrected from here."
    if target is not None and last.id != target:
        return None, MOVED_ON
    return last, ""
