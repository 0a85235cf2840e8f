"""The state of one of our own messages as a transition table (DESIGN.md principle 4).

    PENDING --(server ack, or written where the server gives no acks)--> SENT
    PENDING/SENT --(receipt from the recipient)--> DELIVERED
    PENDING/SENT --(error from the recipient's side)--> FAILED
    FAILED --(a receipt after all)--> DELIVERED

A report that would move a message back (a late server ack after the receipt, an error
after delivery) changes nothing. PENDING is also the outbox: a pending message is sent
again after each reconnect, with the same id and origin-id, until the server acks it.
"""

from __future__ import annotations

from .messages import Delivery

D = Delivery
TRANSITIONS: frozenset[tuple[Delivery, Delivery]] = frozenset({
    (D.PENDING, D.SENT),
    (D.PENDING, D.DELIVERED),
    (D.PENDING, D.FAILED),
    (D.SENT, D.DELIVERED),
    (D.SENT, D.FAILED),
    (D.FAILED, D.DELIVERED),
})


def advance(current: Delivery, reported: Delivery) -> Delivery | None:
    """The new state when `reported` moves `current` forward; None when it changes nothing."""
    return reported if (current, reported) in TRANSITIONS else None
