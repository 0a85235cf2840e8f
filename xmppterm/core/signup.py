"""Creating an account in-band: implements `domain.registration.SignUp`.

The new identity's route is decided exactly as for a configured one: its table goes
into (a copy of) the configuration and through `config.parse_config`, so `[settings]`
defaults (`tor = true`...) apply and what the loader would refuse is refused before
anything connects. The JID's name part is not known before the form is answered: the
first plan uses a placeholder; only the domain and the route of it are used.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from ..config import AccountConfig, ConfigError, parse_config
from ..domain.ids import AccountId, InvalidJid, parse_jid
from ..domain.registration import (
    RegistrationFailed,
    RegistrationForm,
    SignUpDone,
    SignUpRequest,
    check_request,
    collect,
)
from .link import ISOLATION, SocksIsolation
from .route import describe_route

RawConfig = Callable[[], dict[str, Any]]
PLACEHOLDER = "xmppterm-sign-up"


class Registrar(Protocol):
    """What a sign-up needs of the protocol layer (`protocol.registration.Registration`)."""

    async def open(self) -> RegistrationForm: ...

    async def submit(self, values: dict[str, tuple[str, ...]]) -> None: ...

    async def close(self) -> None: ...


RegistrarFactory = Callable[[AccountConfig, tuple[str, str]], Registrar]


def protocol_registrar(account: AccountConfig, socks_auth: tuple[str, str]) -> Registrar:
    from ..protocol.registration import Registration  # late: tests may not need slixmpp

    return Registration(account, socks_auth=socks_auth)


def plan(raw: dict[str, Any], request: SignUpRequest, jid: str,
         path: Path | None = None) -> AccountConfig:
    """The identity as the configuration would load it with this JID; ConfigError if not."""
    data = copy.deepcopy(raw)
    accounts = data.setdefault("accounts", {})
    if not isinstance(accounts, dict):
        raise ConfigError(path, "accounts", "must be a table", "Write it as [accounts.NAME]")
    accounts[request.name] = request.table(jid)
    return parse_config(data, path).account(AccountId(request.name))


class SignUpService:
    def __init__(self, raw_config: RawConfig, path: Path | None = None,
                 factory: RegistrarFactory = protocol_registrar,
                 isolation: SocksIsolation = ISOLATION) -> None:
        self._raw, self._path = raw_config, path
        self._factory, self._isolation = factory, isolation

    async def begin(self, request: SignUpRequest) -> SignUpSession:
        problem = check_request(request)
        if problem:
            raise RegistrationFailed(problem)
        try:
            raw = self._raw()
        except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError is a ValueError
            raise RegistrationFailed(f"The configuration file cannot be read: {exc}") from None
        if request.name in (raw.get("accounts") or {}):
            raise RegistrationFailed(f"An identity named {request.name!r} exists already: "
                                     "choose another identity name.")
        try:
            probe = plan(raw, request, f"{PLACEHOLDER}@{request.domain}", self._path)
        except ConfigError as exc:
            raise RegistrationFailed(str(exc)) from None
        pair = self._isolation.credentials(probe)
        registrar = self._factory(probe, pair)
        try:
            form = await registrar.open()
        except BaseException:
            await registrar.close()
            raise
        return SignUpSession(request, probe, registrar, form, describe_route(probe, pair),
                             lambda jid: plan(raw, request, jid, self._path))


class SignUpSession:
    """Implements `domain.registration.SignUpSession`: one connection, one account."""

    def __init__(self, request: SignUpRequest, probe: AccountConfig, registrar: Registrar,
                 form: RegistrationForm, route: tuple[str, ...],
                 replan: Callable[[str], AccountConfig]) -> None:
        self.request, self.probe = request, probe
        self._registrar, self._form, self._route, self._replan = registrar, form, route, replan

    @property
    def form(self) -> RegistrationForm:
        return self._form

    @property
    def route(self) -> tuple[str, ...]:
        return self._route

    async def submit(self, answers: Mapping[str, str]) -> SignUpDone:
        values = collect(self._form, answers)
        if isinstance(values, str):
            raise RegistrationFailed(values, retry=True)
        jid = self._jid(values)
        password = (values.get("password") or ("",))[0]
        await self._registrar.submit(values)
        table = {"name": self.request.name, **self.request.table(jid), "password": password}
        return SignUpDone(jid, password, table)

    def _jid(self, values: dict[str, tuple[str, ...]]) -> str:
        names = values.get("username")
        if self._form.field("username") is None or not names:
            raise RegistrationFailed("The server's form has no username field, so xmppterm "
                                     "cannot tell which account it would create.")
        try:
            jid = parse_jid(f"{names[0].strip()}@{self.probe.domain}")
            self._replan(jid.bare)
        except (InvalidJid, ConfigError) as exc:
            raise RegistrationFailed(f"Username: {exc}", retry=True) from None
        if jid.resource or not jid.local:
            raise RegistrationFailed("Username: a name without @ or /.", retry=True)
        return jid.bare

    async def close(self) -> None:
        await self._registrar.close()
