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
import functools
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from tui_chat import __version__

if TYPE_CHECKING:
    from tui_chat.bedrock.engine import Engine
    from tui_chat.config import Settings
    from tui_chat.conversation import Conversation, Message
    from tui_chat.store import SessionStore

PROG = "tui-chat"
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
EXIT_BROKEN_PIPE = 141
CHECKPOINT_SECONDS = 2.0

#: ask's parameter flags -> the parameter they set (params.py names).
PARAM_FLAGS = {
    "--model": "model",
    "--temperature": "temperature",
    "--top-p": "top_p",
    "--top-k": "top_k",
    "--max-tokens": "max_tokens_to_sample",
    "--stop": "stop_sequences",
    "--system": "system",
    "--effort": "effort",
    "--thinking": "thinking",
}


class UsageError(Exception):
    """Exit 2 with this one line."""


class Failure(Exception):
    """Exit 1 with this one line."""


class _Terminated(BaseException):
    """SIGTERM, turned into an exception so the partial reply is saved as for ctrl+c."""


# ---------------------------------------------------------------------------------------------
# Output helpers


def _one_line(text: str) -> str:
    """Text for a diagnostic line: control characters (from a model id, a server's message or
    a file name) are shown as symbols, never obeyed, and the line stays one line."""
    from tui_chat.sanitize import for_display

    return for_display(text).replace("\n", "\u2424")


def _say(line: str) -> None:
    """One line on stderr, prefixed with the program name."""
    try:
        sys.stderr.write(f"{PROG}: {_one_line(line)}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _note(line: str) -> None:
    """A quiet line for a person at a terminal (nothing when stderr is not a terminal)."""
    if _isatty(sys.stderr):
        try:
            sys.stderr.write(f"\x1b[2m{_one_line(line)}\x1b[0m\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (OSError, ValueError):
        return False


def _utf8_stdout() -> None:
    """Write UTF-8 whatever the locale says (valid text keeps its exact bytes)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            if stream is sys.stdout:
                reconfigure(encoding="utf-8", errors="replace")
            else:
                reconfigure(errors="backslashreplace")
        except (OSError, ValueError):
            pass


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the exit flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


# ---------------------------------------------------------------------------------------------
# Parsing the command line


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


def _subparser(parser: argparse.ArgumentParser, name: str | None) -> Any:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and name:
            return action.choices.get(name)
    return None


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
        owner = _subparser(parser, args.command) or parser
        owner.error(f"unrecognized arguments: {' '.join(extras)}")
    try:
        _check_global_values(args)
    except UsageError as error:
        _say(str(error))
        return EXIT_USAGE
    try:
        settings = _load_settings(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    folder = settings.paths.sessions_dir
    if folder.exists() and not folder.is_dir():
        given = getattr(args, "sessions_dir", None)
        where = "--sessions-dir" if given else "the sessions folder"
        _say(f"{where}: {folder} is not a folder")
        return EXIT_USAGE if given else EXIT_FAILURE
    if settings.debug:
        try:
            from tui_chat.logs import setup_logging

            setup_logging(settings.paths.log_file)
        except OSError as error:
            _say(f"cannot write the debug log {settings.paths.log_file}: {error.strerror}")
    if args.command is None:
        from tui_chat.ui.app import run_app

        return run_app(settings)
    _utf8_stdout()
    for problem in settings.problems:
        _say(f"warning: {problem}")
    handlers = {"ask": _ask, "sessions": _sessions, "export": _export}
    try:
        return handlers[args.command](args, settings)
    except UsageError as error:
        _say(str(error))
        return EXIT_USAGE
    except Failure as error:
        _say(str(error))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE


def _check_global_values(args: argparse.Namespace) -> None:
    """Values that no request could ever work with are usage errors, before anything is read,
    sent or saved: a region that is not a region name, a model id with spaces or control
    characters."""
    from tui_chat.bedrock.catalog import model_id_problem
    from tui_chat.bedrock.errors import is_region_name

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


def _store(settings: Settings) -> SessionStore:
    from tui_chat.store import SessionStore

    return SessionStore(
        settings.paths.sessions_dir, cache_dir=settings.paths.cache_dir, defaults=settings.defaults
    )


def _find(store: SessionStore, name: str) -> str | None:
    """The id for NAME_OR_ID: an exact id, else a unique exact title (compared with its
    whitespace collapsed, as titles are stored, if nothing matches as given); None if neither.
    An ambiguous title is a UsageError listing the candidates; an id whose file cannot be
    read is a Failure saying why."""
    listing = store.list()
    for summary in listing.conversations:
        if summary.id == name:
            return summary.id
    for problem in listing.problems:
        if problem.path.name == f"{name}.toml":
            raise Failure(f"cannot read {problem.path}: {problem.reason}")
    matches = [s.id for s in listing.conversations if s.title == name]
    if not matches:
        # Titles are stored on one line with single spaces (Conversation.rename).
        flat = " ".join(name.split())
        matches = [s.id for s in listing.conversations if s.title == flat]
    if len(matches) > 1:
        raise UsageError(
            f"the title {name!r} matches {len(matches)} conversations: "
            f"{', '.join(matches)}; give an id instead"
        )
    return matches[0] if matches else None


def _load(store: SessionStore, conversation_id: str) -> Conversation:
    from tui_chat.store import StoreError

    try:
        return store.load(conversation_id)
    except StoreError as error:
        raise Failure(f"cannot read {error.path}: {error.reason}") from None


# ---------------------------------------------------------------------------------------------
# ask


def _read_prompt(args: argparse.Namespace) -> str:
    from tui_chat.sanitize import storable

    text = args.prompt
    if text is None or text == "-":
        stdin = sys.stdin
        if stdin is None or (text is None and _isatty(stdin)):
            raise UsageError("no prompt given: pass PROMPT, or '-' to read it from stdin")
        raw = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
        text = raw.decode("utf-8", errors="replace")
        if text.endswith("\r\n"):
            text = text[:-2]
        elif text.endswith("\n"):
            text = text[:-1]
    text = storable(text)
    if not text.strip():
        raise UsageError("the prompt is empty")
    return text


def _check_ask_flags(args: argparse.Namespace) -> None:
    """Flags that cannot go together (exit 2 before anything is read, sent or saved)."""
    continuing = getattr(args, "continue_last", False)
    if continuing and args.session is not None:
        raise UsageError(
            "--continue and --session cannot be used together: --continue picks the most "
            "recently updated conversation, --session names one"
        )
    if getattr(args, "no_save", False) and (continuing or args.session is not None):
        flag = "--continue" if continuing else "--session"
        raise UsageError(
            f"--no-save cannot be used with {flag}: the exchange would not be added to the "
            "conversation"
        )


def _most_recent(store: SessionStore) -> str:
    """The id of the most recently updated conversation (for --continue)."""
    listing = store.list()
    if not listing.conversations:
        unreadable = f" ({len(listing.problems)} unreadable)" if listing.problems else ""
        raise UsageError(
            f"--continue: there is no conversation to continue in {store.directory}"
            f"{unreadable}; ask without -c to start one"
        )
    return listing.conversations[0].id


def _flag_values(args: argparse.Namespace) -> dict[str, Any]:
    """The parameters given as flags, parsed (ParamError -> exit 2 naming the flag and range).
    Max tokens is left as typed: its range depends on the model, known only later."""
    from tui_chat.params import ParamError, parse_stop_sequence, parse_value

    given: dict[str, Any] = {}
    for flag, name in PARAM_FLAGS.items():
        raw = getattr(args, flag[2:].replace("-", "_"), None)
        if raw is None or name == "max_tokens_to_sample":
            continue
        try:
            if name == "stop_sequences":
                value: Any = [parse_stop_sequence(item) for item in raw]
            else:
                value = parse_value(name, raw)
        except ParamError as error:
            raise UsageError(f"{flag}: {error}") from None
        given[name] = value
    if getattr(args, "no_cache", False):
        given["cache_prompt"] = False
    return given


def _final_params(base: Any, given: dict[str, Any], max_tokens: str | None) -> Any:
    """`base` with the flags applied; max tokens is checked against the model's own limit."""
    from tui_chat.bedrock.catalog import lookup
    from tui_chat.params import ParamError, Params, check_number, parse_value

    model = given.get("model", base.model)
    limit = lookup(model).max_output
    changes = dict(given)
    if max_tokens is not None:
        try:
            changes["max_tokens_to_sample"] = parse_value("max_tokens_to_sample", max_tokens, limit)
        except ParamError as error:
            where = f" for {model}" if limit else ""
            shown = max_tokens if len(max_tokens) <= 40 else max_tokens[:37] + "..."
            raise UsageError(
                f"--max-tokens: {error.name} must be {error.allowed}{where}; got {shown!r}"
            ) from None
    try:
        params = Params.from_dict(changes, base=base)
        if limit and max_tokens is None and params.max_tokens_to_sample > limit:
            # The configured or saved value is more than this model takes: use its limit.
            _note(f"max tokens lowered to {limit:,}, the most {model} writes")
            params = params.with_changes(max_tokens_to_sample=limit)
        if limit and max_tokens is None:
            check_number("max_tokens_to_sample", params.max_tokens_to_sample, limit)
    except ParamError as error:
        raise UsageError(
            f"{error} for {model} (from the saved or configured parameters); pass --max-tokens N"
        ) from None
    return params


# ---------------------------------------------------------------------------------------------
# Markdown on a terminal

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)")
_FENCE_CLOSE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*$")
_TABLE_ROW = re.compile(r"^ {0,3}\|")
CODE_THEME = "monokai"


class _TerminalMarkdown:
    """The reply on a terminal, rendered as Markdown line by line as it streams.

    The line being written is shown raw (already neutralised by `for_display`) as its words
    arrive; once it is complete, the raw line is erased (carriage return, cursor up over the
    rows it wrapped onto, clear to the end of the screen) and replaced by its rendering with
    Rich: headings, lists, emphasis, quotes, rules, links shown with their address (never as a
    terminal hyperlink). Lines inside a fenced code block are highlighted with the fence's
    language (the whole block so far is highlighted, so strings and comments that span lines
    come out right). Table rows stay raw until the table ends, then the table is drawn whole.
    Model text is never read as Rich markup: it only ever reaches `rich.markdown.Markdown`,
    `Syntax` or `Text`. A line too tall to move back over (taller than the screen) is left raw.
    """

    def __init__(self, out: Any) -> None:
        self.out = out
        self.line = ""  # the current line, shown raw so far
        self.table: list[str] = []  # table rows shown raw, drawn when the table ends
        self.table_rows = 0  # the screen rows they take
        self.table_raw = False  # this table stays raw (part of it could not be moved back over)
        self.fence: tuple[str, int, str] | None = None  # (character, length, language)
        self.code: list[str] = []  # the open code block's lines so far

    @functools.cached_property
    def console(self) -> Any:
        """Rich's console on the same stream (made on first use: Rich takes a moment to
        import). Model text never reaches it as a string to parse, only as renderables."""
        from rich.console import Console

        return Console(
            file=self.out,
            force_terminal=True,
            highlight=False,
            markup=False,
            emoji=False,
            soft_wrap=False,
        )

    # -- input

    def feed(self, text: str) -> None:
        *complete, rest = text.split("\n")
        for piece in complete:
            self._complete(self.line + piece, shown=self.line)
            self.line = ""
        if rest:
            self.out.write(rest)
            self.line += rest
        self.out.flush()

    def close(self, render: bool = True) -> None:
        """End the reply: render (or, interrupted, leave raw) what is still raw, and leave the
        cursor at the start of a line."""
        if self.line:
            if render:
                self._complete(self.line, shown=self.line)
            else:
                self.out.write("\x1b[0m\n")  # interrupted: no style left on, a fresh line
            self.line = ""
        if self.table and render:
            self._draw_table()
        self.table, self.table_rows = [], 0
        self.out.flush()

    # -- screen

    def _size(self) -> tuple[int, int]:
        try:
            columns, lines = os.get_terminal_size(self.out.fileno())
        except (OSError, ValueError, AttributeError):
            columns, lines = 0, 0
        return columns or 80, lines or 24

    @staticmethod
    def rows(text: str, columns: int) -> int:
        """The screen rows `text` (one line, no newline) takes when written from column 0 of a
        terminal `columns` wide that wraps at the margin (wide characters take two cells)."""
        from rich.cells import get_character_cell_size

        rows, column = 1, 0
        for char in text:
            if char == "\t":
                column = min((column // 8 + 1) * 8, columns - 1)
                continue
            width = get_character_cell_size(char)
            if column + width > columns:
                rows += 1
                column = 0
            column += width
        return rows

    def _complete(self, line: str, shown: str) -> None:
        columns, lines = self._size()
        table_row = self.fence is None and _TABLE_ROW.match(line) is not None
        if shown:
            rows = self.rows(shown, columns)
            if rows >= lines:  # its top has scrolled away: it stays raw, and so does the
                self.out.write(line[len(shown) :] + "\n")  # table above it (or its own)
                self.table, self.table_rows, self.table_raw = [], 0, table_row
                self._track_fence(line)
                return
            self.out.write("\r" + (f"\x1b[{rows - 1}A" if rows > 1 else "") + "\x1b[J")
        if table_row:
            self.out.write(line + "\n")
            if not self.table_raw:
                self.table.append(line)
                self.table_rows += self.rows(line, columns)
            return
        self.table_raw = False
        if self.table:
            self._draw_table()
        self._emit(self._render(line, columns), columns)

    def _draw_table(self) -> None:
        columns, lines = self._size()
        rows, table = self.table_rows, self.table
        self.table, self.table_rows = [], 0
        if rows >= lines:
            return  # taller than the screen: it stays raw
        self.out.write(f"\r\x1b[{rows}A\x1b[J")
        self._emit(self._markdown("\n".join(table), columns), columns)

    def _emit(self, lines: list[list[Any]], columns: int) -> None:
        from rich.segment import Segment, Segments

        self.console.width = columns
        segments = [segment for line in lines for segment in (*line, Segment.line())]
        self.console.print(Segments(segments), end="")

    # -- rendering

    def _track_fence(self, line: str) -> bool:
        """Follow code fences; True when `line` is a fence (opening or closing)."""
        if self.fence is None:
            opened = _FENCE_OPEN.match(line)
            if opened is None:
                return False
            marks = opened.group(1)
            self.fence = (marks[0], len(marks), opened.group(2))
            self.code = []
            return True
        closed = _FENCE_CLOSE.match(line)
        if closed and closed.group(1)[0] == self.fence[0] and len(closed.group(1)) >= self.fence[1]:
            self.fence = None
            self.code = []
            return True
        self.code.append(line)
        return False

    def _render(self, line: str, columns: int) -> list[list[Any]]:
        from rich.segment import Segment
        from rich.syntax import Syntax

        in_code = self.fence is not None
        if self._track_fence(line):  # a fence: a row of the code block's background
            background = Syntax.get_theme(CODE_THEME).get_background_style()
            return [[Segment(" " * columns, background)]]
        if in_code:
            language = self.fence[2] if self.fence else ""
            code = Syntax(
                "\n".join(self.code),
                language or "text",
                theme=CODE_THEME,
                line_range=(len(self.code), len(self.code)),
                word_wrap=True,
                padding=(0, 1),
            )
            return self._lines(code, columns) or [[]]
        if not line.strip():
            return [[]]
        expanded = line.expandtabs(4)
        body = expanded.lstrip(" ")
        indent = min(len(expanded) - len(body), columns // 2)
        lines = self._markdown(body, columns - indent)
        if indent:
            lines = [[Segment(" " * indent), *row] for row in lines]
        return lines

    def _markdown(self, text: str, columns: int) -> list[list[Any]]:
        """`text` rendered as Markdown (rows of segments); as plain text when Markdown would
        hide some of it (HTML, link definitions) or show nothing."""
        from rich.text import Text

        markdown = _markdown_type()(text, code_theme=CODE_THEME, hyperlinks=False)
        if not _has_html(markdown.parsed):
            lines = self._lines(markdown, columns)
            if lines:
                return lines
        return self._lines(Text(text), columns) or [[]]

    def _lines(self, renderable: Any, columns: int) -> list[list[Any]]:
        """Rendered rows, without blank rows around them or padding at their ends."""
        options = self.console.options.update(width=max(columns, 1))
        rows = [_trim(row) for row in self.console.render_lines(renderable, options, pad=False)]
        while rows and not rows[0]:
            rows.pop(0)
        while rows and not rows[-1]:
            rows.pop()
        return rows


def _trim(row: list[Any]) -> list[Any]:
    """A row without the blank padding Rich adds at its end (coloured backgrounds are kept)."""
    row = list(row)
    while row:
        last = row[-1]
        if last.style is not None and last.style.bgcolor is not None:
            break
        text = last.text.rstrip()
        if text:
            row[-1] = last._replace(text=text)
            break
        row.pop()
    return row


def _has_html(tokens: list[Any]) -> bool:
    return any(t.type.startswith("html") or _has_html(t.children or []) for t in tokens)


@functools.cache
def _markdown_type() -> Any:
    """rich.markdown.Markdown with every heading on the left (made on first use: Rich is
    imported only when a reply is rendered)."""
    from rich.markdown import Heading, Markdown

    class LeftHeading(Heading):
        """Headings on the left, as a terminal reader expects (Rich centres the first level)."""

        LEVEL_ALIGN = dict.fromkeys(("h1", "h2", "h3", "h4", "h5", "h6"), "left")

    class TerminalMarkdown(Markdown):
        elements: ClassVar[dict[str, type[Any]]] = {
            **Markdown.elements,
            "heading_open": LeftHeading,
        }

    return TerminalMarkdown


class _Ask:
    """One `ask`: everything it needs to finish cleanly however it is stopped."""

    def __init__(self, args: argparse.Namespace, settings: Settings) -> None:
        self.args = args
        self.settings = settings
        self.store: SessionStore | None = None
        self.conversation: Conversation | None = None
        self.reply: Message | None = None
        self.handle: Any = None
        self.demo: Any = None
        self.parts: list[str] = []
        self.tty = _isatty(sys.stdout)
        self.persist = not getattr(args, "no_save", False)
        # On a terminal, the reply is rendered as Markdown line by line (not with --raw, nor on
        # a terminal that cannot move its cursor).
        self.markdown: _TerminalMarkdown | None = None
        if self.tty and not getattr(args, "raw", False) and os.environ.get("TERM") != "dumb":
            self.markdown = _TerminalMarkdown(sys.stdout)
        self.pending_cr = ""
        self.last_char = "\n"
        self.wrote = False
        self.added = False
        self.saved = False
        self.log: Any = None
        self.started = 0.0
        self.thinking_state = ""  # "open" while thinking is being written to stderr, then "ended"
        self.learned: Any = None

    # -- set-up ------------------------------------------------------------------------------

    def engine(self) -> Engine:
        if self.settings.demo:
            from tui_chat.demo import Demo

            self.demo = Demo.from_environment()  # TUI_CHAT_DEMO_TPS, as in the app
            return self.demo.engine(self.settings)
        from tui_chat.bedrock import BedrockError, Engine
        from tui_chat.bedrock import client as clients

        engine = Engine(self.settings)
        try:
            engine.check_credentials()
        except BedrockError as error:
            if error.kind == "no_region":
                # With neither a region nor credentials, the missing credentials matter more.
                try:
                    probe = clients.Connection(
                        region="us-east-1", profile=self.settings.bedrock.profile
                    )
                    clients.check_credentials(probe)
                except BedrockError as missing:
                    raise Failure(missing.user_message) from None
            raise Failure(error.user_message) from None
        return engine

    def run(self) -> int:
        from tui_chat.conversation import Conversation, Message
        from tui_chat.params import ParamError

        args = self.args
        _check_ask_flags(args)
        given = _flag_values(args)
        prompt = _read_prompt(args)
        self.store = store = _store(self.settings)

        session = args.session
        conversation: Conversation | None = None
        if getattr(args, "continue_last", False):
            conversation = _load(store, _most_recent(store))
            session = conversation.id
        elif session is not None:
            if not session.strip():
                raise UsageError("--session: give a conversation id or title")
            found = _find(store, session)
            if found is not None:
                conversation = _load(store, found)
        if conversation is not None:
            base = conversation.params
        elif self.settings.demo:
            from tui_chat.demo import demo_defaults

            base = demo_defaults(self.settings)  # the model the app uses in demo mode
        else:
            base = self.settings.defaults
        params = _final_params(base, given, args.max_tokens)

        user = Message(role="user", content=prompt)
        history = [*(conversation.messages if conversation else []), user]
        from tui_chat.bedrock.formats import prepare
        from tui_chat.learned import LearnedRules

        self.learned = LearnedRules.in_folder(self.settings.paths.cache_dir)
        try:
            prepared = prepare(history, params, refused=self.learned.for_model(params.model))
        except ParamError as error:
            raise UsageError(str(error)) from None
        for name in prepared.omitted:
            _note(f"left out {name}: {prepared.reasons.get(name, 'the model takes no ' + name)}")
        for note in prepared.notes:
            _note(note)

        engine = self.engine()

        if conversation is None:
            conversation = Conversation.new(params)
            if session is not None:
                conversation.rename(session)
        conversation.params = params
        conversation.add(user)
        self.conversation = conversation
        self._save("save the prompt to")

        if self.settings.debug:
            import logging

            from tui_chat.logs import request_line

            self.log = logging.getLogger("tui_chat.cli")
            turns = sum(1 for m in history if m.content.strip())
            chars = sum(len(m.content) for m in history)
            self.log.debug(request_line(prepared, chars, turns))

        self.reply = Message(role="assistant", content="", status="streaming")
        self.reply.params = dict(prepared.sent)
        self.reply.omitted = list(prepared.omitted)
        self.reply.omitted_reasons = dict(prepared.reasons)
        self.started = time.monotonic()
        try:
            self.handle = engine.start(prepared)
        except Exception as error:  # e.g. an endpoint URL botocore refuses
            from tui_chat.bedrock.errors import from_exception

            failure = from_exception(error, prepared.model_id)
            self.finish("error", error=failure)
            raise Failure(failure.user_message) from None
        return self.stream()

    # -- streaming ---------------------------------------------------------------------------

    def stream(self) -> int:
        from tui_chat.bedrock import Failure as FailureEvent
        from tui_chat.bedrock import Stop, TextDelta
        from tui_chat.bedrock.events import RedactedThinking, ThinkingDelta, ThinkingSignature

        stop: Stop | None = None
        failure = None
        last_checkpoint = time.monotonic()
        assert self.reply is not None
        for batch in self.handle.batches():
            texts: list[str] = []
            for event in batch:
                if isinstance(event, TextDelta):
                    texts.append(event.text)
                elif isinstance(event, ThinkingDelta):
                    self.reply.add_thinking(event.text)
                    self.think(event.text)
                elif isinstance(event, ThinkingSignature):
                    self.reply.add_thinking(signature=event.signature)
                elif isinstance(event, RedactedThinking):
                    self.reply.add_thinking(redacted=event.data)
                    self.think("", redacted=True)
                elif isinstance(event, Stop):
                    stop = event
                elif isinstance(event, FailureEvent):
                    failure = event.error
            if texts:
                chunk = "".join(texts)
                self.end_thinking()
                self.parts.append(chunk)
                self.write(chunk)
            due = time.monotonic() - last_checkpoint >= CHECKPOINT_SECONDS
            if due and (self.parts or self.reply.thinking):
                self.checkpoint()
                last_checkpoint = time.monotonic()
        self.end_thinking()
        if failure is not None:
            self.finish("error", error=failure)
            self.end_line()
            raise Failure(self.explain(failure))
        if stop is None:  # the stream ended without saying how (should not happen)
            from tui_chat.bedrock import BedrockError

            failure = BedrockError("connection_lost", detail="the reply ended without a stop")
            self.finish("error", error=failure)
            self.end_line()
            raise Failure(failure.user_message)
        self.finish("complete", stop=stop)
        self.end_line()
        if stop.reason == "max_tokens" and not self.parts and self.reply.thinking:
            limit = self.reply.params.get("max_tokens_to_sample", "?")
            _say(
                f"warning: max tokens ({limit}) ran out while the model was thinking, before "
                "any answer; raise --max-tokens or lower --effort"
            )
        return EXIT_OK

    def think(self, text: str, redacted: bool = False) -> None:
        """The model's thinking, on stderr (dimmed on a terminal): never in stdout's answer.
        Piped, stderr gets it only when --thinking asked for it (a model that always thinks
        would otherwise fill a script's error log)."""
        from tui_chat.sanitize import for_display

        stream = sys.stderr
        tty = _isatty(stream)
        if not tty and getattr(self.args, "thinking", None) in (None, "off"):
            return
        try:
            if not self.thinking_state:
                self.thinking_state = "open"
                stream.write("\x1b[2m" if tty else "")
                stream.write("thinking…\n" if tty else "")
            if redacted:
                stream.write("[thinking redacted by the provider]\n")
            elif text:
                stream.write(for_display(text) if tty else text)
            stream.flush()
        except (OSError, ValueError):
            pass

    def end_thinking(self) -> None:
        if self.thinking_state != "open":
            return
        self.thinking_state = "ended"
        try:
            sys.stderr.write("\x1b[0m\n" if _isatty(sys.stderr) else "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass

    def explain(self, failure: Any) -> str:
        """The failure's line, and what the next run does about it: a refused parameter is
        remembered and left out; a retired model names its replacement."""
        assert self.reply is not None
        model = str(self.reply.params.get("model", ""))
        if failure.kind == "refused" and self.learned is not None and failure.refused:
            self.learned.learn(model, failure.refused, failure.detail)
            from tui_chat.bedrock.refusals import describe

            return (
                f"Bedrock refused {describe(list(failure.refused))} for {model} "
                f"({' '.join(failure.detail.split())[:200]}); it is remembered and left out "
                "from now on: run the same command again"
            )
        if failure.kind == "end_of_life" and failure.replacement:
            return f"{failure.user_message} Run with --model {failure.replacement}"
        return failure.user_message

    def write(self, text: str) -> None:
        if self.tty:
            from tui_chat.sanitize import for_display

            text = self.pending_cr + text
            self.pending_cr = ""
            if text.endswith("\r"):
                # Hold a trailing CR back: it may be the first half of a CRLF.
                text, self.pending_cr = text[:-1], "\r"
            text = for_display(text)
        if not text:
            return
        if self.markdown is not None and self.tty:
            self.markdown.feed(text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
        self.wrote = True
        self.last_char = text[-1]

    def end_line(self, render: bool = True) -> None:
        """On a terminal, finish the reply's last line (piped output is left exact): rendered
        as Markdown, unless `render` is False (interrupted: what is raw stays raw)."""
        if not self.tty:
            return
        if self.pending_cr:
            self.pending_cr = ""
            self.write("\r")  # shown as a symbol; nothing left to pair it with
        if self.markdown is not None:
            try:
                self.markdown.close(render)
            except (OSError, ValueError):
                pass
            self.last_char = "\n"
            return
        if self.wrote and self.last_char != "\n":
            try:
                sys.stdout.write("\n")
                sys.stdout.flush()
            except (OSError, ValueError):
                pass
            self.last_char = "\n"

    def checkpoint(self) -> None:
        from tui_chat.sanitize import storable

        assert self.reply is not None and self.conversation is not None and self.store
        if not self.persist:
            return
        self.reply.content = storable("".join(self.parts))
        try:
            self.store.checkpoint(self.conversation.id, self.reply)
        except OSError as error:
            if self.log:
                self.log.debug("checkpoint failed: %s", error.strerror)

    def finish(self, status: str, stop: Any = None, error: Any = None) -> None:
        """Store the reply (whatever state it is in) in the conversation and save it."""
        if self.saved or self.reply is None or self.conversation is None:
            return
        # A second ctrl+c must not interrupt the save itself.
        previous = _ignore_sigint()
        try:
            if not self.added:
                self._complete(status, stop, error)
            if not self.persist:
                self.saved = True  # done: --no-save writes nothing
                return
            self._save("save the reply to")
            self.saved = True
            assert self.store is not None
            self.store.clear_checkpoint(self.conversation.id)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def _complete(self, status: str, stop: Any, error: Any) -> None:
        from tui_chat.sanitize import storable

        assert self.reply is not None and self.conversation is not None
        reply = self.reply
        reply.content = storable("".join(self.parts))
        reply.status = status
        if stop is not None:
            reply.stop_reason = stop.reason
            reply.stop_sequence = stop.stop_sequence or ""
            reply.usage = stop.usage.as_dict()
        if error is not None:
            reply.error = error.as_dict()
        self.conversation.add(reply)
        self.added = True
        if self.log:
            from tui_chat.logs import outcome_line

            elapsed = round((time.monotonic() - self.started) * 1000)
            self.log.debug(
                outcome_line(
                    status=status,
                    stop=stop,
                    error=error,
                    chars=len(reply.content),
                    elapsed_ms=elapsed,
                )
            )

    def _save(self, doing: str) -> None:
        from tui_chat.store import StoreError

        assert self.store is not None and self.conversation is not None
        if not self.persist:
            return
        original = self.conversation.id
        try:
            result = self.store.save(self.conversation)
        except StoreError as error:
            raise Failure(f"cannot {doing} {error.path}: {error.reason}") from None
        except OSError as error:
            where = error.filename or self.store.directory
            raise Failure(f"cannot {doing} {where}: {error.strerror or error}") from None
        if result.outcome == "copied":
            _say(
                f"warning: conversation {original} was changed by another program; "
                f"this exchange was saved as a copy, {self.conversation.id}"
            )

    # -- endings -----------------------------------------------------------------------------

    def interrupted(self, status: str = "cancelled", error: Any = None) -> None:
        """ctrl+c, SIGTERM, a closed pipe (or a bug): stop the request, keep and save what
        arrived, as `cancelled` (or `error`)."""
        if self.handle is not None:
            self.handle.cancel()
        if self.reply is not None and not self.saved:
            # Report file problems plainly; the exit code already says what happened.
            try:
                self.finish(status, error=error)
            except Failure as failure:
                _say(str(failure))

    def close(self) -> None:
        if self.demo is not None:
            try:
                self.demo.stop()
            except Exception:
                pass
            self.demo = None


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    run = _Ask(args, settings)
    previous = {}
    for signum, handler in (
        (signal.SIGINT, signal.default_int_handler),
        (signal.SIGTERM, _raise_terminated),
    ):
        try:
            previous[signum] = signal.signal(signum, handler)
        except ValueError:  # not the main thread (an embedding caller)
            pass
    try:
        code = run.run()
        named = args.session is not None or getattr(args, "continue_last", False)
        if run.conversation is not None and run.persist and not named:
            _note(f"saved as {run.conversation.id}")
        return code
    except (KeyboardInterrupt, _Terminated) as stop:
        for signum in previous:
            signal.signal(signum, signal.SIG_IGN)
        run.interrupted()
        run.end_line(render=False)
        if run.conversation is not None and run.saved and run.persist:
            _note(f"interrupted; the partial reply was saved in {run.conversation.id}")
        return EXIT_TERMINATED if isinstance(stop, _Terminated) else EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        run.tty = False
        run.interrupted()
        return EXIT_BROKEN_PIPE
    except Failure:
        if run.conversation is not None and run.saved and run.persist:
            _note(f"saved as {run.conversation.id}")
        raise
    except UsageError:
        raise
    except Exception as error:
        # A bug: keep what arrived, say so in one line, and leave the details to the log.
        from tui_chat.bedrock import BedrockError

        if run.log is not None:
            run.log.exception("unexpected error")
        bug = BedrockError("unknown", detail=f"{type(error).__name__}: {error}")
        run.interrupted("error", bug)
        run.end_line(render=False)
        raise Failure(
            f"unexpected error: {type(error).__name__}: {error} (run with --debug and see "
            f"{settings.paths.log_file})"
        ) from None
    finally:
        run.close()
        for signum, handler in previous.items():
            try:
                signal.signal(signum, handler)
            except (ValueError, TypeError):
                pass


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated()


def _ignore_sigint() -> Any:
    """Ignore ctrl+c for a moment; returns the handler to restore (None if not possible)."""
    try:
        return signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# sessions


def _sessions(args: argparse.Namespace, settings: Settings) -> int:
    from tui_chat.sanitize import for_display

    store = _store(settings)
    listing = store.list(verify=True)
    for problem in listing.problems:
        _say(f"skipped {problem.path}: {problem.reason}")
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
    if not conversations and _isatty(sys.stdout) and not listing.problems:
        _note("no conversations" + (" match" if args.grep is not None else " yet"))
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# export


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from tui_chat.export import to_markdown
    from tui_chat.sanitize import for_display
    from tui_chat.store import write_atomic

    store = _store(settings)
    found = _find(store, args.id)
    if found is None:
        raise Failure(
            f"no conversation with the id or title {args.id!r} in {store.directory} "
            "(see 'tui-chat sessions')"
        )
    markdown = to_markdown(_load(store, found))
    if args.output and args.output != "-":
        path = Path(args.output).expanduser()
        try:
            write_atomic(path, markdown)
        except OSError as error:
            raise Failure(f"cannot write {path}: {error.strerror or error}") from None
        _note(f"wrote {path}")
        return EXIT_OK
    if _isatty(sys.stdout):
        markdown = for_display(markdown)
    sys.stdout.write(markdown)
    sys.stdout.flush()
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
