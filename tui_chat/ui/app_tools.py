"""The app's tools for the open conversation: copy (OSC 52, tmux's buffer, the local
clipboard), copy a code block, export to Markdown, show the last request, and presets. A mixin
of `ChatApp`, which provides `conversation`, `say`, `settings`, `state` and the widgets these
use."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from tui_chat import presets
from tui_chat.bedrock.errors import BedrockError
from tui_chat.conversation import Message
from tui_chat.demo import DEMO_REGION
from tui_chat.export import to_markdown
from tui_chat.params import ParamError
from tui_chat.store import write_atomic
from tui_chat.ui.clipboard import (
    CopyOutcome,
    code_blocks,
    copy_locally,
    in_tmux,
    local_tool,
    osc52,
    outcome_in_tmux,
    outcome_outside_tmux,
    probe_tmux,
)
from tui_chat.ui.screens.dialogs import AskText, CodePicker, Confirm
from tui_chat.ui.widgets.message_view import AssistantTurn, UserTurn
from tui_chat.ui.widgets.sidebar import ParamSidebar


class ToolActions:
    #: One tmux copy at a time, so tmux's newest buffer is the newest copy.
    _tmux_copy_lock = threading.Lock()

    def copy_to_clipboard(self, text: str, announce: str | None = None) -> None:
        """Put `text` on the clipboard: a plain OSC 52 to the terminal always; inside tmux
        also `tmux load-buffer -w -` (off the UI thread, as it runs a process); the local
        clipboard tool too when there is one and this is not an SSH session. With `announce`
        (what is copied, e.g. "the last reply"), say how it was copied, or that it was not,
        once that is known (see tui_chat.ui.clipboard for the decision)."""
        self._clipboard = text
        if self._driver is not None:
            self._driver.write(osc52(text))
        tool = local_tool()
        if not in_tmux(os.environ):
            if tool is not None:
                threading.Thread(target=copy_locally, args=(text, tool), daemon=True).start()
            if announce:
                self._announce_copy(outcome_outside_tmux(tool), text, announce)
            return
        threading.Thread(
            target=self._copy_through_tmux,
            args=(text, tool, announce),
            name="tmux-copy",
            daemon=True,
        ).start()

    def _copy_through_tmux(self, text: str, tool: list[str] | None, announce: str | None) -> None:
        """In a thread: tmux's buffer, the local tool, then the outcome back on the UI."""
        with self._tmux_copy_lock:
            probe = probe_tmux(text)
            tool_ok = copy_locally(text, tool) if tool is not None else None
        outcome = outcome_in_tmux(probe, tool, tool_ok)
        try:
            self.call_from_thread(self._finish_tmux_copy, text, outcome, announce)
        except RuntimeError:
            pass  # the app has closed meanwhile: there is no one left to tell

    def _finish_tmux_copy(self, text: str, outcome: CopyOutcome, announce: str | None) -> None:
        if outcome.passthrough and self._driver is not None:
            # Only where tmux forwards it (before 3.3, or allow-passthrough on).
            self._driver.write(osc52(text, tmux=True))
        if announce:
            self._announce_copy(outcome, text, announce)

    def _announce_copy(self, outcome: CopyOutcome, text: str, what: str) -> None:
        self.say(
            outcome.message(what, len(text)),
            severity=outcome.severity,
            timeout=None if outcome.copied else 12,
        )

    def _copy(self, text: str, what: str) -> None:
        self.copy_to_clipboard(text, announce=what)

    def _focused_message(self) -> Message | None:
        focused = self.focused
        if isinstance(focused, UserTurn | AssistantTurn):
            return focused.message
        return None

    def action_copy_reply(self) -> None:
        """ctrl+y: the focused message if a message has focus, else the last reply."""
        focused = self._focused_message()
        if focused is not None:
            if focused.content:
                self._copy(focused.content, "the message")
            else:
                self.say("That message is empty.")
            return
        reply = self.conversation.last_assistant()
        if reply is None or not reply.content:
            self.say("There is no reply to copy yet.")
            return
        self._copy(reply.content, "the last reply")

    def action_copy_thinking(self) -> None:
        """The thinking of the focused reply (or the last one that thought): only on request,
        never with ctrl+y's copy of the answer."""
        focused = self._focused_message()
        message = focused if focused is not None and focused.role == "assistant" else None
        if message is None:
            assistants = [m for m in self.conversation.messages if m.role == "assistant"]
            message = next((m for m in reversed(assistants) if m.thinking_text), None)
        if message is None or not message.thinking_text:
            self.say("No thinking to copy in that reply.")
            return
        self._copy(message.thinking_text, "the thinking")

    def action_copy_code(self) -> None:
        """Copy a code block from the focused message (or the last reply); ask which if
        there are several."""
        message = self._focused_message() or self.conversation.last_assistant()
        blocks = code_blocks(message.content) if message is not None else []
        if not blocks:
            self.say("No code block in that reply.")
            return
        if len(blocks) == 1:
            self._copy(blocks[0][1], "the code block")
            return

        def chosen(index: int | None) -> None:
            if index is not None:
                self._copy(blocks[index][1], f"code block {index + 1}")

        self.push_screen(CodePicker(blocks), chosen)

    def action_export(self) -> None:
        conversation = self.conversation
        if not conversation.messages:
            self.say("Nothing to export yet.")
            return
        slug = "-".join(re.findall(r"[a-z0-9]+", conversation.title.lower()))[:40] or "chat"
        suggestion = str(Path.cwd() / f"{slug}.md")

        def write(path: Path) -> None:
            try:
                write_atomic(path, to_markdown(conversation))
            except OSError as error:
                self.say(f"Could not export to {path}: {error.strerror}", severity="error")
                return
            size = path.stat().st_size
            self.say(f"Exported “{conversation.title}” to {path} ({size:,} bytes).")

        def answered(text: str | None) -> None:
            if not text or not text.strip():
                return
            path = Path(text.strip()).expanduser().resolve()
            if path.is_dir():
                self.say(f"{path} is a folder: name a file.", severity="warning")
                return
            if path.exists():
                self.push_screen(
                    Confirm(f"{path} exists. Replace it?", yes="Replace"),
                    lambda yes: write(path) if yes else None,
                )
                return
            write(path)

        self.push_screen(AskText("Export to Markdown file:", suggestion), answered)

    def action_show_request(self) -> None:
        """The exact JSON body of the last request in this conversation, and boto3 code that
        sends it (the next request's body when nothing was sent yet in this session)."""
        conversation = self.conversation
        prepared = self.last_requests.get(conversation.id)
        heading = "The last request sent in this conversation"
        if prepared is None:
            try:
                sending = [m for m in conversation.messages if m.status != "streaming"]
                if not sending or sending[-1].role == "assistant":
                    sending.append(Message(role="user", content="(your next prompt)"))
                prepared = self._prepare(sending, conversation.params)
            except ParamError as error:
                self.say(f"No request to show: {error}.", severity="warning")
                return
            heading = "What the next request would send (nothing sent yet in this session)"
        region = self.settings.region or DEMO_REGION
        if self._engine is not None:
            try:
                region = self._engine.connection.region
            except BedrockError:
                pass
        from tui_chat.ui.screens.request import RequestScreen  # rarely used: loaded when asked

        self.push_screen(RequestScreen(prepared, region, heading))

    def action_save_preset(self) -> None:
        params = self.conversation.params

        def answered(name: str | None) -> None:
            if not name or not name.strip():
                return
            try:
                where = presets.save(name, params, self.settings, self.state)
            except ParamError as error:
                self.say(f"Not saved: {error}.", severity="warning")
                return
            except OSError as error:
                self.say(f"Could not save the preset: {error}", severity="error")
                return
            self.say(f"Saved preset “{name.strip()}” in {where}.")

        self.push_screen(AskText("Save the sidebar's parameters as preset named:"), answered)

    def apply_preset(self, name: str) -> None:
        preset = presets.all_presets(self.settings, self.state).get(name)
        if preset is None:
            self.say(f"No preset named “{name}”.", severity="warning")
            return
        try:
            params = presets.apply(preset, self.conversation.params)
        except ParamError as error:
            self.say(f"Preset “{name}” not applied: {error}.", severity="warning")
            return
        self.conversation.params = params
        self.query_one(ParamSidebar).show(params)
        self._update_status()
        self._schedule_param_save()
        self.say(f"Applied preset “{name}”.")
