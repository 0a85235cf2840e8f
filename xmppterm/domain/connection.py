"""The connection lifecycle of one identity as a transition table (DESIGN.md principle 4)."""

from __future__ import annotations

from enum import Enum


class ConnState(Enum):
    OFFLINE = "offline"
    CONNECTING = "connecting"
    ONLINE = "online"
    WAITING = "waiting to reconnect"
    FAILED = "failed"


class Trigger(Enum):
    CONNECT = "connect"  # the user (or start-up) asks to connect
    SESSION_STARTED = "session started"  # authenticated, session bound
    LOST = "lost"  # the network dropped, the server closed, a timeout
    FATAL = "fatal"  # an error that retrying cannot fix (certificate, TLS missing, auth)
    RETRY_DUE = "retry due"  # the backoff timer fired
    DISCONNECT = "disconnect"  # the user asks to go offline


class InvalidTransition(RuntimeError):
    pass


S, T = ConnState, Trigger
TRANSITIONS: dict[tuple[ConnState, Trigger], ConnState] = {
    (S.OFFLINE, T.CONNECT): S.CONNECTING,
    (S.FAILED, T.CONNECT): S.CONNECTING,
    (S.WAITING, T.CONNECT): S.CONNECTING,
    (S.WAITING, T.RETRY_DUE): S.CONNECTING,
    (S.CONNECTING, T.SESSION_STARTED): S.ONLINE,
    (S.CONNECTING, T.LOST): S.WAITING,
    (S.CONNECTING, T.FATAL): S.FAILED,
    (S.ONLINE, T.LOST): S.WAITING,
    (S.ONLINE, T.FATAL): S.FAILED,
    (S.OFFLINE, T.DISCONNECT): S.OFFLINE,
    (S.CONNECTING, T.DISCONNECT): S.OFFLINE,
    (S.ONLINE, T.DISCONNECT): S.OFFLINE,
    (S.WAITING, T.DISCONNECT): S.OFFLINE,
    (S.FAILED, T.DISCONNECT): S.OFFLINE,
    # Late reports after the user went offline or after a fatal error change nothing.
    (S.OFFLINE, T.LOST): S.OFFLINE,
    (S.OFFLINE, T.FATAL): S.OFFLINE,
    (S.FAILED, T.LOST): S.FAILED,
    (S.FAILED, T.FATAL): S.FAILED,
    (S.WAITING, T.LOST): S.WAITING,
    (S.WAITING, T.FATAL): S.FAILED,
}


def next_state(state: ConnState, trigger: Trigger) -> ConnState:
    """The state after `trigger`; raises InvalidTransition for a pair the table lacks."""
    try:
        return TRANSITIONS[(state, trigger)]
    except KeyError:
        raise InvalidTransition(f"{trigger.value!r} in state {state.value!r}") from None


def backoff_delay(attempt: int, rand: float, base: float = 2.0, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter; `rand` in [0, 1) is supplied by the caller
    so that each identity draws its own and reconnects are not synchronised."""
    ceiling = min(cap, base * float(2 ** min(attempt, 16)))
    return max(1.0, ceiling * rand)
