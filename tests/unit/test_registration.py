"""In-band registration as data: parsing the server's query (data form, legacy, CAPTCHA),
the answers we send, and what the user is shown (sanitised). No network."""

from __future__ import annotations

import base64
import string
import xml.etree.ElementTree as ET

import pytest

from xmppterm.domain.registration import (
    FormField,
    RegistrationForm,
    SignUpRequest,
    check_request,
    collect,
    field_lines,
    form_lines,
    generate_password,
    preset,
    read_pin,
    refusal,
)
from xmppterm.protocol.regform import answer_query, parse_query

B64_PIN = base64.b64encode(bytes(range(32))).decode()
PIN = "sha256/" + B64_PIN

PROSODY_FORM = """<query xmlns='jabber:iq:register'>
  <instructions>Choose a username and password for use with this service.</instructions>
  <username/><password/>
  <x xmlns='jabber:x:data' type='form'>
    <title>Creating a new account</title>
    <instructions>Choose a username and password.</instructions>
    <field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>
    <field var='username' type='text-single' label='Username'><required/></field>
    <field var='password' type='text-private' label='Password'><required/></field>
  </x>
</query>"""

# XEP-0158 example 3, with hostile strings where a server could put them (C0 controls
# cannot travel in XML 1.0; C1 controls such as CSI U+009B and bidi overrides can).
CAPTCHA_FORM = """<query xmlns='jabber:iq:register'>
  <x xmlns='jabber:x:data' type='form'>
    <instructions>Answer \u009d52;c;cm0gLXJmIH4=\u009c the question</instructions>
    <field type='hidden' var='FORM_TYPE'><value>urn:xmpp:captcha</value></field>
    <field type='hidden' var='challenge'><value>F3A6292C</value></field>
    <field type='hidden' var='sid'><value>spam1</value></field>
    <field var='username' type='text-single' label='User\u202ename'><required/></field>
    <field var='password' type='text-private' label='Password'><required/></field>
    <field label='What is 3 + 4? [bold]x[/]' var='qa' type='text-single'><required/></field>
    <field label='Enter the text you see' var='ocr'>
      <media xmlns='urn:xmpp:media-element' height='80' width='290'>
        <uri type='image/png'>http://www.victim.com/challenges/ocr.png?F3A6292C\u009b2J</uri>
        <uri type='image/jpeg'>cid:sha1+f24030b8d91d233bac14777be5ab531ca3b9f102@bob.xmpp.org</uri>
      </media>
    </field>
    <field var='lang' type='list-single' label='Language'>
      <option label='English'><value>en</value></option>
      <option label='Deutsch'><value>de</value></option>
    </field>
    <field var='terms' type='boolean' label='I accept'><value>0</value></field>
    <field type='fixed'><value>Read the rules first.</value></field>
  </x>
  <x xmlns='jabber:x:oob'><url>https://www.victim.com/register</url></x>
</query>"""

LEGACY_FORM = """<query xmlns='jabber:iq:register'>
  <instructions>Pick a name.</instructions>
  <username/><password/><email/><key>tok-123</key>
</query>"""


def parse(text: str, advertised: bool = True) -> RegistrationForm:
    return parse_query(ET.fromstring(text), "example.org", advertised)  # noqa: S314 (our own text)


def test_prosody_data_form() -> None:
    form = parse(PROSODY_FORM)
    assert form.data_form and form.form_type == "jabber:iq:register" and not form.captcha
    assert [f.var for f in form.fields] == ["FORM_TYPE", "username", "password"]
    assert [f.var for f in form.inputs] == ["username", "password"]
    assert form.title == "Creating a new account"
    assert form.instructions == "Choose a username and password."
    assert form.field("password") == FormField("password", "text-private", "Password",
                                               required=True)


def test_answers_go_back_as_a_submitted_form_with_the_hidden_fields() -> None:
    form = parse(PROSODY_FORM)
    values = collect(form, {"username": "alice", "password": "pw"})
    assert values == {"FORM_TYPE": ("jabber:iq:register",), "username": ("alice",),
                      "password": ("pw",)}
    assert isinstance(values, dict)
    query = answer_query(form, values)
    x = query.find("{jabber:x:data}x")
    assert x is not None and x.get("type") == "submit"
    sent = {f.get("var"): [v.text for v in f] for f in x}
    assert sent == {"FORM_TYPE": ["jabber:iq:register"], "username": ["alice"],
                    "password": ["pw"]}
    assert collect(form, {"username": "alice"}) == "Fill in: Password."


def test_legacy_fields_are_all_required_and_the_key_goes_back() -> None:
    form = parse(LEGACY_FORM)
    assert not form.data_form and form.instructions == "Pick a name."
    assert [(f.var, f.kind) for f in form.fields] == [
        ("username", "text-single"), ("password", "text-private"), ("email", "text-single"),
        ("key", "hidden")]
    assert collect(form, {"username": "a", "password": "p"}) == "Fill in: Email."
    values = collect(form, {"username": "a", "password": "p", "email": "a@b.c"})
    assert isinstance(values, dict)
    query = answer_query(form, values)
    assert [(c.tag.split("}")[1], c.text) for c in query] == [
        ("username", "a"), ("password", "p"), ("email", "a@b.c"), ("key", "tok-123")]


def test_a_captcha_is_shown_as_text_and_links_sanitised() -> None:
    form = parse(CAPTCHA_FORM)
    assert form.captcha and form.web_url == "https://www.victim.com/register"
    head = "\n".join(form_lines(form))
    assert "\u009d" not in head and "\u009c" not in head and "⟨U+009D⟩52" in head
    assert "CAPTCHA" in head and "never opens" in head and "victim.com/register" in head
    ocr = form.field("ocr")
    assert ocr is not None and ocr.kind == "text-single" and len(ocr.media) == 2
    lines = field_lines(ocr)
    assert lines[0] == ("image/png at http://www.victim.com/challenges/ocr.png?F3A6292C⟨U+009B⟩2J "
                        "(not fetched)")
    assert "image/jpeg sent inside the stanza" in lines[1] and "cannot show" in lines[1]
    username = form.field("username")
    assert username is not None and username.title == "User⟨U+202E⟩name"
    qa = form.field("qa")
    assert qa is not None and qa.title == "What is 3 + 4? [bold]x[/]"  # drawn as Text, not markup


def test_captcha_answers_keep_the_challenge() -> None:
    form = parse(CAPTCHA_FORM)
    answers = {"username": "a", "password": "p", "qa": "7", "ocr": "x7f", "lang": "2",
               "terms": "yes"}
    values = collect(form, answers)
    assert isinstance(values, dict)
    assert values["challenge"] == ("F3A6292C",) and values["sid"] == ("spam1",)
    assert values["lang"] == ("de",) and values["terms"] == ("1",)
    assert "" not in values  # the fixed field is not sent
    assert collect(form, {**answers, "lang": "3"}) == "Language: choose one of the numbers shown."
    assert collect(form, {**answers, "terms": "maybe"}) == "I accept: answer yes or no."
    lang = form.field("lang")
    assert lang is not None and field_lines(lang) == ["1) English [en]", "2) Deutsch [de]"]
    terms = form.field("terms")
    assert terms is not None and preset(terms) == "no"


def test_a_huge_form_is_bounded() -> None:
    fields = "".join(f"<field var='f{n}'><value>{'v' * 10}</value></field>" for n in range(500))
    form = parse(f"<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data'>{fields}</x></query>")
    assert len(form.fields) == 64


def test_no_query_is_an_empty_form() -> None:
    form = parse_query(None, "example.org", advertised=False)
    assert form.fields == () and "did not announce" in "\n".join(form_lines(form))


def test_refusals_say_what_the_server_said_sanitised() -> None:
    taken = refusal("example.org", "conflict", "The requested username already exists.")
    assert taken.retry and "taken" in str(taken)
    assert str(taken).endswith('The server says: "The requested username already exists."')
    closed = refusal("example.org", "service-unavailable", "")
    assert not closed.retry and str(closed) == ("example.org does not let anyone create an "
                                                "account here (service-unavailable).")
    policy = refusal("example.org", "not-acceptable", "bad\x1b[31m\nname")
    assert policy.retry and "␛[31m / name" in str(policy) and "\x1b" not in str(policy)
    wait = refusal("example.org", "policy-violation", "Too many registrations", kind="wait")
    assert not wait.retry and "try again later" in str(wait)


def test_generated_passwords_are_strong_and_differ() -> None:
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50
    alphabet = set(string.ascii_letters + string.digits + "-_")
    assert all(len(p) == 24 and set(p) <= alphabet for p in passwords)


@pytest.mark.parametrize(("request_", "problem"), [
    (SignUpRequest("example.org", name="a.b"), "Identity name"),
    (SignUpRequest("me@example.org"), "Server"),
    (SignUpRequest("example.org/x"), "Server"),
    (SignUpRequest(""), "Server"),
    (SignUpRequest("example.org", route="proxy"), "Proxy"),
    (SignUpRequest("example.org", route="direct", proxy="socks5://127.0.0.1:1"), "Proxy"),
    (SignUpRequest("example.org", proxy="socks5://127.0.0.1:1"), "Proxy"),
    (SignUpRequest("example.org", port=70000), "Port"),
    (SignUpRequest("example.org", host="a b"), "Host"),
    (SignUpRequest("example.org", tls_pin="sha256/abc"), "Key pin (tls_pin): 'sha256/abc'"),
    (SignUpRequest("example.org", tls_pin=B64_PIN), "Key pin (tls_pin)"),  # no prefix
])
def test_requests_are_checked(request_: SignUpRequest, problem: str) -> None:
    found = check_request(request_)
    assert found is not None and found.startswith(problem)


def test_the_table_names_the_route() -> None:
    assert SignUpRequest("x.org").table("a@x.org") == {"jid": "a@x.org", "tls": "starttls"}
    assert SignUpRequest("x.org", route="tor").table("a@x.org")["tor"] is True
    tor_browser = SignUpRequest("x.org", route="tor", proxy="socks5://127.0.0.1:9150")
    assert tor_browser.table("a@x.org")["proxy"] == "socks5://127.0.0.1:9150"
    assert SignUpRequest("x.org", route="direct").table("a@x.org")["tor"] is False
    full = SignUpRequest("x.org", route="proxy", proxy="socks5://10.0.0.1:1080", host="h.onion",
                         port=5223, tls="direct", ca_file="/ca.pem").table("a@x.org")
    assert full == {"jid": "a@x.org", "tls": "direct", "proxy": "socks5://10.0.0.1:1080",
                    "host": "h.onion", "port": 5223, "ca_file": "/ca.pem"}


def test_a_key_pin_is_read_canonical_and_goes_into_the_table() -> None:
    assert read_pin("") == ("", "") and read_pin("  ") == ("", "")
    assert read_pin(f" sha256//{B64_PIN} ") == (PIN, "")  # curl's form, blanks around
    assert check_request(SignUpRequest("x.org", tls_pin=PIN)) is None
    assert SignUpRequest("x.org", tls_pin=PIN).table("a@x.org") == {
        "jid": "a@x.org", "tls": "starttls", "tls_pin": PIN}
    assert "tls_pin" not in SignUpRequest("x.org").table("a@x.org")


@pytest.mark.parametrize(("typed", "why"), [
    ("sha256/" + B64_PIN[:-4], "holds 30 bytes, not the 32 of a SHA-256"),
    ("sha1/" + B64_PIN, "does not start with sha256/"),
    ("sha256/\x1b[2J" + B64_PIN, "is not valid base64"),
])
def test_a_bad_key_pin_says_what_is_wrong_and_where_to_look(typed: str, why: str) -> None:
    pin, problem = read_pin(typed)
    assert pin == "" and problem.startswith("Key pin (tls_pin): ") and why in problem
    assert "sha256/BASE64" in problem and "README" in problem
    assert "\x1b" not in problem  # the user's own text, shown without control characters
