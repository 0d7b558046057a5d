"""ChatApp: the three panes, glued together. The app owns the open conversation and decides;
widgets post messages up and expose small methods; each part of the work is an object of its
own in ui/ (`streams`, `replying`, `keeping`, `quitting`, `listing`, `turns`, `params`, `tools`,
`attaching`, `themes`, `panes`, `account`). Keys, the palette and the help screen come from one
table (ui/commands.py), which also names the part that runs each command. See
docs/ARCHITECTURE.md, "The app"."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import ClassVar

from textual import events, on
from textual._dispatch_key import dispatch_key
from textual.app import SystemCommand
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, TextArea

from tui_chat.bedrock import catalog
from tui_chat.bedrock.client import likely_has_credentials
from tui_chat.config import Settings, State, load_settings
from tui_chat.conversation import Conversation, Message
from tui_chat.demo import demo_defaults
from tui_chat.learned import LearnedRules
from tui_chat.reply import Engines
from tui_chat.store import Problem, SaveResult, SessionStore, StoreError
from tui_chat.ui import commands
from tui_chat.ui.account import Account
from tui_chat.ui.attaching import Attaching, AttachmentChips
from tui_chat.ui.drawing import Drawing
from tui_chat.ui.driver import TerminalGone
from tui_chat.ui.format import context_meter, conversation_usage, usage_words
from tui_chat.ui.keeping import Keeping
from tui_chat.ui.listing import NEW_DRAFT_KEY, Listing
from tui_chat.ui.messages import CopyText, StreamEnded, StreamText, StreamThinking
from tui_chat.ui.panes import Panes
from tui_chat.ui.params_control import ParamsControl
from tui_chat.ui.quitting import Quitting
from tui_chat.ui.replying import Replying
from tui_chat.ui.run import install_signal_handlers
from tui_chat.ui.screens.compare import CompareScreen
from tui_chat.ui.screens.help import HelpScreen
from tui_chat.ui.streams import Streams
from tui_chat.ui.theming import Themes
from tui_chat.ui.tools import Tools
from tui_chat.ui.turn_actions import BUSY, TurnActions
from tui_chat.ui.widgets.conversation_list import ConversationList, ConversationPane
from tui_chat.ui.widgets.footer import ReadyFooter
from tui_chat.ui.widgets.keys import typed_text
from tui_chat.ui.widgets.message_view import AssistantTurn, MessageView, UserTurn
from tui_chat.ui.widgets.prompt import PromptInput
from tui_chat.ui.widgets.sidebar import ParamSidebar
from tui_chat.ui.widgets.title_bar import TitleBar

#: Seconds after start-up before the AWS client is made and session files are checked.
WARM_UP_DELAY = 0.3


@commands.delegate
class ChatApp(Drawing):
    """The full-screen chat client."""

    CSS_PATH = "app.tcss"
    #: Screen classes by width (app.tcss: the title bar leaves out usage below 100 columns).
    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-narrow"), (100, "-wide")]
    TITLE = "tui-chat"
    AUTO_FOCUS = "#prompt"
    BINDINGS: ClassVar = commands.bindings()

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings = settings or load_settings()
        self.state = State.load(settings.paths.state_file)
        self.demo_mode = settings.demo or not likely_has_credentials()
        if self.demo_mode:
            settings.defaults = demo_defaults(settings)  # the same as `ask --demo`
        elif self.state.default_model and not settings.model_from_config:
            # The newest Claude Sonnet the account listed at the first start.
            settings.defaults = settings.defaults.with_changes(model=self.state.default_model)
        #: Rules learned from Bedrock's refusals, per model (kept in the cache folder).
        self.learned = LearnedRules.in_folder(settings.paths.cache_dir)
        self.store = SessionStore(
            settings.paths.sessions_dir,
            cache_dir=settings.paths.cache_dir,
            defaults=settings.defaults,
        )
        self.conversation = Conversation.new(settings.defaults)
        self.loaded: dict[str, Conversation] = {}  # opened or streaming, by id
        self.keeping = Keeping(
            self.store,
            self.state,
            settings.paths.state_file,
            self.say,
            self._show_unsaved,
            self.set_interval,
        )
        self.keeping.on_saved = self._saved
        self.engines = Engines(settings, demo=self.demo_mode)
        self.streams = Streams(self, self.engines, self.keeping)
        self.replying = Replying(self)
        self.quitting = Quitting(self)
        self.listing = Listing(self)
        self.turns = TurnActions(self)
        self.params = ParamsControl(self)
        self.themes = Themes(self, self.say)
        self.panes = Panes(self, self.state)
        self.account = Account(self)
        self.tools = Tools(self)
        self.attaching = Attaching(self)
        self.compare_screen: CompareScreen | None = None
        self.last_typed = 0.0  # streaming replies repaint less while the user types
        self._reshow_merged = True
        self._context_base: int | None = None  # the context meter's tokens before the draft

    def compose(self):
        yield TitleBar(id="titlebar")
        with Horizontal(id="body"):
            yield ConversationPane(self.store.search, id="list-pane")
            with Vertical(id="main"):
                yield MessageView(id="messages")
                yield AttachmentChips(id="chips")
                yield PromptInput(id="prompt", prompt_history=self.state.history)
            yield ParamSidebar(self.conversation.params, catalog.suggestions(None), id="sidebar")
        yield ReadyFooter()

    def validate_theme(self, name: str) -> str:
        return self.themes.usable(name, self.__dict__.get("_reactive_theme"))

    def watch_theme(self, theme: str) -> None:
        if self.themes.chosen(theme) and theme != self.state.theme:
            self.state.theme = theme  # the last choice is remembered
            self.keeping.save_state()
        # The theme's variables are only updated after this watcher: look at them then.
        self.call_after_refresh(self.themes.refresh_code_style)

    async def on_mount(self) -> None:
        self.query_one(MessageView).code_style = self.themes.code_style()
        settings = self.settings
        cli_theme = [settings.theme] if settings.theme_from_cli else []
        self.themes.register(
            settings.paths.user_themes_dir, [*cli_theme, self.state.theme, settings.theme]
        )
        self.panes.arrange()
        if not self.is_headless:  # under test harnesses the process's signals are not ours
            install_signal_handlers(self.quitting.emergency_exit)
        self.query_one(TitleBar).set_class(self.demo_mode, "-demo")
        self.update_status()
        for problem in settings.problems + self.state.problems:
            self.say(problem, severity="warning", timeout=10)
        self.listing.load()
        await self.open_first()
        today = datetime.now(UTC).date().isoformat()
        if self.demo_mode and not settings.demo and self.state.demo_notice != today:
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
        self.account.start()
        self.run_worker(self.listing.verify, thread=True, exit_on_error=False, group="verify")

    def say(
        self, message: str, *, title: str = "", severity: str = "information", timeout=None
    ) -> None:
        """Notify with plain text: never parsed as markup (control characters are removed
        from every line drawn)."""
        self.notify(message, title=title, severity=severity, timeout=timeout, markup=False)  # type: ignore[arg-type]

    def update_status(self) -> None:
        endpoint = "custom endpoint" if self.account.custom_endpoint() else ""
        bar = self.query_one(TitleBar)
        bar.set_status(self.conversation.params.model, self.account.region(), endpoint)

    def update_usage(self) -> None:
        totals = conversation_usage(self.conversation.messages, self.settings.prices)
        if self.demo_mode:
            totals.cost, totals.saved = None, 0.0  # the demo costs nothing
        self.query_one(TitleBar).set_usage(usage_words(totals))

    def update_context(self, draft: str | None = None) -> None:
        """The context meter under the prompt (the tokens before the draft are counted once
        per change of the conversation, not per key)."""
        prompt = self.query_one(PromptInput)
        if draft is None:
            self._context_base = None
        meter = context_meter(self.conversation, draft or prompt.text, self._context_base)
        self._context_base = meter.base
        prompt.show_context(meter.words, meter.share)

    # -- opening conversations -----------------------------------------------------------------

    @on(ConversationList.Opened)
    async def _on_opened(self, event: ConversationList.Opened) -> None:
        if event.conversation_id != self.conversation.id:
            await self.open_conversation(event.conversation_id)
        self.query_one("#prompt").focus()

    @on(ConversationList.DeleteRequested)
    async def _on_delete_requested(self, event: ConversationList.DeleteRequested) -> None:
        other = event.conversation_id != self.conversation.id
        if not other or await self.open_conversation(event.conversation_id):
            self.turns.delete()

    async def open_first(self, reopen: bool = True) -> None:
        """Open the conversation open at quit (`reopen`), else the most recent, else a new one."""
        first = self.listing.first_id(reopen)
        if not first or not await self.open_conversation(first):
            await self.show(Conversation.new(self.settings.defaults))

    async def open_conversation(self, conversation_id: str) -> bool:
        """Show a saved conversation (the in-memory one if it is streaming or was opened)."""
        conversation = self.loaded.get(conversation_id)
        if conversation is None:
            try:
                conversation = self.store.load(conversation_id)
            except StoreError as error:
                self.listing.report([Problem(error.path, error.reason)])
                return False
            self.loaded[conversation_id] = conversation
        await self.show(conversation)
        return True

    async def show(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.attaching.shown(conversation)  # another conversation's pending files are dropped
        reply = self.streams.get(conversation.id)
        await self.query_one(MessageView).show(
            conversation.id,
            conversation.messages,
            streaming=reply.message if reply else None,
            empty_hint="Type a message below and press Enter. F1 lists every key.",
        )
        sidebar = self.query_one(ParamSidebar)
        sidebar.show(conversation.params)
        sidebar.set_refused(self.learned.for_model(conversation.params.model))
        if conversation.messages:
            self.params.say_lifecycle(conversation)
        prompt = self.query_one(PromptInput)
        prompt.load_text(self.draft())
        prompt.move_cursor(prompt.document.end)
        self.query_one(TitleBar).set_title(conversation.title)
        self.query_one(ConversationList).select_current(conversation.id)
        self.update_status()
        self.update_usage()
        self.update_context()
        self.refresh_bindings()  # ctrl+t shows only where a reply can be continued

    # -- sending and streaming -----------------------------------------------------------------

    @on(PromptInput.Submitted)
    async def _on_submitted(self, event: PromptInput.Submitted) -> None:
        await self.turns.fork_if_editing()
        conversation = self.conversation
        if conversation.id in self.streams:
            self.say("A reply is still streaming: Escape cancels it. Your text is kept.")
            return
        if not self.params_ok("Not sent: fix the marked parameter first. "):
            return
        if (message := await self.attaching.add_user(conversation, event.text)) is None:
            return  # its files could not be stored: nothing is sent, the prompt and files kept
        # If it cannot be written, it is sent all the same: kept in memory, marked UNSAVED,
        # and written by itself when the disk allows.
        outcome = self.save(conversation, reshow=False)
        self._sent(conversation, event.text)
        if outcome == "merged" and conversation is self.conversation:
            await self.show(conversation)  # other turns arrived: show them all, in order
        else:
            await self.query_one(MessageView).add_turn(message)
        self.query_one(TitleBar).set_title(conversation.title)
        await self.replying.start(conversation)

    def _sent(self, conversation: Conversation, text: str) -> None:
        """A prompt went out: its draft is done with, the history remembers it."""
        self.loaded[conversation.id] = conversation
        self.state.drafts.pop(NEW_DRAFT_KEY, None)
        self.state.drafts.pop(conversation.id, None)
        self.state.remember_prompt(text)
        self.attaching.sent()
        prompt = self.query_one(PromptInput)
        prompt.prompt_history = self.state.history
        if prompt.text == text:
            prompt.clear()

    def params_ok(self, lead: str = "Fix the marked parameter first: ") -> bool:
        problems = self.query_one(ParamSidebar).problems()
        if problems:
            self.say(lead + "; ".join(problems), severity="warning")
        return not problems

    def on_stream_text(self, event: StreamText) -> None:
        self.replying.text(event)

    def on_stream_thinking(self, event: StreamThinking) -> None:
        self.replying.thinking(event)

    def on_stream_ended(self, event: StreamEnded) -> None:
        self.replying.ended(event)

    # -- saving ------------------------------------------------------------------------------

    def save(self, conversation: Conversation, reshow: bool = True) -> str | None:
        """Save now (ui/keeping.py): the outcome, or None when it could not be (kept, UNSAVED,
        retried). After a merge the open conversation is shown again, unless the caller
        (`reshow=False`) does that itself."""
        self._reshow_merged = reshow
        try:
            return self.keeping.save_now(conversation)
        finally:
            self._reshow_merged = True

    def _saved(self, conversation: Conversation, result: SaveResult) -> None:
        """After each save: say when it was merged or saved as a copy."""
        if result.outcome == "merged":
            self.say("Another tui-chat added turns to this conversation; they are merged in.")
            if self._reshow_merged and conversation is self.conversation:
                self.call_after_refresh(self.show, conversation)
        elif result.outcome == "copied":
            # Saved under a new id: everything kept by id follows it.
            old_id, new_id = result.original_id, conversation.id
            self.loaded.pop(old_id, None)
            self.loaded[new_id] = conversation
            self.streams.rekey(old_id, new_id)
            if old_id in self.state.drafts:
                self.state.drafts[new_id] = self.state.drafts.pop(old_id)
            self.say(
                "This conversation was changed elsewhere in a way that cannot be merged; your "
                f"version is saved as a copy ({conversation.id}).",
                severity="warning",
                timeout=15,
            )
            if conversation is self.conversation:
                self.query_one(TitleBar).set_title(conversation.title)
            self.listing.load()
        self.listing.refresh(conversation)

    def _show_unsaved(self, waiting: bool) -> None:
        for bar in self.query(TitleBar):
            bar.set_class(waiting, "-unsaved")

    # -- keys --------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "continue":
            last = self.conversation.messages[-1] if self.conversation.messages else None
            return bool(last and last.stop_reason == "max_tokens" and last.status == "complete")
        return True

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from commands.system_commands(self)

    def focused_message(self) -> Message | None:
        focused = self.focused
        return focused.message if isinstance(focused, UserTurn | AssistantTurn) else None

    def action_escape(self) -> None:
        if (reply := self.streams.get(self.conversation.id)) is not None:
            self.replying.cancel(reply, "cancelled")
        elif not self.turns.leave_edit():
            if (pane := self.query_one(ConversationPane)).filtering:
                pane.close_filter()
            self.panes.close_drawer()
            self.query_one("#prompt").focus()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def on_resize(self, event: events.Resize) -> None:
        if self.query("#sidebar"):  # composed
            self.panes.arrange(event.size.width)  # self.size is still the old one here

    @on(PromptInput.Changed, "#prompt")
    def _on_prompt_changed(self, event: PromptInput.Changed) -> None:
        """Keep the draft in the state as it is typed, so any way of quitting keeps it."""
        # Replies repaint less while the user types; the keys of a prompt just sent do not count.
        self.last_typed = time.monotonic() if event.text_area.text else 0.0
        self.remember_draft(event.text_area.text)
        self.update_context(event.text_area.text)

    def _draft_key(self) -> str:
        conversation_id = self.conversation.id
        return conversation_id if self.store.exists(conversation_id) else NEW_DRAFT_KEY

    def draft(self) -> str:
        """The open conversation's unsent draft."""
        return self.state.drafts.get(self._draft_key(), "")

    def remember_draft(self, text: str) -> None:
        if text.strip():
            self.state.drafts[self._draft_key()] = text
        else:
            self.state.drafts.pop(self._draft_key(), None)

    async def _on_key(self, event: events.Key) -> None:
        """A printable key that nothing where the focus is binds (a focused message, the
        list) goes to the prompt, typed, instead of nowhere, and so do the rest of a burst
        queued behind it there (the prompt has the focus by then, and a key it takes never
        reaches the app). (Replaces App._on_key, which prevent_default keeps from running.)"""
        event.prevent_default()
        if await self._check_bindings(event.key):
            return
        focused = self.focused
        typed = typed_text(event.key, event.character) is not None
        on_main = self.screen is self.screen_stack[0]
        prompt = self.query_one(PromptInput) if typed and on_main else None
        typing_elsewhere = focused is None or isinstance(focused, Input | TextArea)
        if prompt is not None and (focused is prompt or not typing_elsewhere):
            self.set_focus(prompt)  # at once (focus() waits): the rest of a burst goes there
            prompt.insert(event.character)
            event.stop()
            return
        await dispatch_key(self, event)

    def on_copy_text(self, event: CopyText) -> None:
        self.tools.copy(event.text, event.what)

    # -- the sidebar ---------------------------------------------------------------------------

    @on(ParamSidebar.Changed)
    def _on_param_changed(self, event: ParamSidebar.Changed) -> None:
        self.params.changed(event)

    @on(ParamSidebar.Adjusted)
    def _on_params_adjusted(self, event: ParamSidebar.Adjusted) -> None:
        self.say("Model switched: " + "; ".join(event.notes) + ".")

    @on(ParamSidebar.ResetRequested)
    def _on_reset(self) -> None:
        self.params.reset_params()

    # -- compare mode ----------------------------------------------------------------------------

    def action_compare(self) -> None:
        """One prompt to two or three configurations at once, side by side."""
        if self.conversation.id in self.streams:
            self.say(BUSY)
        elif self.params_ok():
            prompt, view = self.query_one(PromptInput).text, self.query_one(MessageView)
            files = self.attaching.for_compare()  # sent (and stored) with the prompt
            self.compare_screen = CompareScreen(
                self.conversation, self.streams, self.learned, prompt, view.code_style, files
            )
            self.push_screen(self.compare_screen)

    @on(CompareScreen.Sent)
    def _compare_sent(self, event: CompareScreen.Sent) -> None:
        conversation = self.conversation
        conversation.add(event.user)
        self.save(conversation)  # if it cannot be, it is kept (UNSAVED) and retried
        self._sent(conversation, event.user.content)

    @on(CompareScreen.Kept)
    async def _compare_kept(self, event: CompareScreen.Kept) -> None:
        """Keep reply `index` as the conversation's reply, the others as its alternatives,
        and leave the screen."""
        screen, self.compare_screen = self.compare_screen, None
        if event.index is not None and event.replies:
            kept = self.conversation.keep_compared(event.replies, event.index)
            self.save(self.conversation)
            more = f"; {len(kept.alternatives)} more kept as its alternatives"
            self.say(f"Kept reply {'ABC'[event.index]}{more if len(event.replies) > 1 else ''}.")
        if screen is not None and self.screen is screen:
            self.pop_screen()
        await self.show(self.conversation)

    # -- the end ----------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        self.quitting.quit()

    def on_terminal_gone(self, _message: TerminalGone) -> None:
        self.quitting.terminal_gone = True
        self.quitting.emergency_exit(129, "the terminal closed")  # 128 + SIGHUP, as a shell says

    def on_unmount(self) -> None:
        self.quitting.shut_down()
        self.engines.close()
