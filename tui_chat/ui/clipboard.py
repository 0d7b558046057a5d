"""Copying text out of the app, and finding the fenced code blocks in a reply.

Outside tmux: OSC 52 to the terminal (works over SSH), plus the local clipboard tool when
there is one and we are not over SSH.

Inside tmux ($TMUX set): tmux 3.3+ at its defaults (`set-clipboard external`,
`allow-passthrough off`) drops both an application's plain OSC 52 and the `ESC P tmux;`
passthrough form, so the copy goes through tmux itself: `tmux load-buffer -w -` (tmux 3.2+)
sets tmux's buffer and forwards it to the outer terminal's clipboard. The plain OSC 52 is
written too (it is what works with `set-clipboard on`). When the buffer cannot be set, tmux's
version and options say whether anything can have reached a clipboard, and the words say so.

The deciding is pure (`TmuxProbe` in, `CopyOutcome` out) so tests can call it with any
version, options and failures; `probe_tmux` gathers the facts by running tmux.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: Sets tmux's buffer from stdin and (-w) sends it to the outer terminal's clipboard.
TMUX_LOAD_BUFFER = ("tmux", "load-buffer", "-w", "-")
#: The advice when tmux drops what the app can send.
TMUX_ADVICE = "add `set -g set-clipboard on` to ~/.tmux.conf"
#: Never wait longer than this for one tmux command (they take milliseconds).
TMUX_TIMEOUT = 2.0


def osc52(text: str, tmux: bool = False) -> str:
    """The escape sequence that asks the terminal to put `text` on its clipboard; with
    `tmux`, wrapped in tmux's passthrough (only for tmux < 3.3 or `allow-passthrough on`)."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    sequence = f"\x1b]52;c;{payload}\x07"
    if tmux:
        # tmux passthrough: a DCS string in which every ESC of the inner sequence is doubled.
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence


def over_ssh(env: Mapping[str, str]) -> bool:
    return any(env.get(name) for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"))


def in_tmux(env: Mapping[str, str]) -> bool:
    return bool(env.get("TMUX"))


def local_tool(env: Mapping[str, str] | None = None) -> list[str] | None:
    """The command that writes stdin to the local clipboard, if this is a local session."""
    env = os.environ if env is None else env
    if over_ssh(env):
        return None
    candidates: list[list[str]] = []
    if sys.platform == "darwin":
        candidates.append(["pbcopy"])
    if env.get("WAYLAND_DISPLAY"):
        candidates.append(["wl-copy"])
    if env.get("DISPLAY"):
        candidates += [["xclip", "-selection", "clipboard"], ["xsel", "--clipboard", "--input"]]
    for command in candidates:
        if shutil.which(command[0]):
            return command
    return None


def copy_locally(text: str, command: list[str]) -> bool:
    try:
        subprocess.run(command, input=text.encode("utf-8"), timeout=3, check=True)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Deciding: pure functions of the facts


def parse_tmux_version(output: str) -> tuple[int, int] | None:
    """(major, minor) from `tmux -V` ("tmux 3.3a", "tmux next-3.4"); None when it names no
    tmux release (OpenBSD's "tmux openbsd-7.4", "tmux master")."""
    match = re.fullmatch(r"tmux (?:next-)?(\d+)\.(\d+)[a-z]?(?:-rc\d*)?", output.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


@dataclass(frozen=True)
class TmuxProbe:
    """What tmux did and said when asked to copy. `None` means "could not be read"."""

    version: str | None = None  # `tmux -V` as printed, e.g. "tmux 3.3a"
    loaded: bool = False  # `tmux load-buffer -w -` succeeded
    error: str = ""  # why the buffer was not set (not tried, or the failure)
    set_clipboard: str | None = None  # `show-options -gv set-clipboard`: on / external / off
    allow_passthrough: str | None = None  # on / all / off; None before tmux 3.3 (no option)

    @property
    def release(self) -> tuple[int, int] | None:
        return parse_tmux_version(self.version) if self.version else None


def can_load_buffer(version: tuple[int, int] | None) -> bool:
    """`load-buffer -w -` exists from tmux 3.2; an unknown version is tried."""
    return version is None or version >= (3, 2)


def passthrough_allowed(probe: TmuxProbe) -> bool:
    """Does tmux forward the `ESC P tmux;` form? Always before 3.3 (there is no option),
    from 3.3 only with `allow-passthrough` on (or all)."""
    if probe.allow_passthrough in ("on", "all"):
        return True
    # None with a readable set-clipboard: tmux answered, but has no such option.
    release = probe.release
    return (
        probe.allow_passthrough is None
        and probe.set_clipboard is not None
        and release is not None
        and release < (3, 3)
    )


@dataclass(frozen=True)
class CopyOutcome:
    """What a copy achieved. `copied` is True (it can have been made), False (it cannot), or
    None (the terminal got OSC 52 but nothing can tell whether tmux let it through)."""

    copied: bool | None
    how: str = ""  # "tmux's buffer and OSC 52", "OSC 52 and xclip"...
    why: str = ""  # for a copy not made (or not known): the reason and what to set
    note: str = ""  # for a copy made: a caveat worth saying
    passthrough: bool = False  # also write the `ESC P tmux;` form (only where tmux takes it)

    def message(self, what: str, count: int) -> str:
        if self.copied:
            text = f"Copied {what} ({count:,} characters) via {self.how}."
            return f"{text} {self.note}" if self.note else text
        if self.copied is None:
            return f"Sent {what} ({count:,} characters) by OSC 52 only, {self.why}."
        return f"Not copied: {self.why}."

    @property
    def severity(self) -> str:
        return "information" if self.copied else "warning"


def _ways(*ways: str | None) -> str:
    """The ways that were used, joined: A; A and B; A, B and C."""
    used = [way for way in ways if way]
    return used[0] if len(used) == 1 else ", ".join(used[:-1]) + " and " + used[-1]


def outcome_outside_tmux(tool: list[str] | None) -> CopyOutcome:
    """Outside tmux: OSC 52 always, and the local tool when there is one."""
    return CopyOutcome(True, _ways("OSC 52", tool[0] if tool else None))


def outcome_in_tmux(
    probe: TmuxProbe, tool: list[str] | None = None, tool_ok: bool | None = None
) -> CopyOutcome:
    """Inside tmux, once the plain OSC 52 was written and load-buffer tried (`probe`), and
    the local tool (if any) run, with result `tool_ok`."""
    local = tool[0] if tool and tool_ok else None
    if probe.loaded:
        if probe.set_clipboard == "off":
            # -w forwards nothing and the plain OSC 52 is dropped: only tmux's buffer has it.
            return CopyOutcome(
                True,
                _ways("tmux's buffer", local),
                note="tmux's set-clipboard is off, so not to the terminal's clipboard: "
                f"{TMUX_ADVICE}.",
            )
        return CopyOutcome(True, _ways("tmux's buffer", "OSC 52", local))
    if probe.set_clipboard == "on":  # tmux takes the plain OSC 52 itself
        return CopyOutcome(True, _ways("OSC 52", local))
    if passthrough_allowed(probe):
        return CopyOutcome(
            True, _ways("OSC 52 through tmux's passthrough", local), passthrough=True
        )
    if local:
        return CopyOutcome(True, local, note=f"tmux did not take it: {probe.error}.")
    if probe.set_clipboard is None:  # tmux could not be asked: OSC 52 may or may not pass
        return CopyOutcome(
            None, why=f"which tmux may drop ({probe.error}); to be sure, {TMUX_ADVICE}"
        )
    return CopyOutcome(
        False,
        why=f"{probe.error}, and tmux drops OSC 52 with set-clipboard {probe.set_clipboard} "
        f"and allow-passthrough {probe.allow_passthrough or 'off'}; {TMUX_ADVICE}",
    )


# ---------------------------------------------------------------------------------------------
# Asking tmux

Runner = Callable[..., subprocess.CompletedProcess]


def _first_line(data: bytes) -> str:
    lines = data.decode("utf-8", "replace").strip().splitlines()
    return lines[0].strip() if lines else ""


def _tmux(run: Runner, args: list[str], stdin: bytes = b"") -> tuple[bool, str]:
    """(succeeded, first line of stdout or of the error)."""
    try:
        done = run(
            ["tmux", *args],
            input=stdin,
            capture_output=True,
            timeout=TMUX_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        return False, "there is no tmux command"
    except subprocess.TimeoutExpired:
        return False, f"tmux {args[0]} did not answer within {TMUX_TIMEOUT:g} s"
    except OSError as error:
        return False, f"tmux could not be run ({error.strerror or error})"
    if done.returncode != 0:
        return False, _first_line(done.stderr) or f"tmux {args[0]} failed"
    return True, _first_line(done.stdout)


def probe_tmux(text: str, run: Runner = subprocess.run) -> TmuxProbe:
    """Copy `text` into tmux's buffer (and on to the terminal's clipboard) with
    `tmux load-buffer -w -`, and read what decides whether OSC 52 gets through otherwise.
    Blocking (a few milliseconds, at most `TMUX_TIMEOUT` a command): call it off the UI
    thread. tmux finds its server from $TMUX itself."""
    ok, version = _tmux(run, ["-V"])
    if not ok:
        return TmuxProbe(error=version)
    release = parse_tmux_version(version)
    if can_load_buffer(release):
        loaded, said = _tmux(run, list(TMUX_LOAD_BUFFER[1:]), text.encode("utf-8"))
        error = "" if loaded else f"tmux load-buffer failed ({said})"
    else:
        loaded, error = False, f"{version.strip()} has no load-buffer -w"
    ok, set_clipboard = _tmux(run, ["show-options", "-gv", "set-clipboard"])
    ok_pass, allow_passthrough = _tmux(run, ["show-options", "-gv", "allow-passthrough"])
    return TmuxProbe(
        version=version,
        loaded=loaded,
        error=error,
        set_clipboard=set_clipboard if ok else None,
        allow_passthrough=allow_passthrough if ok_pass else None,
    )


def code_blocks(markdown: str) -> list[tuple[str, str]]:
    """(language, code) for every fenced or indented code block, in order."""
    from markdown_it import MarkdownIt  # on first use: not needed for the first frame

    tokens = MarkdownIt("commonmark").parse(markdown)
    return [
        ((token.info or "").split(" ", 1)[0], token.content)
        for token in tokens
        if token.type in ("fence", "code_block")
    ]
