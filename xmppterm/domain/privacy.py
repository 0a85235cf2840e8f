"""Per-identity privacy choices (THREATS.md, "Identity leaks"): whom we tell things.

Receipts (XEP-0184) and chat states (XEP-0085) say that we are here and reading. Each
identity chooses, for each of them: "contacts" (the default: roster contacts who may
see our presence, subscription "from" or "both"), "all" (strangers too) or "never".
"""

from __future__ import annotations

SHARING = ("contacts", "all", "never")
SEES_PRESENCE = frozenset({"from", "both"})


def may_share(policy: str, subscription: str | None) -> bool:
    """Whether the policy lets us answer (or tell) someone with this roster subscription
    (None: not in the roster, a stranger). An unknown policy shares nothing."""
    if policy == "all":
        return True
    if policy == "contacts":
        return subscription in SEES_PRESENCE
    return False
