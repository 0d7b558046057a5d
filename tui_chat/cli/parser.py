"""The command line's grammar: the global options, `ask`, `sessions` and `export`, with
one-line errors (exit 2)."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from tui_chat import __version__
from tui_chat.cli.common import EXIT_USAGE, PROG


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        hint = f"{self.prog} --help"
        self.exit(EXIT_USAGE, f"{PROG}: error: {message} (see '{hint}')\n")


def _global_options(subcommand: bool) -> argparse.ArgumentParser:
    """Options accepted before or after a subcommand. The subcommands' copies default to
    SUPPRESS so that a value given before the subcommand is not overwritten by a default."""
    parser = _Parser(add_help=False)
    group = parser.add_argument_group("global options")
    unset: Any = argparse.SUPPRESS if subcommand else None
    flag_unset: Any = argparse.SUPPRESS if subcommand else False
    group.add_argument(
        "--profile", metavar="NAME", default=unset, help="AWS profile to use (~/.aws/config)"
    )
    group.add_argument("--region", metavar="R", default=unset, help="AWS region, e.g. us-east-1")
    group.add_argument(
        "--sessions-dir",
        metavar="DIR",
        default=unset,
        help="folder of conversations (default $TUI_CHAT_SESSIONS_DIR, else "
        "$XDG_DATA_HOME/tui-chat/sessions)",
    )
    group.add_argument(
        "--demo",
        action="store_true",
        default=flag_unset,
        help="use the built-in demo model (offline, no AWS needed)",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=flag_unset,
        help="log requests to $XDG_STATE_HOME/tui-chat/tui-chat.log (never secrets or prompts)",
    )
    group.add_argument(
        "--version", action="version", version=f"{PROG} {__version__}", help="show the version"
    )
    return parser


ASK_EPILOG = """\
The reply is written to stdout as it arrives. Piped or redirected, the text is written
exactly as the model sent it, with nothing added (no trailing newline). On a terminal, each
line is shown as it streams and then rendered as Markdown (headings, lists, emphasis,
highlighted code blocks; --raw shows the plain text instead); control characters and escape
sequences in the reply are shown as harmless symbols, and the reply ends with a newline.

Every exchange is saved: with --session NAME_OR_ID it is appended to that conversation (an
exact id, else a unique exact title, else a new conversation with that title) and its whole
history is sent; -c/--continue does the same with the most recently updated conversation;
without either, it is saved as a new conversation. --no-save writes nothing at all.
Parameters start from the conversation's own (or config.toml's [defaults]); flags override
them and are saved with it.

--demo answers with the built-in demo model (no AWS needed); TUI_CHAT_DEMO_TPS sets its
tokens per second (default 40; 0 is full speed).

--attach FILE (repeatable) sends a file with the prompt: an image (PNG, JPEG, GIF, WebP), a
document (PDF, CSV, DOC, DOCX, XLS, XLSX, HTML, TXT, MD) or any other UTF-8 text file (sent
in the prompt, fenced, under its name). Bedrock's limits are checked first: images at most
3.75 MB and 8,000 px a side (20 a request), documents at most 4.5 MB (5 a request). A copy of
each file is kept with the conversation.

--stop takes one sequence per flag, with the escapes \\n \\t \\s \\\\ (\\, is a comma).

Today's Claude models set their own sampling: --temperature, --top-p and --top-k are left
out for them (a note on stderr says so); tune --effort instead. --thinking adaptive (or a
budget of tokens, on models that take one) streams the model's thinking to stderr, never
into stdout's answer. Prompt caching is on where the model supports it; --no-cache turns it
off. A parameter Bedrock refuses is remembered and left out of the next request.

Exit status: 0 done, 1 Bedrock or file failure, 2 bad usage or parameter (nothing sent),
130 interrupted by ctrl+c (the partial reply is saved as cancelled)."""

SESSIONS_EPILOG = """\
One line per conversation, most recently updated first: id, updated (local time), message
count, title. Files that cannot be read are reported on stderr (one line each) and left as
they are; the exit status is still 0 when the listing itself worked."""

EXPORT_EPILOG = """\
ID is a conversation id or a unique exact title (see 'tui-chat sessions'). The Markdown is
written exactly to a file or a pipe; on a terminal, control characters are neutralised."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="A terminal chat client for Claude and other models on Amazon Bedrock. "
        "With no command, starts the full-screen app.",
        parents=[_global_options(subcommand=False)],
    )
    app = parser.add_argument_group("app options")
    app.add_argument("--model", metavar="ID", help="model id for new conversations")
    app.add_argument("--theme", metavar="NAME", help="colour theme")
    app.add_argument("--no-mouse", action="store_true", help="do not capture the mouse")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub_globals = _global_options(subcommand=True)
    parser.set_defaults(command=None)

    ask = commands.add_parser(
        "ask",
        help="send one prompt and stream the reply to stdout",
        description="Send one prompt and stream the reply to stdout.",
        epilog=ASK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[sub_globals],
    )
    ask.add_argument(
        "prompt",
        nargs="?",
        metavar="PROMPT",
        help="the prompt; '-' or none with piped stdin reads it from stdin",
    )
    params = ask.add_argument_group("parameters")
    params.add_argument("--model", metavar="ID", default=argparse.SUPPRESS, help="model id")
    params.add_argument("--temperature", metavar="T", help="randomness, 0 to 1")
    params.add_argument("--top-p", metavar="P", help="nucleus sampling, 0 to 1")
    params.add_argument("--top-k", metavar="K", help="sample from the K likeliest tokens, 0-500")
    params.add_argument(
        "--max-tokens", metavar="N", help="most tokens to generate (1 to the model's limit)"
    )
    params.add_argument(
        "--stop", metavar="SEQ", action="append", help="a stop sequence (repeatable)"
    )
    params.add_argument("--system", metavar="TEXT", help="system prompt")
    params.add_argument(
        "--effort",
        metavar="LEVEL",
        help="low, medium, high, xhigh or max (models that take it; default: the model's)",
    )
    params.add_argument(
        "--thinking",
        metavar="MODE",
        help="off, adaptive, or N (a budget of N tokens, at least 1024, below max tokens)",
    )
    params.add_argument(
        "--no-cache",
        action="store_true",
        help="do not mark the prompt for Bedrock's prompt cache",
    )
    ask.add_argument(
        "--attach",
        metavar="FILE",
        action="append",
        help="attach a file to the prompt (repeatable): an image, a document or a text file",
    )
    ask.add_argument(
        "--session",
        metavar="NAME_OR_ID",
        help="continue this conversation (id or exact title), or start one with this title",
    )
    ask.add_argument(
        "-c",
        "--continue",
        dest="continue_last",
        action="store_true",
        help="continue the most recently updated conversation (as --session with its id)",
    )
    ask.add_argument(
        "--no-save",
        action="store_true",
        help="save nothing: no conversation file, no checkpoint (not with --session or -c)",
    )
    ask.add_argument(
        "--raw",
        action="store_true",
        help="on a terminal, show the reply as plain text instead of rendering its Markdown",
    )

    sessions = commands.add_parser(
        "sessions",
        help="list saved conversations",
        description="List saved conversations.",
        epilog=SESSIONS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[sub_globals],
    )
    sessions.add_argument(
        "--grep", metavar="TEXT", help="only conversations whose title or messages contain TEXT"
    )

    export = commands.add_parser(
        "export",
        help="write a conversation as Markdown",
        description="Write a conversation as Markdown.",
        epilog=EXPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[sub_globals],
    )
    export.add_argument("id", metavar="ID", help="conversation id or exact title")
    export.add_argument(
        "--output", "-o", metavar="FILE", help="write to FILE (mode 0600) instead of stdout"
    )
    return parser


def subparser(parser: argparse.ArgumentParser, name: str | None) -> Any:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and name:
            return action.choices.get(name)
    return None
