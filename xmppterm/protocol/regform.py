"""The `jabber:iq:register` query (XEP-0077) to and from `domain.registration` types.

Parsed once, here: an XEP-0004 data form when the server sends one (XEP-0077 says to
use it then), else the legacy fields; CAPTCHA challenges (XEP-0158) as the media URIs
(XEP-0221) of their fields. Strings are kept as sent; sanitising is for display.
Everything is bounded: a hostile server cannot make the form huge.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..domain.registration import FormField, MediaUri, RegistrationForm

REG_NS = "jabber:iq:register"
XDATA_NS = "jabber:x:data"
OOB_NS = "jabber:x:oob"
MEDIA_NS = "urn:xmpp:media-element"
NOT_FIELDS = frozenset({"instructions", "registered", "remove", "x"})
MAX_FIELDS, MAX_VALUES, MAX_OPTIONS, MAX_MEDIA = 64, 32, 100, 8
MAX_TEXT = 4000


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _text(elem: ET.Element | None) -> str:
    return (elem.text or "")[:MAX_TEXT] if elem is not None else ""


def parse_query(query: ET.Element | None, domain: str, advertised: bool = True
                ) -> RegistrationForm:
    """The form in the server's answer to our `get` (an empty one if it sent none)."""
    if query is None:
        return RegistrationForm(domain, (), data_form=False, advertised=advertised)
    web = _text(query.find(f"{_q(OOB_NS, 'x')}/{_q(OOB_NS, 'url')}"))
    registered = query.find(_q(REG_NS, "registered")) is not None
    legacy_note = _text(query.find(_q(REG_NS, "instructions")))
    form = query.find(_q(XDATA_NS, "x"))
    if form is None:
        return RegistrationForm(domain, _legacy_fields(query), instructions=legacy_note,
                                data_form=False, web_url=web, advertised=advertised,
                                registered=registered)
    fields = tuple(f for f in map(_field, form.findall(_q(XDATA_NS, "field"))[:MAX_FIELDS])
                   if f is not None)
    form_type = next((f.values[0] for f in fields if f.var == "FORM_TYPE" and f.values), "")
    notes = [_text(i) for i in form.findall(_q(XDATA_NS, "instructions"))[:8]]
    return RegistrationForm(domain, fields, title=_text(form.find(_q(XDATA_NS, "title")))[:200],
                            instructions="\n".join(n for n in notes if n) or legacy_note,
                            form_type=form_type, web_url=web, advertised=advertised,
                            registered=registered)


def _legacy_fields(query: ET.Element) -> tuple[FormField, ...]:
    fields: list[FormField] = []
    for child in list(query)[:MAX_FIELDS]:
        ns, _, name = child.tag[1:].partition("}")
        if ns != REG_NS or name in NOT_FIELDS:
            continue
        value = _text(child)
        kind = "text-private" if name == "password" else "text-single"
        if name == "key":  # a token to send back as it came
            kind = "hidden"
        fields.append(FormField(name, kind, label=name.capitalize(), required=True,
                                values=(value,) if value else ()))
    return tuple(fields)


def _field(elem: ET.Element) -> FormField | None:
    kind = elem.get("type", "text-single")[:40]
    var = elem.get("var", "")[:200]
    if not var and kind != "fixed":
        return None
    values = tuple(_text(v) for v in elem.findall(_q(XDATA_NS, "value"))[:MAX_VALUES])
    options = tuple((o.get("label", "")[:200], _text(o.find(_q(XDATA_NS, "value"))))
                    for o in elem.findall(_q(XDATA_NS, "option"))[:MAX_OPTIONS])
    media = tuple(MediaUri(u.get("type", "")[:100], _text(u))
                  for m in elem.findall(_q(MEDIA_NS, "media"))[:MAX_MEDIA]
                  for u in m.findall(_q(MEDIA_NS, "uri"))[:MAX_MEDIA])
    return FormField(var, kind, label=elem.get("label", "")[:200],
                     desc=_text(elem.find(_q(XDATA_NS, "desc"))),
                     required=elem.find(_q(XDATA_NS, "required")) is not None,
                     values=values, options=options, media=media[:MAX_MEDIA])


def answer_query(form: RegistrationForm, values: dict[str, tuple[str, ...]]) -> ET.Element:
    """Our `set`: the answers as a submitted data form, or as legacy fields."""
    query = ET.Element(_q(REG_NS, "query"))
    if not form.data_form:
        for var, vals in values.items():
            ET.SubElement(query, _q(REG_NS, var)).text = vals[0] if vals else ""
        return query
    submitted = ET.SubElement(query, _q(XDATA_NS, "x"), {"type": "submit"})
    for var, vals in values.items():
        fld = ET.SubElement(submitted, _q(XDATA_NS, "field"), {"var": var})
        for value in vals:
            ET.SubElement(fld, _q(XDATA_NS, "value")).text = value
    return query
