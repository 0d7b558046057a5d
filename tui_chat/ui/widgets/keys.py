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

It also keeps typed characters that Textual drops. `Input._on_key` and `TextArea._on_key`
insert a key only if `events.Key.is_printable`, which is Python's `str.isprintable()` of the
key's character, and that is False for every character outside the letter, mark, number,
punctuation and symbol categories but the ASCII space. The driver (`XTermParser`) passes such
characters on as keys all the same (U+200D arrives as the key `zero_width_joiner` with its
character), so typed, they were thrown away, while the same text pasted was kept: the zero-width
joiner of a family emoji (👨‍👩‍👧 became 👨👩👧), the zero-width space, non-joiner and word joiner,
the bidi marks, the tag characters of a subdivision flag, a no-break space (option+space on a
Mac), the ideographic space of a Japanese input method, private-use icons, and any emoji newer
than the Unicode version of this Python (🫨 is unassigned to Python 3.11). `typed_text` is the
widget's own test widened to those; only control characters and line or paragraph separators
are still not text.
"""

from __future__ import annotations

import unicodedata

from textual import events
from textual.widgets import Input

#: Unicode categories that are not text when typed: control characters (ctrl+x, escape,
#: backspace...), surrogates, and the line and paragraph separators.
NOT_TEXT = frozenset({"Cc", "Cs", "Zl", "Zp"})


def typed_text(key: str, character: str | None) -> str | None:
    """The text a key types into an input, or None: what `events.Key.is_printable` accepts,
    and the characters it refuses that are text all the same (see above). A key with a
    modifier (alt+..., ctrl+...) types nothing more than Textual says it does."""
    if character is None or len(character) != 1:
        return None
    if character.isprintable():
        return character
    if "+" in key or unicodedata.category(character) in NOT_TEXT:
        return None
    return character


class _TextKey(events.Key):
    """A key whose character the widget is to insert, though `str.isprintable` says no."""

    @property
    def is_printable(self) -> bool:
        return True


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
        # exactly as it would run without this mixin; a character it would drop is handed
        # to it as a printable key, so it is inserted in the same way (read-only, selection,
        # an Input's restrictions and maximum length).
        if not event.is_printable and typed_text(event.key, event.character) is not None:
            text_key = _TextKey(event.key, event.character)
            await super()._on_key(text_key)
            if text_key._no_default_action:
                event.prevent_default()
            if text_key._stop_propagation:
                event.stop()
        else:
            await super()._on_key(event)
        if event._stop_propagation:
            return
        if await self.run_own_binding(event.key):
            event.stop()  # the App must not run the binding again
            event.prevent_default()

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        """The widget takes the keys it types (the footer then leaves out bindings of those
        keys), and the ones Textual would have dropped."""
        if super().check_consume_key(key, character):
            return True
        if getattr(self, "read_only", False):
            return False
        return character is not None and typed_text(key, character) is not None

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
