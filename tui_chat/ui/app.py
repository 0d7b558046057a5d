"""ChatApp: the three panes, streaming replies, saving as it goes.

The app owns the open conversation and decides; widgets post messages up. Each reply streams
in a thread worker that drains the engine's queue, coalesces text, checkpoints the partial
reply to its sidecar, and posts `StreamText` / `StreamEnded` tagged with the conversation and a
request id; anything from a cancelled or replaced request is dropped on arrival.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import tomli_w
from rich.text import Text
from textual import events, on, work
from textual._dispatch_key import dispatch_key
from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import Binding
from textual.color import Color, ColorParseError
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TextArea
from textual.worker import Worker, get_current_worker

from tui_chat import presets
from tui_chat.bedrock import catalog, models
from tui_chat.bedrock.catalog import model_change_notes
from tui_chat.bedrock.client import likely_has_credentials
from tui_chat.bedrock.errors import BedrockError, from_exception
from tui_chat.bedrock.events import (
    Failure,
    RedactedThinking,
    Stop,
    TextDelta,
    ThinkingDelta,
    ThinkingSignature,
)
from tui_chat.bedrock.formats import Prepared, estimate_tokens, prepare
from tui_chat.config import Settings, State, load_settings
from tui_chat.conversation import Conversation, Message
from tui_chat.demo import DEMO_REGION, demo_defaults
from tui_chat.learned import LearnedRules
from tui_chat.params import ParamError, Params
from tui_chat.sanitize import for_display
from tui_chat.store import (
    SUFFIX,
    Problem,
    SaveResult,
    SessionStore,
    StoreError,
    dumps,
    write_atomic,
)
from tui_chat.ui.app_tools import ToolActions
from tui_chat.ui.driver import TerminalGone
from tui_chat.ui.format import conversation_usage, model_name, usage_words
from tui_chat.ui.layout import LIST, SIDEBAR, Arrangement, arrange, drawer_width
from tui_chat.ui.line_filter import NoControlCharacters
from tui_chat.ui.markdown import warm_up_markdown
from tui_chat.ui.messages import StreamEnded, StreamText, StreamThinking
from tui_chat.ui.screens.compare import CompareScreen
from tui_chat.ui.screens.dialogs import AskText, Confirm, ModelPicker, UnsavedDialog
from tui_chat.ui.screens.help import HelpScreen
from tui_chat.ui.themes import DEFAULT_THEME, check_variables, load_all
from tui_chat.ui.widgets.conversation_list import ConversationList, ConversationPane, Entry
from tui_chat.ui.widgets.keys import typed_text
from tui_chat.ui.widgets.message_view import AssistantTurn, MessageView
from tui_chat.ui.widgets.prompt import PromptInput
from tui_chat.ui.widgets.sidebar import ParamSidebar, lifecycle_line

log = logging.getLogger("tui_chat.ui")

#: Seconds between the worker's posts of coalesced text, and between checkpoints.
COALESCE_SECONDS = 0.05
CHECKPOINT_SECONDS = 2.0
#: Seconds after start-up before the AWS client is made and session files are checked.
WARM_UP_DELAY = 0.3
#: Seconds between attempts to save what could not be written (a full or read-only disk).
RETRY_SECONDS = 5.0
NEW_DRAFT_KEY = "new"


@dataclass
class ActiveStream:
    """A reply being streamed into a conversation."""

    conversation: Conversation
    message: Message
    request_id: int
    prepared: Prepared
    previous: Message | None = None  # the reply this one regenerates (kept as alternative)
    handle: Any = None
    worker: Worker | None = None
    cancelled: bool = False
    started: float = field(default_factory=time.monotonic)
    base_usage: dict[str, int] = field(default_factory=dict)  # a continued reply's usage so far
    column: int | None = None  # compare mode: which column this reply streams into

    def __post_init__(self) -> None:
        self.base_text = self.message.content  # a continued reply's text so far


class TitleBar(Horizontal):
    """One line: the conversation's title on the left; model, region and DEMO on the right."""

    DEFAULT_CSS = """
    TitleBar { height: 1; background: $panel; }
    TitleBar > #title { width: 1fr; padding: 0 1; text-style: bold;
                        text-wrap: nowrap; text-overflow: ellipsis; }
    TitleBar > #status { width: auto; padding: 0 1; color: $text-muted; }
    TitleBar > #usage { width: auto; padding: 0 1; color: $text-muted; }
    TitleBar > #badge { width: auto; padding: 0 1; background: $warning; color: $text;
                        text-style: bold; display: none; }
    TitleBar.-demo > #badge { display: block; }
    TitleBar > #unsaved { width: auto; padding: 0 1; background: $error; color: $text;
                          text-style: bold; display: none; }
    TitleBar.-unsaved > #unsaved { display: block; }
    """

    #: Columns the title keeps before the usage, then the region, give way to it.
    TITLE_MIN = 32

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._title = "tui-chat"
        self._usage = ""
        self._status = ("", "")  # in full, and the model name alone

    def compose(self):
        yield Static("tui-chat", id="title")
        yield Static("", id="usage")
        yield Static("", id="status")
        yield Static("UNSAVED", id="unsaved")
        yield Static("DEMO", id="badge")

    def set_title(self, title: str) -> None:
        self._title = f"tui-chat · {for_display(title)}"
        self.query_one("#title", Static).update(Text(self._title))

    def set_usage(self, words: str) -> None:
        self._usage = words
        self._fit()

    def set_status(self, model: str, region: str, endpoint: str = "") -> None:
        name = model_name(model) if model else "no model"
        parts = [name, for_display(region) or "region?"]
        if endpoint:
            parts.append(for_display(endpoint))
        self._status = (" · ".join(parts), name)
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """The title wins: the region and endpoint give way first, then the usage totals,
        then the model, so at least TITLE_MIN columns (or the whole title) stay readable."""
        badge = (6 if self.has_class("-demo") else 0) + (9 if self.has_class("-unsaved") else 0)
        room = self.size.width - badge - min(len(self._title) + 2, self.TITLE_MIN)
        full, short = self._status
        usage = self._usage
        for shown_usage, status in (
            (usage, full),
            (usage, short),
            ("", full),
            ("", short),
            ("", ""),
        ):
            needed = sum(len(part) + 2 for part in (shown_usage, status) if part)
            if needed <= room:
                break
        self.query_one("#usage", Static).update(Text(shown_usage))
        self.query_one("#usage", Static).display = bool(shown_usage)
        self.query_one("#status", Static).update(Text(status))


def _solid(variables: dict[str, str], name: str) -> str:
    """A theme colour as #rrggbb for code blocks: a semi-transparent one is blended onto the
    background (Rich's Syntax takes no alpha), anything unreadable is the terminal's own."""
    try:
        colour = Color.parse(variables.get(name, ""))
        if colour.a < 1:
            colour = Color.parse(variables.get("background", "#000000")).blend(colour, colour.a)
    except (ColorParseError, ValueError):
        return "default"
    return colour.hex6


class ChatApp(ToolActions, App):
    """The full-screen chat client."""

    CSS_PATH = "app.tcss"
    #: Screen classes by width (app.tcss: the title bar leaves out usage below 100 columns).
    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-narrow"), (100, "-wide")]
    TITLE = "tui-chat"
    AUTO_FOCUS = "#prompt"
    BINDINGS: ClassVar = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("escape", "escape", "Cancel", show=False),
        Binding("ctrl+n", "new_conversation", "New"),
        Binding("ctrl+r", "retry", "Retry"),
        Binding("ctrl+o", "toggle_sidebar", "Params"),
        Binding("ctrl+b", "toggle_sidebar", "Params", show=False),
        Binding("ctrl+l", "toggle_list", "List"),
        Binding("ctrl+f", "filter", "Filter"),
        Binding("ctrl+y", "copy_reply", "Copy"),
        Binding("f1", "help", "Help"),
        Binding("f2", "rename", "Rename", show=False),
        Binding("ctrl+t", "continue", "Continue"),
        Binding("ctrl+g", "toggle_thinking", "Thinking", show=False),
        Binding("f5", "reset_params", "Reset params", show=False),
        Binding("f3", "compare", "Compare", show=False),
        Binding("alt+left", "flip(-1)", "Previous alternative", show=False),
        Binding("alt+right", "flip(1)", "Next alternative", show=False),
    ]

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self._filters.append(NoControlCharacters())
        self.last_typed = 0.0
        self.settings = settings or load_settings()
        self.state = State.load(self.settings.paths.state_file)
        self.demo_mode = self.settings.demo or not likely_has_credentials()
        if self.demo_mode:
            self.settings.defaults = demo_defaults(self.settings)  # the same as `ask --demo`
        elif self.state.default_model and not self.settings.model_from_config:
            # The newest Claude Sonnet the account listed at the first start.
            self.settings.defaults = self.settings.defaults.with_changes(
                model=self.state.default_model
            )
        #: Rules learned from Bedrock's refusals, per model (kept in the cache folder).
        self.learned = LearnedRules.in_folder(self.settings.paths.cache_dir)
        self.store = SessionStore(
            self.settings.paths.sessions_dir,
            cache_dir=self.settings.paths.cache_dir,
            defaults=self.settings.defaults,
        )
        self.conversation = Conversation.new(self.settings.defaults)
        self.loaded: dict[str, Conversation] = {}
        self.streams: dict[str, ActiveStream] = {}
        #: The account's models once fetched (None: offline, or not yet).
        self.models: list[models.ModelEntry] | None = None
        self.models_checked = False
        #: Compare mode: its screen while open, and its streams by request id.
        self.compare_screen: CompareScreen | None = None
        self.compare_streams: dict[int, ActiveStream] = {}
        #: The last request sent in each conversation (for "show request").
        self.last_requests: dict[str, Prepared] = {}
        self._request_ids = itertools.count(1)
        self._engine = None
        self._demo = None
        self._engine_lock = threading.Lock()
        self._reported: set[str] = set()
        self._param_save_timer = None
        self._shut = False
        #: The side panes the user wants (ctrl+l, ctrl+o), most recently asked for first,
        #: and the one open as a drawer over the messages (see ui/layout.py).
        self._wanted = {
            LIST: self.state.conversation_list is not False,
            SIDEBAR: self.state.sidebar is not False,
        }
        self._pane_order = [LIST, SIDEBAR]
        self._drawer: str | None = None
        self._lifecycle_said: set[str] = set()  # conversations told their model is legacy
        #: An earlier prompt being edited: (its conversation, its index); Enter resends it in
        #: a copy of the conversation up to that turn, so the original is never lost.
        self._editing: tuple[Conversation, int] | None = None
        self._context_base: int | None = None  # the context meter's tokens before the draft
        #: Conversations that could not be written (by id), kept here and retried; and why
        #: state.toml could not be, when it could not.
        self.unsaved: dict[str, Conversation] = {}
        self._unsaved_reason = ""
        self._state_unsaved: str | None = None
        self._retry_timer = None
        #: Set when the app ends without a person to ask (a signal, the terminal gone): the
        #: lines to print once the terminal is restored, and the exit code.
        self.exit_notes: list[str] = []
        self.print_on_exit = ""
        self.terminal_gone = False

    # -- layout --------------------------------------------------------------------------------

    def compose(self):
        yield TitleBar(id="titlebar")
        with Horizontal(id="body"):
            yield ConversationPane(id="list-pane")
            with Vertical(id="main"):
                yield MessageView(id="messages")
                yield PromptInput(id="prompt", prompt_history=self.state.history)
            yield ParamSidebar(self.conversation.params, catalog.suggestions(None), id="sidebar")
        yield Footer()

    def _code_style(self) -> tuple[str, str]:
        theme = self.current_theme
        if theme.name.startswith("ansi") or getattr(theme, "ansi", False):
            return ("ansi_dark" if theme.dark else "ansi_light", "default")
        variables = self.theme_variables
        name = "surface-lighten-1" if theme.dark else "surface-darken-1"
        return ("monokai" if theme.dark else "default", _solid(variables, name))

    def _apply_themes(self) -> None:
        """Register our themes and the user's, then pick: --theme, else the last choice,
        else config.toml, else the default. Bad files and unknown names are reported."""
        found = load_all(self.settings.paths.user_themes_dir)
        for theme in found.themes:
            if self._theme_problem(theme) is None:
                self.register_theme(theme)
        for problem in found.problems:
            self.say(
                f"Theme file {problem.path} was skipped: {problem.reason}",
                severity="warning",
                timeout=10,
            )
        settings = self.settings
        wanted = [settings.theme] if settings.theme_from_cli else []
        wanted += [self.state.theme, settings.theme, DEFAULT_THEME]
        for name in wanted:
            if not name:
                continue
            if name in self.available_themes:
                # Applied, not chosen: a --theme for one run is not remembered (watch_theme).
                self._applied_theme = name
                self.theme = name
                break
            self.say(
                f"Unknown theme “{name}”; using another. Themes: "
                + ", ".join(sorted(self.available_themes)),
                severity="warning",
                timeout=10,
            )
        self._themes_ready = True

    def _theme_problem(self, theme) -> str | None:
        """Why Textual could not use this theme (said once, naming it), or None. The loader
        already refuses such files; this is the safety net for a theme got any other way."""
        problems = self.__dict__.setdefault("_theme_problems", {})
        if theme.name not in problems:
            problems[theme.name] = problem = check_variables(theme)
            if problem:
                self.say(
                    f"Theme “{theme.name}” cannot be used: {problem}",
                    severity="warning",
                    timeout=10,
                )
        return problems[theme.name]

    def validate_theme(self, name: str) -> str:
        """A theme that would stop the app (a bad variable) is never applied: keep the current
        one, or the default at start."""
        theme = self.get_theme(name)
        if theme is not None and self._theme_problem(theme):
            current = self.__dict__.get("_reactive_theme")
            fallback = current if current and current != name else DEFAULT_THEME
            return fallback
        return name

    def watch_theme(self, theme: str) -> None:
        chosen = theme != getattr(self, "_applied_theme", None)
        if chosen and getattr(self, "_themes_ready", False):
            self._applied_theme = None  # from now on every change is the user's
        if getattr(self, "_themes_ready", False) and chosen and theme != self.state.theme:
            self.state.theme = theme  # the last choice is remembered
            self._save_state()
        # The theme's variables are only updated after this watcher: look at them then.
        self.call_after_refresh(self._refresh_code_style)

    def _refresh_code_style(self) -> None:
        try:
            view = self.query_one(MessageView)
        except NoMatches:
            return
        style = self._code_style()
        if view.code_style != style:
            view.code_style = style
            self.call_after_refresh(self._show, self.conversation)

    async def on_mount(self) -> None:
        self.query_one(MessageView).code_style = self._code_style()
        self._apply_themes()
        self._arrange_panes()
        self._install_signal_handlers()
        bar = self.query_one(TitleBar)
        bar.set_class(self.demo_mode, "-demo")
        self._update_status()
        for problem in self.settings.problems + self.state.problems:
            self.say(problem, severity="warning", timeout=10)
        self._load_listing()
        first = self._initial_conversation_id()
        await self._open_initial(first)
        today = datetime.now(UTC).date().isoformat()
        if self.demo_mode and not self.settings.demo and self.state.demo_notice != today:
            # Once a day: the DEMO badge stays in the title bar the whole time.
            self.state.demo_notice = today
            self.say(
                "No AWS credentials found, so this is the offline demo. To use Bedrock, set "
                "AWS_PROFILE (or AWS keys) and AWS_REGION, then restart. F1 has the keys.",
                title="Demo mode",
                timeout=8,
            )
        # Importing boto3 and parsing every session file compete with the first frame for the
        # GIL: start them once the screen is up.
        self.set_timer(WARM_UP_DELAY, self._start_background_work)

    def _start_background_work(self) -> None:
        self._warm_up()
        self._verify_listing()

    async def _open_initial(self, conversation_id: str | None) -> None:
        if not conversation_id or not await self.open_conversation(conversation_id):
            await self._show_new()

    def _initial_conversation_id(self, reopen: bool = True) -> str | None:
        """The conversation open at quit (with its draft); a new one if that is what was open
        at quit with an unsent draft in it; else the most recent."""
        entries = self.query_one(ConversationList).entries
        wanted = self.state.open_conversation if reopen else None
        if wanted and wanted in entries and not entries[wanted].problem:
            return wanted
        if wanted and wanted not in entries and self.state.drafts.get(NEW_DRAFT_KEY):
            return None
        readable = [e for e in entries.values() if not e.problem]
        if not readable:
            return None
        return max(readable, key=lambda e: (e.updated, e.id)).id

    # -- notifications -------------------------------------------------------------------------

    def say(
        self,
        message: str,
        *,
        title: str = "",
        severity: str = "information",
        timeout: float | None = None,
    ) -> None:
        """Notify with plain text: never parsed as markup, control characters neutralised."""
        self.notify(
            for_display(message),
            title=for_display(title),
            severity=severity,  # type: ignore[arg-type]
            timeout=timeout,
            markup=False,
        )

    # -- engine --------------------------------------------------------------------------------

    def engine(self):
        """The Engine (created on first use, in a worker thread: it may import boto3)."""
        with self._engine_lock:
            if self._engine is None:
                if self.demo_mode:
                    from tui_chat.demo import Demo

                    self._demo = Demo.from_environment()
                    self._engine = self._demo.engine(self.settings)
                else:
                    from tui_chat.bedrock.engine import Engine

                    self._engine = Engine(self.settings)
            return self._engine

    @work(thread=True, exit_on_error=False, group="warmup")
    def _warm_up(self) -> None:
        """Load what the first reply needs and create the engine and its client, off the first
        frame, so the first send is quick."""
        warm_up_markdown()
        try:
            engine = self.engine()
            engine.connection  # noqa: B018 - resolves the region
            engine.runtime()
        except BedrockError as error:
            log.debug("warm-up: %s", error.kind)
        except Exception as error:  # a broken AWS config must not stop the app
            log.debug("warm-up failed: %s", type(error).__name__)
        self.call_from_thread(self._update_status)
        if self.demo_mode:  # the demo's emulator lists no account of yours
            self.call_from_thread(self._show_models, None)
        else:
            self._load_models()

    def _load_models(self) -> None:
        """The account's models, from the day-old cache or Bedrock (in the warm-up thread)."""
        try:
            engine = self.engine()
            connection = engine.connection
            path = models.cache_path(
                self.settings.paths.cache_dir, connection.region, connection.endpoint_control
            )
            found = models.load_cache(path)
            if found is None:
                found = models.fetch(engine.control())
                models.save_cache(path, found)
        except Exception as error:  # offline, or not allowed to list: the catalog stands in
            log.debug("model list unavailable: %s", type(error).__name__)
            found = None
        self.call_from_thread(self._show_models, found)

    def _show_models(self, found: list[models.ModelEntry] | None) -> None:
        self.models_checked = True
        if found is None:
            return
        self.models = found
        self._choose_account_default(found)
        try:
            self.query_one(ParamSidebar).set_models(found)
        except NoMatches:
            pass

    def _choose_account_default(self, found: list[models.ModelEntry]) -> None:
        """At the first start with credentials, the newest active Claude Sonnet the account
        lists becomes the model of new conversations (unless config.toml names one)."""
        settings = self.settings
        if self.demo_mode or settings.model_from_config or self.state.default_model:
            return
        available = {m.model_id for m in found if m.streams_text and m.lifecycle != "legacy"}
        chosen = catalog.newest("sonnet", settings.region, available=available)
        if chosen is None:
            return
        self.state.default_model = chosen
        previous = settings.defaults.model
        settings.defaults = settings.defaults.with_changes(model=chosen)
        conversation = self.conversation
        untouched = not conversation.messages and not self.store.exists(conversation.id)
        if untouched and conversation.params.model == previous and chosen != previous:
            conversation.params = conversation.params.with_changes(model=chosen)
            self.query_one(ParamSidebar).show(conversation.params)
            self._update_status()

    def action_choose_model(self) -> None:
        def chosen(model_id: str | None) -> None:
            if model_id:
                self._set_model(model_id)
                self.say(f"Model set to {model_id}.")

        self.push_screen(
            ModelPicker(self.models, catalog.suggestions(self.settings.region)), chosen
        )

    def _update_context(self, draft: str | None = None) -> None:
        """The context meter under the prompt: the conversation's input tokens for the next
        request (the last reply's own counts, plus an estimate for what came since and for
        the draft) against the model's context window; a warning near the limit."""
        conversation = self.conversation
        info = catalog.lookup(conversation.params.model)
        prompt = self.query_one(PromptInput)
        if not info.context:
            prompt.border_subtitle = ""
            return
        if draft is None or self._context_base is None:
            self._context_base = context_tokens(conversation, info)
        used = self._context_base + estimate_tokens(draft or prompt.text, info)
        share = used / info.context
        words = f"context ≈{_short_count(used)} / {_short_count(info.context)}"
        if share >= 1:
            words += " · over the model's limit: start a new conversation (ctrl+n)"
        elif share >= 0.8:
            words += " · near the limit"
        prompt.border_subtitle = Text(words)
        prompt.set_class(share >= 0.8, "-context-near")
        prompt.set_class(share >= 1, "-context-over")

    def _update_usage(self) -> None:
        totals = conversation_usage(self.conversation.messages, self.settings.prices)
        if self.demo_mode:
            totals.cost, totals.saved = None, 0.0  # the demo costs nothing
        self.query_one(TitleBar).set_usage(usage_words(totals))

    def _update_status(self) -> None:
        region = self.settings.region or ""
        endpoint = ""
        engine = self._engine
        if engine is not None:
            try:
                connection = engine.connection
                region = connection.region
                if connection.endpoint_runtime and not self.demo_mode:
                    endpoint = "custom endpoint"
            except BedrockError:
                pass
        if self.demo_mode:
            region = region or DEMO_REGION
        self.query_one(TitleBar).set_status(self.conversation.params.model, region, endpoint)

    # -- the list ------------------------------------------------------------------------------

    def _load_listing(self) -> None:
        listing = self.store.list()
        entries = [
            Entry(s.id, s.title, s.updated, s.message_count, streaming=s.id in self.streams)
            for s in listing.conversations
        ]
        self.query_one(ConversationList).set_entries(entries)
        self._report_problems(listing.problems)

    def _report_problems(self, problems: list[Problem]) -> None:
        """Show each unreadable file as a marked row (it stays untouched) and say so once."""
        conversations = self.query_one(ConversationList)
        for problem in problems:
            name = problem.path.name
            conversations.entries.pop(name.removesuffix(SUFFIX), None)
            conversations.entries[f"!{name}"] = Entry(
                f"!{name}", name, _epoch(), 0, problem=problem.reason
            )
            key = f"{problem.path}:{problem.reason}"
            if key not in self._reported:
                self._reported.add(key)
                self.say(
                    f"{problem.path} is unreadable and was left untouched: {problem.reason}",
                    severity="warning",
                    timeout=10,
                )
        if problems:
            conversations.rebuild()

    @work(thread=True, exit_on_error=False, group="verify", exclusive=True)
    def _verify_listing(self) -> None:
        """Parse every file the listing only skimmed (once per file version: the result is
        remembered), so a file that is broken past its header is reported at start."""
        problems = self.store.list(verify=True).problems
        if problems:
            self.call_from_thread(self._report_problems, problems)

    def _list_entry(self, conversation: Conversation) -> Entry:
        return Entry(
            conversation.id,
            conversation.title,
            conversation.updated,
            sum(1 for m in conversation.messages if m.status != "streaming"),
            streaming=conversation.id in self.streams,
        )

    def _refresh_entry(self, conversation: Conversation) -> None:
        if not self.store.exists(conversation.id):
            return
        try:
            listing = self.query_one(ConversationList)
        except NoMatches:  # the app is closing
            return
        listing.upsert(self._list_entry(conversation))
        if conversation is self.conversation:
            listing.select_current(conversation.id, move=not listing.has_focus)

    @on(ConversationList.Opened)
    async def _on_opened(self, event: ConversationList.Opened) -> None:
        if event.conversation_id != self.conversation.id:
            await self.open_conversation(event.conversation_id)
        self.query_one("#prompt").focus()

    @on(ConversationList.DeleteRequested)
    async def _on_delete_requested(self, event: ConversationList.DeleteRequested) -> None:
        other = event.conversation_id != self.conversation.id
        if other and not await self.open_conversation(event.conversation_id):
            return
        self.action_delete()

    # -- opening conversations -----------------------------------------------------------------

    def _draft_key(self, conversation: Conversation) -> str:
        return conversation.id if self.store.exists(conversation.id) else NEW_DRAFT_KEY

    async def open_conversation(self, conversation_id: str) -> bool:
        """Show a saved conversation (the in-memory one if it is streaming or was opened)."""
        conversation = self.loaded.get(conversation_id)
        if conversation is None:
            try:
                conversation = self.store.load(conversation_id)
            except StoreError as error:
                self._report_problems([Problem(error.path, error.reason)])
                return False
            self.loaded[conversation_id] = conversation
        await self._show(conversation)
        return True

    async def _show_new(self, params: Params | None = None) -> None:
        await self._show(Conversation.new(params or self.settings.defaults))

    async def _show(self, conversation: Conversation) -> None:
        self.conversation = conversation
        stream = self.streams.get(conversation.id)
        view = self.query_one(MessageView)
        await view.show(
            conversation.id,
            conversation.messages,
            streaming=stream.message if stream else None,
            empty_hint="Type a message below and press Enter. F1 lists every key.",
        )
        sidebar = self.query_one(ParamSidebar)
        sidebar.show(conversation.params)
        sidebar.set_refused(self.learned.for_model(conversation.params.model))
        if conversation.messages:
            self._say_lifecycle(conversation)
        prompt = self.query_one(PromptInput)
        prompt.load_text(self.state.drafts.get(self._draft_key(conversation), ""))
        prompt.move_cursor(prompt.document.end)
        self.query_one(TitleBar).set_title(conversation.title)
        self.query_one(ConversationList).select_current(conversation.id)
        self._update_status()
        self._update_usage()
        self._context_base = None
        self._update_context()
        self.refresh_bindings()  # ctrl+t shows only where a reply can be continued

    # -- sending -------------------------------------------------------------------------------

    @on(PromptInput.Submitted)
    async def _on_submitted(self, event: PromptInput.Submitted) -> None:
        if self._editing is not None and self._editing[0] is self.conversation:
            await self._fork_for_edit()
        self._editing = None
        conversation = self.conversation
        if conversation.id in self.streams:
            self.say("A reply is still streaming: Escape cancels it. Your text is kept.")
            return
        problems = self.query_one(ParamSidebar).problems()
        if problems:
            self.say(
                "Not sent: fix the marked parameter first. " + "; ".join(problems),
                severity="warning",
            )
            return
        text = event.text
        message = conversation.add_user(text)
        # If it cannot be written, it is sent all the same: kept in memory, marked UNSAVED,
        # and written by itself when the disk allows.
        outcome = self._save(conversation, reshow=False)
        self.loaded[conversation.id] = conversation
        self.state.drafts.pop(NEW_DRAFT_KEY, None)
        self.state.drafts.pop(conversation.id, None)
        self.state.remember_prompt(text)
        prompt = self.query_one(PromptInput)
        prompt.prompt_history = self.state.history
        prompt.clear()
        if outcome == "merged" and conversation is self.conversation:
            await self._show(conversation)  # other turns arrived: show them all, in order
        else:
            await self.query_one(MessageView).add_turn(message)
        self.query_one(TitleBar).set_title(conversation.title)
        await self._start_reply(conversation)

    def _save(self, conversation: Conversation, reshow: bool = True) -> str | None:
        """Save now. If it cannot be (a full or read-only disk), the conversation stays in
        memory, marked UNSAVED, and is saved again by itself once writing works (None is
        returned). Says so, and when it was merged or saved as a copy. After a merge the open
        conversation is shown again, unless the caller (`reshow=False`) does that itself."""
        original_id = conversation.id
        try:
            result: SaveResult = self.store.save(conversation)
        except (OSError, StoreError) as error:
            self._mark_unsaved(conversation, _reason(error))
            return None
        self._mark_saved(original_id, conversation)
        if result.outcome == "merged":
            self.say("Another tui-chat added turns to this conversation; they are merged in.")
            if reshow and conversation is self.conversation:
                self.call_after_refresh(self._show, conversation)
        elif result.outcome == "copied":
            self._rekey(result.original_id, conversation)
            self.say(
                "This conversation was changed elsewhere in a way that cannot be merged; your "
                f"version is saved as a copy ({conversation.id}).",
                severity="warning",
                timeout=15,
            )
            if conversation is self.conversation:
                self.query_one(TitleBar).set_title(conversation.title)
            self._load_listing()
        self._refresh_entry(conversation)
        return result.outcome

    def _rekey(self, old_id: str, conversation: Conversation) -> None:
        """A conversation saved as a copy has a new id: everything the app keeps by id
        follows it (its stream, its draft), so nothing is left behind under the old one."""
        new_id = conversation.id
        self.loaded.pop(old_id, None)
        self.loaded[new_id] = conversation
        if old_id in self.streams:
            self.streams[new_id] = self.streams.pop(old_id)
        if old_id in self.state.drafts:
            self.state.drafts[new_id] = self.state.drafts.pop(old_id)
        self.last_requests.pop(old_id, None)

    # -- nothing lost: what could not be written ----------------------------------------------

    def _mark_unsaved(self, conversation: Conversation, reason: str) -> None:
        first = conversation.id not in self.unsaved
        self.unsaved[conversation.id] = conversation
        self._unsaved_reason = reason
        if first:
            self.say(
                f"Could not save “{conversation.title}” ({reason}). It is kept here, marked "
                "UNSAVED in the title bar, and saved again by itself as soon as writing works.",
                severity="error",
                timeout=15,
            )
        self._show_unsaved()

    def _mark_saved(self, old_id: str, conversation: Conversation) -> None:
        if self.unsaved.pop(old_id, None) is not None:
            self.unsaved.pop(conversation.id, None)
            self._show_unsaved()

    def _save_state(self) -> bool:
        """Write state.toml (drafts, history, theme...); if it cannot be, keep it in memory,
        retried by itself like an unsaved conversation."""
        try:
            self.state.save(self.settings.paths.state_file)
        except OSError as error:
            if self._state_unsaved is None:
                log.debug("could not save state: %s", error)
            self._state_unsaved = _reason(error)
            self._show_unsaved()
            return False
        if self._state_unsaved is not None:
            self._state_unsaved = None
            self._show_unsaved()
        return True

    def _show_unsaved(self) -> None:
        waiting = bool(self.unsaved) or self._state_unsaved is not None
        try:
            self.query_one(TitleBar).set_class(waiting, "-unsaved")
        except NoMatches:
            pass
        if waiting and self._retry_timer is None and not self._shut:
            self._retry_timer = self.set_interval(RETRY_SECONDS, self._retry_saves)
        elif not waiting and self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None

    def _retry_saves(self) -> None:
        """Every few seconds while something is unsaved: try again; say when it worked."""
        saved = []
        for conversation in list(self.unsaved.values()):
            original = conversation.id
            try:
                self.store.save(conversation)
            except (OSError, StoreError) as error:
                self._unsaved_reason = _reason(error)
                continue
            self.unsaved.pop(original, None)
            self._clear_checkpoint(conversation.id)
            self._refresh_entry(conversation)
            saved.append(conversation.title)
        if self._state_unsaved is not None:
            self._save_state()
        self._show_unsaved()
        if saved:
            titles = ", ".join(f"“{title}”" for title in saved)
            self.say(f"Writing works again: {titles} saved.")

    def _clear_checkpoint(self, conversation_id: str) -> None:
        """Remove a finished reply's checkpoint; a folder gone read-only leaves it, which is
        harmless: the saved conversation already holds the reply, so loading drops it."""
        try:
            self.store.clear_checkpoint(conversation_id)
        except OSError as error:
            log.debug("could not remove a checkpoint: %s", error)

    def unsaved_documents(self) -> dict[str, str]:
        """What could not be written, as files to write elsewhere: each unsaved conversation
        as its session file, and the drafts and history when state.toml could not be."""
        documents = {f"{c.id}.toml": dumps(c) for c in self.unsaved.values()}
        if self._state_unsaved is not None:
            kept = {k: v for k, v in self.state.drafts.items() if v.strip()}
            documents["drafts.toml"] = tomli_w.dumps(
                {"drafts": kept, "history": self.state.history}
            )
        return documents

    def write_unsaved(self, folder: Path) -> list[Path]:
        """Write what could not be saved into `folder` (made 0700; files 0600)."""
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        written = []
        for name, text in self.unsaved_documents().items():
            write_atomic(folder / name, text)
            written.append(folder / name)
        return written

    async def _start_reply(
        self,
        conversation: Conversation,
        previous: Message | None = None,
        continuing: Message | None = None,
    ) -> None:
        """Send the conversation's turns and stream the reply into a new assistant message,
        or, `continuing` a reply cut at max tokens, onto the end of that one."""
        view = self.query_one(MessageView)
        sending = [m for m in conversation.messages if m.status != "streaming"]
        try:
            prepared = self._prepare(
                sending, conversation.params, continuing=continuing is not None
            )
        except ParamError as error:
            if continuing is not None:
                self.say(f"Cannot continue this reply: {error}.", severity="warning")
                return
            failed = Message(
                role="assistant",
                content="",
                status="error",
                error={"kind": "validation", "message": f"Not sent: {error}."},
                params={"model": conversation.params.model},
            )
            conversation.add(failed)
            self._save(conversation)
            if conversation is self.conversation:
                await view.add_turn(failed)
            return
        self.last_requests[conversation.id] = prepared
        if continuing is not None:
            message = continuing
            message.content = message.content.rstrip()  # as sent: the model goes on from here
            message.status = "streaming"
        else:
            message = self._new_reply(prepared)
            conversation.messages.append(message)
        for note in prepared.notes:
            self.say(note)
        stream = ActiveStream(conversation, message, next(self._request_ids), prepared, previous)
        stream.base_usage = dict(message.usage) if continuing is not None else {}
        self.streams[conversation.id] = stream
        if conversation is self.conversation:
            if continuing is not None:
                await view.restream(message)
            else:
                await view.add_turn(message, streaming=True)
            self.refresh_bindings()
        self._refresh_entry(conversation)
        stream.worker = self.run_worker(
            lambda: self._stream_worker(stream),
            thread=True,
            exit_on_error=False,
            group="streams",
            name=f"stream-{conversation.id}-{stream.request_id}",
        )

    def _prepare(self, messages: list[Message], params: Any, continuing: bool = False) -> Prepared:
        """The request for `params.model`, leaving out what Bedrock refused for it before."""
        refused = self.learned.for_model(params.model)
        return prepare(messages, params, refused=refused, continuing=continuing)

    @staticmethod
    def _new_reply(prepared: Prepared) -> Message:
        return Message(
            role="assistant",
            content="",
            status="streaming",
            params=prepared.sent,
            omitted=list(prepared.omitted),
            omitted_reasons=dict(prepared.reasons),
        )

    def _learn_from(self, model_id: str, error: BedrockError) -> None:
        """A refusal teaches the model's rules: remember them, and mark the sidebar."""
        if error.kind != "refused" or not error.refused:
            return
        self.learned.learn(model_id, error.refused, error.detail)
        if self.conversation.params.model == model_id:
            try:
                self.query_one(ParamSidebar).set_refused(self.learned.for_model(model_id))
            except NoMatches:
                pass

    def _stream_worker(self, stream: ActiveStream) -> None:
        """Runs in a thread: drain the engine's events, coalesce, checkpoint, post."""
        worker = get_current_worker()
        conversation_id = stream.conversation.id
        request_id = stream.request_id
        try:
            handle = self.engine().start(stream.prepared)
        except Exception as error:
            self.post_message(StreamEnded(conversation_id, request_id, error=from_exception(error)))
            return
        stream.handle = handle
        pending: list[str] = []
        received: list[str] = []
        # The thinking as it arrives, kept here too so a checkpoint can hold it.
        thinking = Message(role="assistant", content="")
        thinking_pending: list[str] = []
        last_post = last_checkpoint = time.monotonic()
        for batch in handle.batches(wait=COALESCE_SECONDS):
            if worker.is_cancelled or stream.cancelled:
                handle.cancel()
                return
            ended: StreamEnded | None = None
            for event in batch:
                if isinstance(event, TextDelta):
                    pending.append(event.text)
                    received.append(event.text)
                elif isinstance(event, ThinkingDelta):
                    thinking_pending.append(event.text)
                    thinking.add_thinking(event.text)
                elif isinstance(event, ThinkingSignature | RedactedThinking):
                    self._post_thinking(stream, thinking_pending)
                    signature = event.signature if isinstance(event, ThinkingSignature) else ""
                    redacted = event.data if isinstance(event, RedactedThinking) else ""
                    thinking.add_thinking(signature=signature, redacted=redacted)
                    self.post_message(
                        StreamThinking(
                            conversation_id,
                            request_id,
                            signature=signature,
                            redacted=redacted,
                        )
                    )
                elif isinstance(event, Stop):
                    ended = StreamEnded(conversation_id, request_id, stop=event)
                elif isinstance(event, Failure):
                    ended = StreamEnded(conversation_id, request_id, error=event.error)
            now = time.monotonic()
            due = ended is not None or now - last_post >= COALESCE_SECONDS
            if (pending or thinking_pending) and due:
                self._post_thinking(stream, thinking_pending)
                if pending:
                    self.post_message(StreamText(conversation_id, request_id, "".join(pending)))
                    pending.clear()
                last_post = now
            if ended is not None:
                self.post_message(ended)
                return
            if (
                stream.column is None
                and (received or thinking.thinking)
                and now - last_checkpoint >= CHECKPOINT_SECONDS
            ):
                last_checkpoint = now
                self._checkpoint(stream, stream.base_text + "".join(received), thinking.thinking)

    def _post_thinking(self, stream: ActiveStream, pending: list[str]) -> None:
        """Post the thinking text coalesced so far (from the worker thread)."""
        if pending:
            self.post_message(
                StreamThinking(stream.conversation.id, stream.request_id, "".join(pending))
            )
            pending.clear()

    def _checkpoint(
        self, stream: ActiveStream, text: str, thinking: list[dict[str, str]] | None = None
    ) -> None:
        partial = Message(
            role="assistant",
            content=text,
            created=stream.message.created,
            status="streaming",
            params=dict(stream.message.params),
            omitted=list(stream.message.omitted),
            omitted_reasons=dict(stream.message.omitted_reasons),
            thinking=[dict(block) for block in thinking or stream.message.thinking],
        )
        try:
            self.store.checkpoint(stream.conversation.id, partial)
        except OSError as error:
            log.debug("checkpoint failed: %s", error)

    def _current_stream(self, conversation_id: str, request_id: int) -> ActiveStream | None:
        stream = self.streams.get(conversation_id)
        if stream is None or stream.request_id != request_id:
            stream = self.compare_streams.get(request_id)
        if stream is None or stream.request_id != request_id or stream.cancelled:
            return None
        return stream

    def on_stream_text(self, event: StreamText) -> None:
        stream = self._current_stream(event.conversation_id, event.request_id)
        if stream is None:
            return  # from a cancelled or replaced request
        stream.message.content += event.text
        if stream.column is not None:
            if self.compare_screen is not None:
                self.compare_screen.append(stream.column, event.text)
            return
        view = self.query_one(MessageView)
        turn = view.streaming_turn
        if stream.conversation is self.conversation and turn and turn.message is stream.message:
            turn.append(event.text)

    def on_stream_thinking(self, event: StreamThinking) -> None:
        stream = self._current_stream(event.conversation_id, event.request_id)
        if stream is None:
            return
        stream.message.add_thinking(event.text, event.signature, event.redacted)
        if stream.column is not None:
            if self.compare_screen is not None:
                self.compare_screen.thinking(stream.column)
            return
        turn = self.query_one(MessageView).streaming_turn
        if stream.conversation is self.conversation and turn and turn.message is stream.message:
            turn.append_thinking()

    def on_stream_ended(self, event: StreamEnded) -> None:
        stream = self._current_stream(event.conversation_id, event.request_id)
        if stream is None:
            return
        message = stream.message
        if event.stop is not None:
            message.status = "complete"
            message.stop_reason = event.stop.reason
            message.stop_sequence = event.stop.stop_sequence
            usage = event.stop.usage.as_dict()
            for key in ("output_tokens", "latency_ms"):
                usage[key] = usage.get(key, 0) + stream.base_usage.get(key, 0)
            if "first_token_ms" in stream.base_usage:
                usage["first_token_ms"] = stream.base_usage["first_token_ms"]
            message.usage = usage
        else:
            error = event.error or BedrockError("unknown")
            message.status = "error"
            message.error = error.as_dict()
            elapsed = round((time.monotonic() - stream.started) * 1000)
            message.usage = {"latency_ms": elapsed} if message.content else {}
            self._learn_from(stream.prepared.model_id, error)
        if stream.column is not None:
            self.compare_streams.pop(stream.request_id, None)
            if self.compare_screen is not None:
                self.compare_screen.finish(stream.column)
            return
        self._finish(stream)

    def _finish(self, stream: ActiveStream) -> None:
        """The reply ended (any way): keep what arrived, save, show how it ended."""
        conversation = stream.conversation
        self.streams.pop(conversation.id, None)
        message = stream.message
        if stream.previous is not None:
            # Regenerated: earlier replies are kept as alternatives of this turn (a failed
            # empty one is simply replaced).
            combined = stream.previous.with_new_reply(message)
            message.alternatives, message.extra = combined.alternatives, combined.extra
        conversation.touch()
        if self._save(conversation) is not None:
            # Kept otherwise: the reply lives in memory (UNSAVED) and on disk in the checkpoint.
            self._clear_checkpoint(conversation.id)
        try:
            self.refresh_bindings()
            view = self.query_one(MessageView)
        except (NoMatches, ScreenStackError):  # the app is closing: the reply is saved
            return
        turn = view.streaming_turn
        if conversation is self.conversation and turn is not None and turn.message is message:
            turn.finish()
            view.streaming_turn = None
        if conversation is self.conversation:
            self._update_usage()
            self._context_base = None
            self._update_context()
        if message.status == "error" and conversation is not self.conversation:
            self.say(f"A reply in “{conversation.title}” failed.", severity="warning")

    def _cancel(self, stream: ActiveStream, status: str) -> None:
        stream.cancelled = True
        if stream.handle is not None:
            stream.handle.cancel()
        if stream.worker is not None:
            stream.worker.cancel()
        stream.message.status = status
        self._finish(stream)

    async def action_continue(self) -> None:
        """Ask the model to go on with a reply that stopped at max tokens; the continuation
        is appended to the same reply."""
        conversation = self.conversation
        if conversation.id in self.streams:
            self.say("A reply is still streaming.")
            return
        last = conversation.messages[-1] if conversation.messages else None
        if last is None or last.role != "assistant" or last.stop_reason != "max_tokens":
            self.say("Only a reply that stopped at max tokens can be continued.")
            return
        await self._start_reply(conversation, continuing=last)

    # -- actions -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "continue":
            last = self.conversation.messages[-1] if self.conversation.messages else None
            return bool(last and last.stop_reason == "max_tokens" and last.status == "complete")
        return True

    def _set_model(self, model_id: str) -> None:
        """Switch the open conversation to another model at once, keeping what still applies
        (as a switch in the sidebar does) and saying what was dropped."""
        conversation = self.conversation
        changes, notes = model_change_notes(conversation.params, model_id)
        conversation.params = conversation.params.with_changes(model=model_id, **changes)
        sidebar = self.query_one(ParamSidebar)
        sidebar.show(conversation.params)
        sidebar.set_refused(self.learned.for_model(model_id))
        for note in notes:
            self.say(note)
        self._update_status()
        self._schedule_param_save()

    def action_toggle_thinking(self) -> None:
        """Show or hide the thinking of the focused reply, or of the last one."""
        focused = self.focused
        turns = list(self.query(AssistantTurn))
        turn = focused if isinstance(focused, AssistantTurn) else None
        if turn is None:
            turn = next((t for t in reversed(turns) if t.message.thinking), None)
        if turn is None or not turn.message.thinking:
            self.say("No thinking to show: this reply's model did not think before answering.")
            return
        turn.thinking.toggle()
        if turn.thinking.expanded:
            self.call_after_refresh(turn.thinking.scroll_visible, top=True, animate=False)

    async def _on_key(self, event: events.Key) -> None:
        """A printable key that nothing where the focus is binds (a focused message, the
        list) goes to the prompt, typed, instead of nowhere. (This replaces App._on_key, which
        prevent_default keeps from running as well.)"""
        event.prevent_default()
        if await self._check_bindings(event.key):
            return
        focused = self.focused
        typing_elsewhere = focused is None or isinstance(focused, Input | TextArea)
        if (
            typed_text(event.key, event.character) is not None
            and not typing_elsewhere
            and self.screen is self.screen_stack[0]
        ):
            prompt = self.query_one(PromptInput)
            prompt.focus()
            prompt.insert(event.character)
            event.stop()
            return
        await dispatch_key(self, event)

    def action_edit_prompt(self) -> None:
        """Edit the focused earlier prompt: it goes into the prompt box, and Enter sends it in
        a copy of the conversation up to that turn (the original stays as it is)."""
        message = self._focused_message()
        conversation = self.conversation
        if message is None or message.role != "user":
            self.say("Focus one of your prompts first (shift+Tab, then Up/Down).")
            return
        if conversation.id in self.streams:
            self.say("A reply is still streaming: Escape cancels it first.")
            return
        self._editing = (conversation, conversation.messages.index(message))
        prompt = self.query_one(PromptInput)
        prompt.load_text(message.content)
        prompt.move_cursor(prompt.document.end)
        prompt.focus()
        self.say(
            "Editing an earlier prompt: Enter sends it in a copy of this conversation up to "
            "that turn (this one stays as it is); Escape leaves it."
        )

    async def _fork_for_edit(self) -> None:
        original, index = self._editing  # type: ignore[misc]
        fork = Conversation.new(original.params)
        fork.messages = [copy.deepcopy(m) for m in original.messages[:index]]
        fork.title = f"{original.title} (edited)"
        fork.title_custom = True
        fork.params_extra = dict(original.params_extra)
        await self._show(fork)
        self.say(f"Sent in a copy, “{fork.title}”; the original is kept unchanged.")

    def action_delete_message(self) -> None:
        """Delete the focused message, after asking (its alternatives go with it)."""
        message = self._focused_message()
        conversation = self.conversation
        if message is None:
            self.say("Focus a message first (shift+Tab, then Up/Down).")
            return
        if conversation.id in self.streams:
            self.say("A reply is still streaming: Escape cancels it first.")
            return

        async def done(confirmed: bool | None) -> None:
            if not confirmed or message not in conversation.messages:
                return
            conversation.messages.remove(message)
            conversation.touch()
            if self._save(conversation) is not None:
                await self._show(conversation)
                self.say("Message deleted.")

        who = "your prompt" if message.role == "user" else "this reply"
        extra = f" and its {len(message.alternatives)} alternatives" if message.alternatives else ""
        self.push_screen(
            Confirm(f"Delete {who}{extra}? This cannot be undone.", yes="Delete"), done
        )

    def action_forget_rules(self) -> None:
        model = self.conversation.params.model
        if self.learned.forget(model):
            self.query_one(ParamSidebar).set_refused({})
            self.say(f"Forgot what Bedrock refused for {catalog.display_name(model)}.")
        else:
            self.say("Nothing learned for this model.")

    def action_escape(self) -> None:
        stream = self.streams.get(self.conversation.id)
        if stream is not None:
            self._cancel(stream, "cancelled")
            return
        if self._editing is not None:
            self._editing = None
            self.query_one(PromptInput).load_text(
                self.state.drafts.get(self._draft_key(self.conversation), "")
            )
            self.say("Left the edit; the earlier prompt is unchanged.")
            return
        pane = self.query_one(ConversationPane)
        if pane.has_class("-filtering"):
            self._close_filter()
            return
        if self._close_drawer():
            return
        if isinstance(self.screen, Screen) and self.focused is not self.query_one("#prompt"):
            self.query_one("#prompt").focus()

    async def action_new_conversation(self) -> None:
        if not self.store.exists(self.conversation.id) and not self.conversation.messages:
            self.query_one("#prompt").focus()
            return
        # A new conversation starts from the open one's parameters (F5 resets them), but not
        # from a saved model id that could not be typed (spaces, control characters).
        params = self.conversation.params
        if catalog.model_id_problem(params.model) is not None:
            params = params.with_changes(model=self.settings.defaults.model)
        await self._show_new(params)
        self.query_one("#prompt").focus()

    async def action_retry(self) -> None:
        conversation = self.conversation
        if conversation.id in self.streams:
            self.say("A reply is still streaming: Escape cancels it first.")
            return
        if not any(m.role == "user" for m in conversation.messages):
            self.say("Nothing to retry yet: send a message first.")
            return
        last = conversation.messages[-1]
        replacement = last.error.get("replacement") if last.status == "error" else None
        if last.error.get("kind") == "end_of_life" and replacement:
            # The model was retired: move the conversation to the current one and resend.
            self._set_model(replacement)
            self.say(f"This conversation now uses {catalog.display_name(replacement)}.")
        problems = self.query_one(ParamSidebar).problems()
        if problems:
            self.say("Fix the marked parameter first: " + "; ".join(problems), severity="warning")
            return
        previous = None
        view = self.query_one(MessageView)
        if conversation.messages and conversation.messages[-1].role == "assistant":
            previous = conversation.messages.pop()
            for turn in list(view.query(AssistantTurn))[-1:]:
                await turn.remove()
        await self._start_reply(conversation, previous)

    def _arrange_panes(self, width: int | None = None) -> Arrangement:
        """Show the panes the rule fits beside the messages (ui/layout.py), at their widths."""
        width = self.size.width if width is None else width
        arrangement = arrange(width, self._wanted, self._pane_order, self._drawer)
        self._drawer = arrangement.drawer
        for pane, selector in ((LIST, "#list-pane"), (SIDEBAR, "#sidebar")):
            widget = self.query_one(selector)
            drawer = arrangement.drawer == pane
            pane_width = drawer_width(pane, width) if drawer else arrangement.width(pane)
            if widget.display != arrangement.shown(pane):
                widget.display = arrangement.shown(pane)
            widget.set_class(drawer, "-drawer")
            if pane_width:
                widget.styles.width = pane_width
        return arrangement

    def on_resize(self, event: events.Resize) -> None:
        try:
            self._arrange_panes(event.size.width)  # self.size is still the old one here
        except NoMatches:
            pass  # not composed yet

    def _toggle_pane(self, pane: str) -> bool:
        """Show or hide a side pane; True when it is now shown. Shown, it comes first: the
        other gives way to it, and where it cannot fit beside the messages it opens as a
        drawer over them."""
        shown = self._arrange_panes().shown(pane)
        self._wanted[pane] = not shown
        self._pane_order = [pane, *(p for p in self._pane_order if p != pane)]
        self._drawer = pane if not shown else None
        if pane == SIDEBAR:
            self.state.sidebar = self._wanted[pane]
        else:
            self.state.conversation_list = self._wanted[pane]
        return self._arrange_panes().shown(pane)

    def _close_drawer(self) -> bool:
        if self._drawer is None:
            return False
        pane = self._drawer
        self._wanted[pane] = False
        self._drawer = None
        self._arrange_panes()
        self.query_one("#prompt").focus()
        return True

    def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one("#sidebar")
        if self._toggle_pane(SIDEBAR):
            fields = ("#temperature", "#effort", "#max_tokens_to_sample")
            first = next(f for f in fields if self.query_one(f).focusable or f == fields[-1])
            self.query_one(first).focus()
        elif self.focused is None or sidebar in self.focused.ancestors_with_self:
            self.query_one("#prompt").focus()

    def action_toggle_list(self) -> None:
        pane = self.query_one("#list-pane")
        if self._toggle_pane(LIST):
            self.query_one(ConversationList).focus()
        elif self.focused is None or pane in self.focused.ancestors_with_self:
            self.query_one("#prompt").focus()

    def action_filter(self) -> None:
        pane = self.query_one(ConversationPane)
        if not self._arrange_panes().shown(LIST):
            self._toggle_pane(LIST)
        pane.add_class("-filtering")
        self.query_one("#filter", Input).focus()

    def _close_filter(self) -> None:
        pane = self.query_one(ConversationPane)
        pane.remove_class("-filtering")
        box = self.query_one("#filter", Input)
        box.value = ""
        self.query_one("#prompt").focus()

    @on(Input.Changed, "#filter")
    def _on_filter(self, event: Input.Changed) -> None:
        """Titles match at once; matches inside messages follow from a background search."""
        listing = self.query_one(ConversationList)
        listing.filter_text = event.value
        listing.filter_ids = None
        listing.rebuild()
        if event.value.strip():
            self._search_content(event.value)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search_content(self, text: str) -> None:
        time.sleep(0.12)  # typing on within this time replaces this search
        if get_current_worker().is_cancelled:
            return
        matches = set(self.store.search(text))
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._show_matches, text, matches)

    def _show_matches(self, text: str, matches: set[str]) -> None:
        listing = self.query_one(ConversationList)
        if listing.filter_text == text and listing.filter_ids != matches:
            listing.filter_ids = matches
            listing.rebuild()

    @on(Input.Submitted, "#filter")
    def _on_filter_submitted(self, event: Input.Submitted) -> None:
        """Enter in the filter opens the first match (and the list keeps its cursor there)."""
        listing = self.query_one(ConversationList)
        listing.focus()
        if not listing.open_first():
            self.say("No conversation matches the filter.")

    # -- compare mode --------------------------------------------------------------------------

    def action_compare(self) -> None:
        """One prompt to two or three configurations at once, side by side."""
        if self.conversation.id in self.streams:
            self.say("A reply is still streaming: Escape cancels it first.")
            return
        problems = self.query_one(ParamSidebar).problems()
        if problems:
            self.say("Fix the marked parameter first: " + "; ".join(problems), severity="warning")
            return
        prompt = self.query_one(PromptInput).text
        view = self.query_one(MessageView)
        self.compare_screen = CompareScreen(self.conversation.params, prompt, view.code_style)
        self.push_screen(self.compare_screen)

    @on(CompareScreen.SendRequested)
    async def _compare_send(self, event: CompareScreen.SendRequested) -> None:
        screen = self.compare_screen
        conversation = self.conversation
        if screen is None:
            return
        user = Message(role="user", content=event.prompt)
        sending = [*(m for m in conversation.messages if m.status != "streaming"), user]
        try:
            prepared = [self._prepare(sending, params) for params in event.configs]
        except ParamError as error:
            screen.query_one("#problem", Static).update(Text(f"Not sent: {error}"))
            return
        conversation.add(user)
        self._save(conversation)  # if it cannot be, it is kept (UNSAVED) and retried
        self.loaded[conversation.id] = conversation
        self.state.remember_prompt(event.prompt)
        prompt = self.query_one(PromptInput)
        if prompt.text == event.prompt:
            prompt.clear()
        replies = [self._new_reply(p) for p in prepared]
        await screen.start(replies)
        for column, (request, reply) in enumerate(zip(prepared, replies, strict=True)):
            stream = ActiveStream(conversation, reply, next(self._request_ids), request)
            stream.column = column
            self.compare_streams[stream.request_id] = stream
            stream.worker = self.run_worker(
                lambda stream=stream: self._stream_worker(stream),
                thread=True,
                exit_on_error=False,
                group="streams",
            )
        self.last_requests[conversation.id] = prepared[0]

    @on(CompareScreen.Keep)
    async def _compare_keep(self, event: CompareScreen.Keep) -> None:
        await self._end_compare(event.index, "cancelled")

    @on(CompareScreen.Leave)
    async def _compare_leave(self) -> None:
        screen = self.compare_screen
        if screen is None or not screen.sent:
            await self._end_compare(None, "cancelled")
            return
        with_text = [n for n, c in enumerate(screen.columns) if c.message.content]
        await self._end_compare(with_text[0] if with_text else None, "cancelled")

    async def _end_compare(self, index: int | None, status: str) -> None:
        """Keep reply `index` as the conversation's reply, the others as its alternatives
        (replies still streaming are stopped, keeping what arrived), and leave the screen."""
        screen, self.compare_screen = self.compare_screen, None
        for stream in list(self.compare_streams.values()):
            stream.cancelled = True
            if stream.handle is not None:
                stream.handle.cancel()
            if stream.worker is not None:
                stream.worker.cancel()
            stream.message.status = status
        self.compare_streams.clear()
        if screen is None:
            return
        replies = [column.message for column in screen.columns]
        if index is not None and replies:
            kept = self.conversation.keep_compared(replies, index)
            others = len(replies) - 1
            self._save(self.conversation)
            self.say(
                f"Kept reply {'ABC'[index]}"
                + (f"; {len(kept.alternatives)} more kept as its alternatives." if others else ".")
            )
        if self.screen is screen:
            self.pop_screen()
        await self._show(self.conversation)
        self._update_usage()

    def _target_reply(self) -> Message | None:
        focused = self._focused_message()
        if focused is not None and focused.role == "assistant":
            return focused
        return self.conversation.last_assistant()

    async def action_flip(self, delta: int) -> None:
        """Show the previous or next alternative reply of the focused (or last) reply; the
        one shown is what the conversation continues from."""
        conversation = self.conversation
        message = self._target_reply()
        if message is None or not message.alternatives:
            self.say("This reply has no alternatives: ctrl+r regenerates it.")
            return
        if conversation.id in self.streams:
            self.say("Wait for the reply to finish (or Escape) before flipping.")
            return
        index = conversation.messages.index(message)
        chosen = message.choose(message.chosen_index() + delta)
        conversation.messages[index] = chosen
        self._save(conversation)
        view = self.query_one(MessageView)
        turn = await view.replace_message(message, chosen)
        if turn is not None:
            turn.focus()

    def action_rename(self) -> None:
        conversation = self.conversation
        if not self.store.exists(conversation.id):
            self.say("Send a message first: a new conversation is named after it.")
            return

        def done(title: str | None) -> None:
            if title is None:
                return
            conversation.rename(title)
            if self._save(conversation) and conversation is self.conversation:
                self.query_one(TitleBar).set_title(conversation.title)

        self.push_screen(
            AskText(
                "Rename this conversation (empty: name it after its first message)",
                conversation.title,
            ),
            done,
        )

    def action_delete(self) -> None:
        conversation = self.conversation
        if not self.store.exists(conversation.id):
            self.say("This conversation is not saved yet; there is nothing to delete.")
            return

        async def done(confirmed: bool | None) -> None:
            if not confirmed:
                return
            stream = self.streams.get(conversation.id)
            if stream is not None:
                self._cancel(stream, "cancelled")
            try:
                self.store.delete(conversation.id)
            except OSError as error:
                self.say(f"Could not delete: {error}", severity="error")
                return
            self.loaded.pop(conversation.id, None)
            self.state.drafts.pop(conversation.id, None)
            listing = self.query_one(ConversationList)
            listing.remove_entry(conversation.id)
            self.say(f"Deleted “{conversation.title}”.")
            if conversation is self.conversation:
                following = self._initial_conversation_id(reopen=False)
                if following:
                    await self.open_conversation(following)
                else:
                    await self._show_new()

        self.push_screen(
            Confirm(
                f"Delete “{conversation.title}” ({len(conversation.messages)} messages)? "
                "Its file is removed; this cannot be undone.",
                yes="Delete",
            ),
            done,
        )

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        """Quit, saving everything; what cannot be written is offered to be written
        elsewhere (a folder you name, or stdout once the terminal is restored)."""
        self._shut_down()
        documents = self.unsaved_documents()
        if not documents:
            self.exit()
            return

        def answered(choice: tuple[str, str] | None) -> None:
            if choice is None:
                self._shut = False  # back to the app: quitting saves again next time
                return
            how, where = choice
            if how == "folder":
                try:
                    written = self.write_unsaved(Path(where).expanduser())
                except OSError as error:
                    self.say(f"Could not write to {where}: {_reason(error)}", severity="error")
                    self._shut = False
                    return
                self.exit_notes.append(
                    f"tui-chat: wrote what could not be saved to {written[0].parent}"
                )
            elif how == "stdout":
                self.print_on_exit = "".join(
                    f"# {name}\n{text}\n" for name, text in documents.items()
                )
            self.exit()

        reason = self._unsaved_reason or self._state_unsaved or "the disk refused it"
        self.push_screen(UnsavedDialog(sorted(documents), reason, self._unsaved_folder()), answered)

    def _unsaved_folder(self) -> str:
        """Where to suggest writing what could not be saved: the temporary folder (the data
        folder is the one that failed)."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return str(Path(tempfile.gettempdir()) / f"tui-chat-unsaved-{stamp}")

    def _shut_down(self) -> None:
        """Stop every stream (keeping what arrived) and save what the app remembers. Runs on
        ctrl+q, on SIGHUP/SIGTERM or a vanished terminal, and again, harmlessly, when the app
        unmounts however it was closed."""
        if self._shut:
            return
        self._shut = True
        if self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None
        try:
            self._remember_draft(self.query_one(PromptInput).text)
        except NoMatches:
            pass  # already unmounted: the draft was kept as it was typed
        if self._param_save_timer is not None:
            self._param_save_timer.stop()  # a parameter change not saved yet: save it now
            if self.store.exists(self.conversation.id):
                self._save(self.conversation)
        for stream in list(self.streams.values()):
            self._cancel(stream, "interrupted")
        if self.compare_screen is not None and self.compare_screen.sent:
            columns = self.compare_screen.columns
            kept = next((n for n, c in enumerate(columns) if c.message.content), None)
            for stream in list(self.compare_streams.values()):
                stream.cancelled = True
                if stream.handle is not None:
                    stream.handle.cancel()
                stream.message.status = "interrupted"
            self.compare_streams.clear()
            if kept is not None:
                replies = [c.message for c in columns]
                self.conversation.keep_compared(replies, kept)
                self._save(self.conversation)
        for conversation in list(self.unsaved.values()):
            self._save(conversation)  # one last try
        self.state.open_conversation = self.conversation.id
        self._save_state()

    def _emergency_exit(self, code: int, why: str) -> None:
        """No one to ask (a signal, the terminal gone): save everything now, write what
        cannot be saved to a folder of its own, and exit with `code` (the terminal is
        restored where there still is one)."""
        self._shut_down()
        if self.unsaved_documents():
            for folder in (
                self.settings.paths.state_file.parent / "unsaved",
                Path(tempfile.gettempdir()),
            ):
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
                try:
                    written = self.write_unsaved(folder / f"tui-chat-unsaved-{stamp}")
                except OSError:
                    continue
                self.exit_notes.append(
                    f"tui-chat: wrote what could not be saved to {written[0].parent}"
                )
                break
            else:
                self.exit_notes.append("tui-chat: some text could not be written anywhere")
        self.exit_notes.insert(0, f"tui-chat: {why}; everything was saved")
        self.exit(return_code=code)

    def on_terminal_gone(self, _message: TerminalGone) -> None:
        self.terminal_gone = True
        self._emergency_exit(128 + signal.SIGHUP, "the terminal closed")

    def _install_signal_handlers(self) -> None:
        """SIGHUP (the SSH link dropped, the terminal closed) and SIGTERM save everything and
        exit with 128 + the signal, like a shell would report them."""
        if self.is_headless:
            return  # under test harnesses the process's signals are not ours
        loop = asyncio.get_running_loop()
        for signum, why in (
            (signal.SIGHUP, "the terminal hung up"),
            (signal.SIGTERM, "terminated"),
        ):
            try:
                loop.add_signal_handler(signum, self._emergency_exit, 128 + signum, why)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread, or a platform without them

    def get_driver_class(self):
        """Textual's driver for this platform; on Linux and macOS the one that survives the
        terminal going away (ui/driver.py)."""
        driver = super().get_driver_class()
        from textual.drivers.linux_driver import LinuxDriver

        if driver is LinuxDriver:
            from tui_chat.ui.driver import SafeLinuxDriver

            return SafeLinuxDriver
        return driver

    def on_unmount(self) -> None:
        self._shut_down()
        if self._demo is not None:
            self._demo.stop()

    @on(PromptInput.Changed, "#prompt")
    def _on_prompt_changed(self, event: PromptInput.Changed) -> None:
        """Keep the draft in the state as it is typed, so any way of quitting keeps it."""
        if event.text_area.text:  # not the prompt emptied by sending it
            self.last_typed = time.monotonic()  # streaming replies repaint less while typing
        self._remember_draft(event.text_area.text)
        self._update_context(event.text_area.text)

    def _remember_draft(self, text: str) -> None:
        key = self._draft_key(self.conversation)
        if text.strip():
            self.state.drafts[key] = text
        else:
            self.state.drafts.pop(key, None)

    # -- the sidebar ---------------------------------------------------------------------------

    @on(ParamSidebar.Changed)
    def _on_param_changed(self, event: ParamSidebar.Changed) -> None:
        conversation = self.conversation
        try:
            conversation.params = conversation.params.with_changes(**{event.name: event.value})
        except ParamError as error:
            self.say(str(error), severity="warning")
            return
        if event.name == "model":
            self._update_status()
            self.query_one(ParamSidebar).set_refused(self.learned.for_model(event.value))
            self._say_lifecycle(conversation, force=True)
        self._schedule_param_save()

    @on(ParamSidebar.Adjusted)
    def _on_params_adjusted(self, event: ParamSidebar.Adjusted) -> None:
        self.say("Model switched: " + "; ".join(event.notes) + ".")

    def _say_lifecycle(self, conversation: Conversation, force: bool = False) -> None:
        """Say once per conversation (and on every switch to such a model) that its model is
        legacy or retired, with the date when known and a current replacement."""
        if conversation.id in self._lifecycle_said and not force:
            return
        info = catalog.lookup(conversation.params.model)
        entry = None
        if self.models is not None:
            entry = next((m for m in self.models if m.model_id == conversation.params.model), None)
        line = lifecycle_line(info, entry)
        if not line:
            return
        self._lifecycle_said.add(conversation.id)
        self.say(f"{info.name if info.known else 'This model'}: {line}.", severity="warning")

    def action_reset_params(self) -> None:
        self._on_reset()

    @on(ParamSidebar.ResetRequested)
    def _on_reset(self) -> None:
        self.conversation.params = self.settings.defaults
        self.query_one(ParamSidebar).show(self.settings.defaults)
        self._update_status()
        self._schedule_param_save()
        self.say("Parameters reset to the defaults.")

    def _schedule_param_save(self) -> None:
        if self._param_save_timer is not None:
            self._param_save_timer.stop()
        conversation = self.conversation
        if self.store.exists(conversation.id):
            # Not if it was deleted meanwhile: saving would bring it back.
            self._param_save_timer = self.set_timer(
                0.5, lambda: self.store.exists(conversation.id) and self._save(conversation)
            )

    # -- command palette -----------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "New conversation", "Start a new conversation (ctrl+n)", self.action_new_conversation
        )
        yield SystemCommand(
            "Retry / regenerate", "Send the last turn again (ctrl+r)", self.action_retry
        )
        if self.conversation.id in self.streams:
            yield SystemCommand(
                "Cancel reply", "Stop the streaming reply (Escape)", self.action_escape
            )
        yield SystemCommand(
            "Toggle parameter sidebar", "Show or hide it (ctrl+o)", self.action_toggle_sidebar
        )
        yield SystemCommand(
            "Toggle conversation list", "Show or hide it (ctrl+l)", self.action_toggle_list
        )
        yield SystemCommand(
            "Filter conversations", "Type to filter the list (ctrl+f)", self.action_filter
        )
        yield SystemCommand(
            "Copy last reply", "To the clipboard via OSC 52 (ctrl+y)", self.action_copy_reply
        )
        yield SystemCommand("Help", "Every key (F1)", self.action_help)
        yield SystemCommand(
            "Rename conversation", "Give this conversation a title", self.action_rename
        )
        yield SystemCommand(
            "Delete conversation", "Remove this conversation's file", self.action_delete
        )
        yield SystemCommand(
            "Compare configurations",
            "One prompt, two or three settings side by side (F3)",
            self.action_compare,
        )
        yield SystemCommand(
            "Choose model",
            "From your account's models (or the catalog offline)",
            self.action_choose_model,
        )
        yield SystemCommand(
            "Save sidebar as preset", "Name the current parameters", self.action_save_preset
        )
        for name in sorted(presets.all_presets(self.settings, self.state)):
            yield SystemCommand(
                f"Apply preset: {name}",
                "Set the sidebar to this preset",
                lambda name=name: self.apply_preset(name),
            )
        if self.check_action("continue", ()):
            yield SystemCommand(
                "Continue the reply", "Go on after max tokens (ctrl+t)", self.action_continue
            )
        yield SystemCommand(
            "Show request", "The exact JSON body and boto3 code", self.action_show_request
        )
        yield SystemCommand(
            "Previous alternative reply",
            "alt+left, or [ on a focused reply",
            lambda: self.run_action("flip(-1)"),
        )
        yield SystemCommand(
            "Next alternative reply",
            "alt+right, or ] on a focused reply",
            lambda: self.run_action("flip(1)"),
        )
        yield SystemCommand(
            "Copy code block", "From the focused message or the last reply", self.action_copy_code
        )
        yield SystemCommand(
            "Copy focused message",
            "Shift+Tab into the messages, then pick one",
            self.action_copy_reply,
        )
        yield SystemCommand(
            "Export conversation to Markdown", "Write it to a file you name", self.action_export
        )
        yield SystemCommand("Reset parameters", "Back to the defaults (F5)", self._on_reset)
        yield SystemCommand(
            "Show or hide thinking",
            "The thinking of the focused or last reply (ctrl+g)",
            self.action_toggle_thinking,
        )
        yield SystemCommand(
            "Copy thinking", "The thinking of the focused or last reply", self.action_copy_thinking
        )
        yield SystemCommand(
            "Edit and resend a prompt",
            "The focused prompt (e), sent in a copy of the conversation up to it",
            self.action_edit_prompt,
        )
        yield SystemCommand(
            "Delete a message",
            "The focused message (Delete), after asking",
            self.action_delete_message,
        )
        yield SystemCommand(
            "Forget rules learned from Bedrock",
            "Send again what Bedrock refused for this conversation's model",
            self.action_forget_rules,
        )


def _silence_output() -> None:
    """Point stdout and stderr at /dev/null: the terminal they wrote to is gone."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        for stream in (sys.stdout, sys.stderr):
            os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _reason(error: BaseException) -> str:
    """Why a file could not be written, in a few words ("No space left on device")."""
    if isinstance(error, StoreError):
        return error.reason
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def context_tokens(conversation: Conversation, info: catalog.ModelInfo) -> int:
    """The input tokens the conversation's history will take in the next request: the last
    reply's own counts (its input, cached or not, and its output), plus an estimate for the
    turns after it; or an estimate of everything when no reply has counts yet."""
    messages = [m for m in conversation.messages if m.status != "streaming"]
    base, after = 0, messages
    for index in range(len(messages) - 1, -1, -1):
        usage = messages[index].usage
        if messages[index].role == "assistant" and usage.get("input_tokens") is not None:
            counted = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")
            base = sum(int(usage.get(key, 0) or 0) for key in counted)
            after = messages[index + 1 :]
            break
    else:
        base = estimate_tokens(conversation.params.system, info)
    return base + sum(estimate_tokens(m.content, info) for m in after)


def _short_count(tokens: int) -> str:
    if tokens >= 1_000_000:
        return f"{tokens / 1_000_000:.3g}M"
    if tokens >= 1000:
        return f"{tokens / 1000:.1f}k".replace(".0k", "k")
    return str(tokens)


def _epoch() -> datetime:
    return datetime.fromtimestamp(0, UTC)


def run_app(settings: Settings) -> int:
    """Run the app until the user quits; the exit code for the command line: 0, or 1 when
    the app crashed (Textual printed why), or 128 + the signal that ended it."""
    app = ChatApp(settings)
    app.run(mouse=settings.mouse)
    if app.terminal_gone:
        _silence_output()  # or Python's own exit flush fails, and the status says 120
        return app.return_code or 0
    for line in app.exit_notes:
        try:
            print(line, file=sys.stderr)
        except (OSError, ValueError):
            pass  # the terminal is gone: the notes were for it
    if app.print_on_exit:
        try:
            sys.stdout.write(app.print_on_exit)
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
    return app.return_code or 0
