"""What makes model text safe to show: control characters and escape sequences neutralised.

Model output is data. Before it reaches a widget or a terminal, every C0 and C1 control
character except newline and tab is replaced by a visible stand-in (ESC becomes "␛", so an
escape sequence is shown as text and never interpreted), carriage returns are normalised, and
lone surrogates that cannot be encoded become U+FFFD. Rich markup needs no treatment here: the
UI never parses model text as markup (it uses Text/Content objects), which this module cannot
enforce but the UI tests check.
"""

from __future__ import annotations

import re

# C0 controls (except \t and \n), DEL, C1 controls, and the Unicode "bidi override" controls that
# can make displayed text read differently from what it is.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _stand_in(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode "control pictures" block: ␀ ␁ ... ␛ ... ␟
    if code == 0x7F:
        return "␡"
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return f"<U+{code:04X}>"


def for_display(text: str) -> str:
    """Text safe to show in the terminal: what the model said, with nothing interpreted."""
    if not text:
        return text
    text = text.replace("\r\n", "\n")
    return _UNSAFE.sub(_stand_in, text)


def storable(text: str) -> str:
    """Text that can be encoded as UTF-8 (and therefore saved): lone surrogates replaced.
    Everything else, control characters included, is kept exactly."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if text else text


def is_clean(text: str) -> bool:
    return _UNSAFE.search(text.replace("\r\n", "\n")) is None


# Everything a terminal could obey or that reorders text, in one rendered line: C0 controls
# but tab, DEL, C1 controls and the bidi overrides.
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def has_controls(text: str) -> bool:
    return _CONTROLS.search(text) is not None


def strip_controls(text: str) -> str:
    """`text` with every control character removed (not replaced): the last line of defence
    for a line about to be written to the terminal, laid out with those characters at zero
    width. Text shown on purpose goes through `for_display` first, which makes them visible;
    this only catches what a widget passed through as it was (an input field holding a
    model id or a system prompt from a session file, say)."""
    return _CONTROLS.sub("", text)
