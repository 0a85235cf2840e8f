"""Domain records to bytes and back (JSON), kept apart from SQL and from sealing."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ..domain.ids import AccountId, ChatKey
from ..domain.messages import ChatMessage, Delivery, Direction, Encryption
from ..domain.roster import RosterItem


def message_to_bytes(msg: ChatMessage) -> bytes:
    data = {
        "id": msg.id, "jid": msg.chat.jid, "dir": msg.direction.value, "from": msg.sender,
        "body": msg.body, "ts": msg.timestamp.isoformat(), "enc": msg.encryption.value,
        "dlv": msg.delivery.value, "sid": msg.stanza_id, "oid": msg.origin_id, "err": msg.error,
    }
    if msg.nick is not None:
        data["nick"] = msg.nick
    for key, value in (("rid", msg.remote_id), ("repl", msg.replaces),
                       ("orig", msg.original_body), ("appl", msg.applied_to),
                       ("occ", msg.occupant), ("ocid", msg.occupant_id)):
        if value is not None:
            data[key] = value
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def message_from_bytes(account: AccountId, blob: bytes) -> ChatMessage:
    d: dict[str, Any] = json.loads(blob)
    return ChatMessage(
        id=d["id"], chat=ChatKey(account, d["jid"]), direction=Direction(d["dir"]),
        sender=d["from"], body=d["body"], timestamp=datetime.fromisoformat(d["ts"]),
        encryption=Encryption(d["enc"]), delivery=Delivery(d["dlv"]),
        stanza_id=d.get("sid"), origin_id=d.get("oid"), error=d.get("err"),
        nick=d.get("nick"), remote_id=d.get("rid"), replaces=d.get("repl"),
        original_body=d.get("orig"), applied_to=d.get("appl"), occupant=d.get("occ"),
        occupant_id=d.get("ocid"),
    )


def roster_to_bytes(items: tuple[RosterItem, ...]) -> bytes:
    rows = [[i.jid, i.name, i.subscription, list(i.groups), i.asked] for i in items]
    return json.dumps(rows, ensure_ascii=False).encode("utf-8")


def roster_from_bytes(blob: bytes) -> tuple[RosterItem, ...]:
    rows: list[list[Any]] = json.loads(blob)
    return tuple(RosterItem(r[0], r[1], r[2], tuple(r[3]), bool(r[4]) if len(r) > 4 else False)
                 for r in rows)


def strings_to_bytes(values: list[str]) -> bytes:
    return json.dumps(values, ensure_ascii=False).encode("utf-8")


def strings_from_bytes(blob: bytes) -> list[str]:
    values: list[str] = json.loads(blob)
    return values
