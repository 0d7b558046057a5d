"""The `tui-chat` command line (placeholder until the CLI issue lands)."""

from __future__ import annotations

import argparse

from tui_chat import __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tui-chat")
    parser.add_argument("--version", action="version", version=f"tui-chat {__version__}")
    parser.parse_args(argv)
    return 0
