"""Publishing our device lists and bundles on servers that refuse publish options.

slixmpp-omemo publishes every OMEMO item with XEP-0060 publish-options (access model
open, persistent, max items); on `precondition-not-met` it configures the node and
publishes again, with the same options. Servers that refuse publish-options altogether
(some ejabberd and Openfire set-ups: `precondition-not-met` for any node, or
`feature-not-implemented`) then never get our keys, and nobody can encrypt to us. The
fallback here (XEP-0060 §7.1.5, XEP-0222): publish without options, then configure the
node with them. If that fails too, the upload fails as before and the plugin reports
"OMEMO is off" with the reason (plugin.describe_start_failure).

The library calls one module-level function for every such publish; `install` wraps it
(once, for the whole process).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

import slixmpp_omemo.xep_0384 as library
from slixmpp.exceptions import IqError
from slixmpp.jid import JID

log = logging.getLogger(__name__)
PUBSUB_ERRORS = "http://jabber.org/protocol/pubsub#errors"
NODE_CONFIG = "http://jabber.org/protocol/pubsub#node_config"
# What a server answers that does not take our publish options (item-not-found: the
# library tried to configure a node the refused publish never created).
REFUSALS = ("precondition-not-met", "feature-not-implemented", "item-not-found")

Publish = Callable[[Any, str, str, Any, str, dict[str, str]], Coroutine[Any, Any, None]]


def refused_options(exc: IqError) -> str | None:
    """The condition if `exc` says the server will not take publish options."""
    error = exc.iq["error"]
    if error.xml.find(f"{{{PUBSUB_ERRORS}}}precondition-not-met") is not None:
        return "precondition-not-met"
    condition = str(error["condition"])
    return condition if condition in REFUSALS else None


def with_fallback(publish: Publish) -> Publish:
    async def publish_item_and_configure_node(xep_0060: Any, service: str, node: str, item: Any,
                                              item_id: str, options: dict[str, str]) -> None:
        try:
            await publish(xep_0060, service, node, item, item_id, options)
            return
        except IqError as exc:
            condition = refused_options(exc)
            if condition is None:
                raise
        log.info("the server refused publish options (%s); publishing without them and "
                 "configuring the node", condition)
        await xep_0060.publish(JID(service), node, item_id, item)
        await xep_0060.set_node_config(JID(service), node,
                                       library._make_options_form(NODE_CONFIG, options))

    publish_item_and_configure_node.xt_fallback = True  # type: ignore[attr-defined]
    return publish_item_and_configure_node


def install() -> None:
    """Wrap the library's publish with the fallback (idempotent)."""
    current = getattr(library, "_publish_item_and_configure_node", None)
    if current is None:
        log.warning("slixmpp-omemo changed: no fallback for servers without publish options")
        return
    if not getattr(current, "xt_fallback", False):
        # a module function replaced: mypy only knows it as the function it was
        library._publish_item_and_configure_node = with_fallback(current)  # type: ignore[assignment]
