"""`tui-chat sessions` and `tui-chat export`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tui_chat.cli.common import EXIT_OK, Failure, isatty, note, say
from tui_chat.cli.lookup import find, load, open_store

if TYPE_CHECKING:
    from tui_chat.config import Settings


def sessions(args: argparse.Namespace, settings: Settings) -> int:
    from tui_chat.sanitize import for_display

    store = open_store(settings)
    listing = store.list(verify=True)
    for problem in listing.problems:
        say(f"skipped {problem.path}: {problem.reason}")
    conversations = listing.conversations
    if args.grep is not None:
        wanted = set(store.search(args.grep, ids=[s.id for s in conversations]))
        conversations = [s for s in conversations if s.id in wanted]
    lines = []
    for summary in conversations:
        updated = summary.updated.astimezone().strftime("%Y-%m-%d %H:%M")
        count = summary.message_count
        noun = "msg " if count == 1 else "msgs"
        title = " ".join(for_display(summary.title).split()) or "(untitled)"
        lines.append(f"{summary.id}  {updated}  {count:>3} {noun}  {title}")
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
    # A hint for a person at a terminal; a pipe gets nothing at all.
    if not conversations and isatty(sys.stdout) and not listing.problems:
        note("no conversations" + (" match" if args.grep is not None else " yet"))
    return EXIT_OK


def export(args: argparse.Namespace, settings: Settings) -> int:
    from tui_chat.export import to_markdown
    from tui_chat.files import write_atomic
    from tui_chat.sanitize import for_display

    store = open_store(settings)
    found = find(store, args.id)
    if found is None:
        raise Failure(
            f"no conversation with the id or title {args.id!r} in {store.directory} "
            "(see 'tui-chat sessions')"
        )
    markdown = to_markdown(load(store, found), store.files_dir(found))
    if args.output and args.output != "-":
        path = Path(args.output).expanduser()
        try:
            write_atomic(path, markdown)
        except OSError as error:
            raise Failure(f"cannot write {path}: {error.strerror or error}") from None
        note(f"wrote {path}")
        return EXIT_OK
    if isatty(sys.stdout):
        markdown = for_display(markdown)
    sys.stdout.write(markdown)
    sys.stdout.flush()
    return EXIT_OK
