"""`tui-chat ask`: one prompt, the reply streamed to stdout and saved as a conversation.

The reply runs through the reply core (tui_chat/reply.py), on the main thread, like the app's
and compare mode's: `Ask` is its listener (the reply goes to the terminal writer, cli/writer.py)
and its keeper (the session file, or nothing with --no-save). What is particular to a command
is here: the flags, finding the conversation, and ending cleanly however it is stopped
(ctrl+c, SIGTERM, a closed pipe, a bug): what arrived is kept and saved, and the exit code
says how it ended.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_chat.attachments import Attachment, AttachmentError, check_request
from tui_chat.attachments import read as read_attachment
from tui_chat.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    Failure,
    UsageError,
    isatty,
    note,
    say,
    silence_stdout,
)
from tui_chat.cli.lookup import find, load, most_recent, open_store
from tui_chat.cli.writer import Writer
from tui_chat.conversation import Conversation, Message
from tui_chat.param_flags import PARAM_FLAGS, FlagError, flag_values, with_flags
from tui_chat.params import ParamError
from tui_chat.reply import Engines, Reply, prepare_request
from tui_chat.sanitize import storable

if TYPE_CHECKING:
    from tui_chat.bedrock.engine import Engine
    from tui_chat.bedrock.errors import BedrockError
    from tui_chat.bedrock.events import Stop
    from tui_chat.config import Settings
    from tui_chat.store import SessionStore

log = logging.getLogger("tui_chat.cli")


class _Terminated(BaseException):
    """SIGTERM, turned into an exception so the partial reply is saved as for ctrl+c."""


def read_prompt(args: argparse.Namespace) -> str:
    text = args.prompt
    if text is None or text == "-":
        stdin = sys.stdin
        if stdin is None or (text is None and isatty(stdin)):
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


def check_ask_flags(args: argparse.Namespace) -> None:
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


def read_attachments(args: argparse.Namespace) -> list[tuple[Attachment, bytes]]:
    """The files given with --attach, each checked (exit 2 naming the file and the limit)."""
    files = []
    for path in getattr(args, "attach", None) or []:
        try:
            files.append(read_attachment(path, Path.cwd()))
        except AttachmentError as error:
            raise UsageError(f"--attach: {error}") from None
    try:
        check_request([attachment for attachment, _ in files])
    except AttachmentError as error:
        raise UsageError(f"--attach: {error}") from None
    return files


class Ask:
    """One `ask`: the reply's listener and keeper, and everything it needs to finish cleanly
    however it is stopped."""

    def __init__(self, args: argparse.Namespace, settings: Settings) -> None:
        self.args = args
        self.settings = settings
        self.persist = not getattr(args, "no_save", False)
        thinking = getattr(args, "thinking", None) not in (None, "off")
        self.writer = Writer(raw=getattr(args, "raw", False), show_thinking=thinking)
        self.engines = Engines(settings)
        self.store: SessionStore | None = None
        self.conversation: Conversation | None = None
        self.reply: Reply | None = None
        self.error: BedrockError | None = None
        self.saved = False

    # -- set-up ------------------------------------------------------------------------------

    def _conversation(self) -> tuple[Conversation | None, str | None]:
        """The conversation named by --session or --continue (None: a new one), and the
        title a new one gets (--session naming none)."""
        args, store = self.args, self.store
        assert store is not None
        if getattr(args, "continue_last", False):
            conversation = load(store, most_recent(store))
            return conversation, conversation.id
        if args.session is None:
            return None, None
        if not args.session.strip():
            raise UsageError("--session: give a conversation id or title")
        found = find(store, args.session)
        return (load(store, found) if found is not None else None), args.session

    def engine(self) -> Engine:
        """The demo's engine, or Bedrock's once its credentials are found."""
        engine = self.engines.get()
        if self.settings.demo:
            return engine
        from tui_chat.bedrock import BedrockError
        from tui_chat.bedrock import client as clients

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
        from tui_chat.learned import LearnedRules

        args, settings = self.args, self.settings
        check_ask_flags(args)
        try:
            raw = {flag: getattr(args, flag[2:].replace("-", "_"), None) for flag in PARAM_FLAGS}
            given = flag_values(raw, no_cache=getattr(args, "no_cache", False))
        except FlagError as error:
            raise UsageError(str(error)) from None
        prompt = read_prompt(args)
        files = read_attachments(args)
        self.store = open_store(settings)
        conversation, title = self._conversation()
        if conversation is not None:
            base = conversation.params
        elif settings.demo:
            from tui_chat.demo import demo_defaults

            base = demo_defaults(settings)  # the model the app uses in demo mode
        else:
            base = settings.defaults
        try:
            params, notes = with_flags(base, given, args.max_tokens)
        except FlagError as error:
            raise UsageError(str(error)) from None
        for line in notes:
            note(line)

        if conversation is None:  # in memory only until the request can go
            conversation = Conversation.new(params)
            if title is not None:
                conversation.rename(title)
        user = Message(role="user", content=prompt, attachments=[a for a, _ in files])
        history = [*conversation.messages, user]
        learned = LearnedRules.in_folder(settings.paths.cache_dir)
        try:
            load = self.store.loader(conversation.id, files)
            prepared = prepare_request(history, params, learned, load=load)
        except ParamError as error:
            raise UsageError(str(error)) from None
        for name in prepared.omitted:
            note(f"left out {name}: {prepared.reasons.get(name, 'the model takes no ' + name)}")
        for line in prepared.notes:
            note(line)
        engine = self.engine()

        conversation.params = params
        conversation.add(user)
        self.conversation = conversation
        if self.persist:
            for attachment, data in files:
                self._keep(conversation.id, attachment, data)
        self._save("save the prompt to")
        self.reply = reply = Reply(
            conversation, prepared, checkpoints=self.persist, learned=learned
        )
        reply.pump(engine, self, self, coalesce=0)  # each batch to the terminal at once
        self.finish()
        self.writer.end_line()
        if self.error is not None:
            raise Failure(self.explain(self.error))
        message = reply.message
        if message.stop_reason == "max_tokens" and not message.content and message.thinking:
            limit = message.params.get("max_tokens_to_sample", "?")
            say(
                f"warning: max tokens ({limit}) ran out while the model was thinking, before "
                "any answer; raise --max-tokens or lower --effort"
            )
        return EXIT_OK

    def explain(self, failure: BedrockError) -> str:
        """The failure's line, and what the next run does about it: a refused parameter is
        remembered (the reply core learned it) and left out; a retired model names its
        replacement."""
        if failure.kind == "refused" and failure.refused and self.reply is not None:
            from tui_chat.bedrock.refusals import describe

            return (
                f"Bedrock refused {describe(list(failure.refused))} for "
                f"{self.reply.prepared.model_id} ({' '.join(failure.detail.split())[:200]}); it "
                "is remembered and left out from now on: run the same command again"
            )
        if failure.kind == "end_of_life" and failure.replacement:
            return f"{failure.user_message} Run with --model {failure.replacement}"
        return failure.user_message

    # -- the reply core's listener (on this thread) ---------------------------------------------

    def text(self, reply: Reply, text: str) -> None:
        reply.add_text(text)
        self.writer.write(text)

    def thinking(self, reply: Reply, text: str, signature: str, redacted: str) -> None:
        reply.add_thinking(text, signature, redacted)
        if text or redacted:
            self.writer.think(text, redacted=bool(redacted))

    def ended(self, reply: Reply, stop: Stop | None, error: BedrockError | None) -> None:
        reply.end(stop, error)
        self.error = error if stop is None else None

    # -- the reply core's keeper ---------------------------------------------------------------

    def save(self, conversation: Conversation) -> bool:
        self._save("save the reply to")
        return self.persist

    def checkpoint(self, conversation_id: str, message: Message) -> None:
        assert self.store is not None
        self.store.checkpoint(conversation_id, message)

    def clear_checkpoint(self, conversation_id: str) -> None:
        assert self.store is not None
        self.store.clear_checkpoint(conversation_id)

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
            say(
                f"warning: conversation {original} was changed by another program; "
                f"this exchange was saved as a copy, {self.conversation.id}"
            )

    def _keep(self, conversation_id: str, attachment: Attachment, data: bytes) -> None:
        assert self.store is not None
        try:
            self.store.keep_file(conversation_id, attachment, data)
        except OSError as error:
            where = error.filename or self.store.files_dir(conversation_id)
            raise Failure(f"cannot keep {attachment.name} in {where}: {error.strerror}") from None

    # -- endings -----------------------------------------------------------------------------

    def finish(self) -> None:
        """Keep the reply (whatever state it is in) in its conversation and save it."""
        if self.saved or self.reply is None:
            return
        previous = _ignore_sigint()  # a second ctrl+c must not interrupt the save itself
        try:
            self.reply.finish(self if self.persist else None)
            self.saved = True
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def interrupted(self, status: str = "cancelled", error: BedrockError | None = None) -> None:
        """ctrl+c, SIGTERM, a closed pipe (or a bug): stop the request, keep and save what
        arrived, as `cancelled` (or `error`)."""
        if self.reply is None or self.saved:
            return
        self.reply.cancel(status)
        if error is not None:
            self.reply.end(None, error)
        try:  # report file problems plainly; the exit code already says what happened
            self.finish()
        except Failure as failure:
            say(str(failure))


def ask(args: argparse.Namespace, settings: Settings) -> int:
    run = Ask(args, settings)
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
            note(f"saved as {run.conversation.id}")
        return code
    except (KeyboardInterrupt, _Terminated) as stop:
        for signum in previous:
            signal.signal(signum, signal.SIG_IGN)
        run.interrupted()
        run.writer.end_line(render=False)
        if run.conversation is not None and run.saved and run.persist:
            note(f"interrupted; the partial reply was saved in {run.conversation.id}")
        return EXIT_TERMINATED if isinstance(stop, _Terminated) else EXIT_INTERRUPTED
    except BrokenPipeError:
        silence_stdout()
        run.writer.tty = False
        run.interrupted()
        return EXIT_BROKEN_PIPE
    except Failure:
        if run.conversation is not None and run.saved and run.persist:
            note(f"saved as {run.conversation.id}")
        raise
    except UsageError:
        raise
    except Exception as error:
        # A bug: keep what arrived, say so in one line, and leave the details to the log.
        from tui_chat.bedrock import BedrockError

        if settings.debug:
            log.exception("unexpected error")
        bug = BedrockError("unknown", detail=f"{type(error).__name__}: {error}")
        run.interrupted("error", bug)
        run.writer.end_line(render=False)
        raise Failure(
            f"unexpected error: {type(error).__name__}: {error} (run with --debug and see "
            f"{settings.paths.log_file})"
        ) from None
    finally:
        run.engines.close()
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
