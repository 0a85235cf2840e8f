"""XEP-0004 data forms as the room owner form uses them: read a form into fields,
check a value against its field, and build the submitted form. Pure: ElementTree only.

A form comes from the room's service: every label, value and option is remote text
(bounded here, sanitised where drawn). Fields past `MAX_FIELDS`, options past
`MAX_OPTIONS` and over-long strings are dropped or cut, never trusted to be small.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass

from ...domain.ids import InvalidJid, parse_jid

XDATA = "jabber:x:data"
X = f"{{{XDATA}}}x"
FIELD = f"{{{XDATA}}}field"
VALUE = f"{{{XDATA}}}value"
OPTION = f"{{{XDATA}}}option"
MAX_FIELDS = 200
MAX_OPTIONS = 100
MAX_VALUES = 500
MAX_TEXT = 1024
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
MULTI = frozenset({"list-multi", "jid-multi", "text-multi"})
READ_ONLY = frozenset({"fixed"})


class FormValueError(ValueError):
    """A value the field does not take; the message names the field and the fix."""


@dataclass(frozen=True, slots=True)
class FormField:
    var: str
    label: str = ""
    type: str = "text-single"
    values: tuple[str, ...] = ()
    options: tuple[str, ...] = ()  # the option values of a list field

    @property
    def value(self) -> str:
        """The value(s) as one line (multi values joined by ", ")."""
        return ", ".join(self.values)


def _text(el: ET.Element | None) -> str:
    return ((el.text or "") if el is not None else "")[:MAX_TEXT]


def parse_form(x: ET.Element) -> tuple[FormField, ...]:
    """The fields of a `<x xmlns='jabber:x:data'>` (fields without a var are skipped,
    except fixed ones, which carry no var and are not submitted)."""
    fields: list[FormField] = []
    for el in x.findall(FIELD)[:MAX_FIELDS]:
        var, kind = el.get("var", "")[:MAX_TEXT], el.get("type", "text-single")[:40]
        if not var:
            continue
        values = tuple(_text(v) for v in el.findall(VALUE)[:MAX_VALUES])
        options = tuple(_text(o.find(VALUE)) for o in el.findall(OPTION)[:MAX_OPTIONS])
        fields.append(FormField(var, el.get("label", "")[:MAX_TEXT], kind, values, options))
    return tuple(fields)


def boolean(value: str) -> str | None:
    """A boolean field's value as "1"/"0", or None when it is no boolean."""
    low = value.strip().lower()
    return "1" if low in TRUE_WORDS else "0" if low in FALSE_WORDS else None


def is_true(field: FormField) -> bool:
    return bool(field.values) and boolean(field.values[0]) == "1"


def check_value(field: FormField, value: str) -> tuple[str, ...]:
    """`value` (as typed) for `field`, checked: booleans, list options, JIDs."""
    kind = field.type
    if kind in READ_ONLY:
        raise FormValueError(f"{field.var} cannot be changed")
    if kind == "boolean":
        flag = boolean(value)
        if flag is None:
            raise FormValueError(f"{field.var} takes 1 or 0 (true/false), not {value!r}")
        return (flag,)
    if kind == "text-multi":
        return tuple(value.split("\n"))
    values = tuple(v.strip() for v in value.split(",") if v.strip()) if kind in MULTI \
        else (value,)
    if kind in ("list-single", "list-multi") and field.options:
        for v in values:
            if v not in field.options:
                raise FormValueError(f"{field.var} takes one of: {', '.join(field.options)}")
    if kind in ("jid-single", "jid-multi"):
        for v in values:
            try:
                parse_jid(v)
            except InvalidJid:
                raise FormValueError(f"{field.var}: {v!r} is not a JID") from None
    return values


def submit_form(fields: tuple[FormField, ...],
                changes: Mapping[str, tuple[str, ...]]) -> ET.Element:
    """A `type=submit` form: every field with its current value (hidden FORM_TYPE
    included), `changes` applied."""
    x = ET.Element(X, {"type": "submit"})
    for field in fields:
        if field.type in READ_ONLY:
            continue
        el = ET.SubElement(x, FIELD, {"var": field.var})
        for v in changes.get(field.var, field.values):
            ET.SubElement(el, VALUE).text = v
    return x
