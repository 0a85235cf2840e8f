"""The fallback for servers that refuse publish options (protocol/omemo/publish.py),
without a server: which refusals it answers, and what it publishes then."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
import slixmpp_omemo.xep_0384 as library
from slixmpp.exceptions import IqError
from slixmpp.stanza import Iq

from xmppterm.protocol.omemo import publish

OPTIONS = {"pubsub#access_model": "open", "pubsub#max_items": "1"}


def refusal(condition: str, pubsub: str | None = None) -> IqError:
    iq = Iq()
    iq["type"] = "error"
    iq["error"]["condition"] = condition
    if pubsub:
        ET.SubElement(iq["error"].xml, f"{{{publish.PUBSUB_ERRORS}}}{pubsub}")
    return IqError(iq)


class FakePubsub:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def publish(self, jid: Any, node: str, item_id: str, item: Any,
                      options: Any = None) -> None:
        self.calls.append(("publish", (str(jid), node, item_id, options)))

    async def set_node_config(self, jid: Any, node: str, form: Any) -> None:
        fields = {k: v[0] if isinstance(v, list) else v for k, v in form.get_values().items()}
        self.calls.append(("configure", (str(jid), node, fields)))


def failing(error: IqError | None) -> publish.Publish:
    async def library_publish(*args: Any) -> None:
        if error is not None:
            raise error
    return library_publish


@pytest.mark.parametrize(("condition", "pubsub"), [
    ("conflict", "precondition-not-met"), ("feature-not-implemented", "unsupported"),
    ("item-not-found", None)])
async def test_a_refusal_of_the_options_publishes_without_them_then_configures(
        condition: str, pubsub: str | None) -> None:
    xep_0060 = FakePubsub()
    fallback = publish.with_fallback(failing(refusal(condition, pubsub)))
    await fallback(xep_0060, "me@example.test", "node", ET.Element("item"), "current", OPTIONS)
    assert xep_0060.calls[0] == ("publish", ("me@example.test", "node", "current", None))
    kind, (jid, node, fields) = xep_0060.calls[1]
    assert (kind, jid, node) == ("configure", "me@example.test", "node")
    assert fields["FORM_TYPE"] == publish.NODE_CONFIG
    assert {k: fields[k] for k in OPTIONS} == OPTIONS


async def test_other_errors_and_success_leave_the_library_alone() -> None:
    xep_0060 = FakePubsub()
    with pytest.raises(IqError):
        await publish.with_fallback(failing(refusal("forbidden")))(
            xep_0060, "me@example.test", "node", ET.Element("item"), "current", OPTIONS)
    await publish.with_fallback(failing(None))(
        xep_0060, "me@example.test", "node", ET.Element("item"), "current", OPTIONS)
    assert xep_0060.calls == []


def test_install_wraps_the_library_once() -> None:
    publish.install()
    wrapped = library._publish_item_and_configure_node
    assert getattr(wrapped, "xt_fallback", False)
    publish.install()
    assert library._publish_item_and_configure_node is wrapped
