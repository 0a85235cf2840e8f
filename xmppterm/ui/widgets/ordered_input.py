"""An Input that applies keys in the order they came.

Textual runs a focused widget's bindings only once the key has bubbled back up to the
app, after the printable keys already queued in the widget were typed. Keys that reach
the app together (type-ahead over a slow SSH or Tor link, a fast typist, a terminal
that delivers several keys in one read) were therefore applied out of order: "abc",
Backspace, "x" gave "abc", and "hi", Enter, "there" submitted "hithere". This Input
runs its own bindings (those of its class and its subclasses) at once, in `_on_key`;
a binding whose action declines (SkipAction, check_action) goes on up as before.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class OrderedInput(Input):
    async def _on_key(self, event: events.Key) -> None:
        if not event.is_printable:
            for binding in self._bindings.key_to_bindings.get(event.key, ()):
                if not binding.priority and await self.app.run_action(binding.action, self):
                    event.stop()
                    event.prevent_default()
                    return
        await super()._on_key(event)
