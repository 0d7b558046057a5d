"""Keys typed in a burst, applied in the order they were typed.

Textual 8.2.8 (Textualize/textual#6605) lets an `Input` or `TextArea` insert a printable key
in its own `_on_key`, but runs a *bound* key (backspace, delete, the arrows, home/end, ctrl+w,
ctrl+u, ctrl+k...) only once the key event has bubbled up to the App, which then walks the
binding chain from the focused widget. Every hop of that bubble is a `post_message` onto the
next node's queue, so when several keys arrive in one read (over SSH, or while the app is busy)
the widget has already inserted the characters typed after the bound key by the time the App
gets round to it: `abc`, DEL, `d` gives `abc`; `abc`, two left arrows, `d` gives `abcd`.

`OrderedKeys` runs the widget's OWN bindings for a key inside the widget's key handler, in
order with the characters, and stops the event so the App does not run that binding a second
time. It does exactly what the App would have done for those bindings: the focused widget is
the first namespace of the binding chain, priority bindings were already checked by the App
before the key was forwarded, and the same `run_action` (with `check_action` and
`SkipAction`) decides whether a binding handled the key. Keys the widget does not bind, or
whose binding declines, go on as before, so the App's and the screen's bindings (ctrl+q,
ctrl+y, escape...) still get them.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class OrderedKeys:
    """Mixin for `Input` and `TextArea` subclasses; list it before the widget class.

    Textual calls the `_on_key` of every class in the MRO, subclass first, until one calls
    `prevent_default()`. This one runs the base widget's own handler first (which inserts a
    printable key and stops the event), and only for a key that handler left alone does it
    run the widget's bindings inline. A subclass's own `_on_key` need not call `super()`
    (calling it is harmless: a key is looked at once).
    """

    async def _on_key(self, event: events.Key) -> None:
        if event._no_default_action or event._stop_propagation:
            return  # a subclass's own key handler dealt with it
        if self.__dict__.get("_ordered_keys_event") is event:
            return  # already looked at (a subclass called super(), then Textual called us)
        self._ordered_keys_event = event
        # The widget's own handling (Input/TextArea._on_key inserts printable keys) first,
        # exactly as it would run without this mixin.
        await super()._on_key(event)
        if event._stop_propagation:
            return
        if await self.run_own_binding(event.key):
            event.stop()  # the App must not run the binding again
            event.prevent_default()

    async def run_own_binding(self, key: str) -> bool:
        """Run this widget's own (non-priority) binding for `key`, as the App's binding chain
        would at its head; True if one handled it."""
        app = self.app
        if self.screen.focused is not self or self.loading:
            return False  # not the head of the binding chain: leave the key to the App
        bindings = self._bindings.copy()
        if app._keymap:
            bindings.apply_keymap(app._keymap)
        for binding in bindings.key_to_bindings.get(key, ()):
            if binding.priority:
                continue  # the App ran the priority bindings before forwarding the key
            if await app.run_action(binding.action, self):
                return True
        return False


class OrderedInput(OrderedKeys, Input):
    """An `Input` that applies keys typed in a burst in order."""
