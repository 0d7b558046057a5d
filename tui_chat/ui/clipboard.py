"""Copying text out of the app: OSC 52 to the terminal (works over SSH), wrapped for tmux's
passthrough when inside tmux, plus the local clipboard tool when there is one and we are not
over SSH. Also finds the fenced code blocks in a reply."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping


def osc52(text: str, tmux: bool = False) -> str:
    """The escape sequence that asks the terminal to put `text` on its clipboard."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    sequence = f"\x1b]52;c;{payload}\x07"
    if tmux:
        # tmux passthrough: a DCS string in which every ESC of the inner sequence is doubled.
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence


def over_ssh(env: Mapping[str, str]) -> bool:
    return any(env.get(name) for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"))


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


def code_blocks(markdown: str) -> list[tuple[str, str]]:
    """(language, code) for every fenced or indented code block, in order."""
    from markdown_it import MarkdownIt  # on first use: not needed for the first frame

    tokens = MarkdownIt("commonmark").parse(markdown)
    return [
        ((token.info or "").split(" ", 1)[0], token.content)
        for token in tokens
        if token.type in ("fence", "code_block")
    ]
