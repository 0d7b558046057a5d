"""The `tui-chat` command line: the app, `ask`, `sessions` and `export`.

Start-up stays cheap: boto3, Textual and the emulator are imported only on the code paths that
use them, so `tui-chat --version` and `--help` answer at once.

Exit codes: 0 done; 1 a Bedrock or file failure (one line on stderr; what was streamed stays
on stdout and in the session); 2 a usage error or a bad parameter (one line naming it and its
range, before any request); 130 interrupted by ctrl+c (143 by SIGTERM), the partial reply kept
and saved; 141 when the reader of a piped reply went away (the partial reply is saved).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from tui_chat.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Failure,
    UsageError,
    say,
    silence_stdout,
    utf8_stdout,
)
from tui_chat.cli.parser import build_parser, subparser

if TYPE_CHECKING:
    from tui_chat.config import Settings

__all__ = ["build_parser", "main"]


def _load_settings(args: argparse.Namespace) -> Settings:
    from tui_chat.config import load_settings

    sessions_dir = getattr(args, "sessions_dir", None)
    return load_settings(
        sessions_dir=Path(sessions_dir) if sessions_dir else None,
        region=getattr(args, "region", None) or None,
        profile=getattr(args, "profile", None) or None,
        model=getattr(args, "model", None) if args.command is None else None,
        theme=getattr(args, "theme", None),
        mouse=False if getattr(args, "no_mouse", False) else None,
        demo=bool(getattr(args, "demo", False)),
        debug=bool(getattr(args, "debug", False)),
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        # Name the subcommand's own help when the stray argument came after it.
        owner = subparser(parser, args.command) or parser
        owner.error(f"unrecognized arguments: {' '.join(extras)}")
    try:
        _check_global_values(args)
    except UsageError as error:
        say(str(error))
        return EXIT_USAGE
    try:
        settings = _load_settings(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    folder = settings.paths.sessions_dir
    if folder.exists() and not folder.is_dir():
        given = getattr(args, "sessions_dir", None)
        where = "--sessions-dir" if given else "the sessions folder"
        say(f"{where}: {folder} is not a folder")
        return EXIT_USAGE if given else EXIT_FAILURE
    if settings.debug:
        try:
            from tui_chat.logs import setup_logging

            setup_logging(settings.paths.log_file)
        except OSError as error:
            say(f"cannot write the debug log {settings.paths.log_file}: {error.strerror}")
    if args.command is None:
        from tui_chat.ui.run import run_app

        return run_app(settings)
    utf8_stdout()
    for problem in settings.problems:
        say(f"warning: {problem}")
    try:
        return _run(args, settings)
    except UsageError as error:
        say(str(error))
        return EXIT_USAGE
    except Failure as error:
        say(str(error))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        silence_stdout()
        return EXIT_BROKEN_PIPE


def _check_global_values(args: argparse.Namespace) -> None:
    """Values that no request could ever work with are usage errors, before anything is read,
    sent or saved: a region that is not a region name, a model id with spaces or control
    characters."""
    from tui_chat.aws import is_region_name
    from tui_chat.params import model_id_problem

    region = getattr(args, "region", None)
    if region and not is_region_name(region):
        raise UsageError(f"--region: must be an AWS region name such as us-east-1; got {region!r}")
    model = getattr(args, "model", None)
    if model is not None:
        problem = model_id_problem(model)
        if problem is not None:
            shown = model if len(model) <= 40 else model[:37] + "..."
            raise UsageError(f"--model: {problem}; got {shown!r}")


# ---------------------------------------------------------------------------------------------
# Finding conversations


def _run(args: argparse.Namespace, settings: Settings) -> int:
    """The subcommand (each imports what it needs only when it runs)."""
    if args.command == "ask":
        from tui_chat.cli.ask import ask

        return ask(args, settings)
    from tui_chat.cli import sessions

    return (
        sessions.sessions(args, settings)
        if args.command == "sessions"
        else sessions.export(args, settings)
    )
