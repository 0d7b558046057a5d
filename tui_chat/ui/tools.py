"""The app's tools for the open conversation: copy (OSC 52, tmux's buffer, the local
clipboard), copy a code block or the thinking, export to Markdown, show the last request, and
presets. The app's actions call these; they use the app's public parts (`conversation`, `say`,
`settings`, `state`, `learned`, `streams`, `focused_message`, `params`, `account`)."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from tui_chat import presets
from tui_chat.conversation import Message
from tui_chat.export import to_markdown
from tui_chat.files import write_atomic
from tui_chat.params import ParamError
from tui_chat.reply import prepare_request
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

if TYPE_CHECKING:
    from tui_chat.ui.app import ChatApp


class Tools:
    """The app's tools for the open conversation (bound to `app`)."""

    #: One tmux copy at a time, so tmux's newest buffer is the newest copy.
    _tmux_copy_lock = threading.Lock()

    def __init__(self, app: ChatApp) -> None:
        self.app = app

    def copy(self, text: str, what: str | None = None) -> None:
        """Put `text` on the clipboard: Textual's OSC 52 to the terminal always; inside tmux
        also `tmux load-buffer -w -` (off the UI thread, as it runs a process); the local
        clipboard tool too when there is one and this is not an SSH session. With `what`
        (e.g. "the last reply"), say how it was copied, or that it was not, once that is known
        (see tui_chat.ui.clipboard for the decision)."""
        self.app.copy_to_clipboard(text)
        tool = local_tool()
        if not in_tmux(os.environ):
            if tool is not None:
                threading.Thread(target=copy_locally, args=(text, tool), daemon=True).start()
            if what:
                self._announce(outcome_outside_tmux(tool), text, what)
            return
        threading.Thread(
            target=self._copy_through_tmux,
            args=(text, tool, what),
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
            self.app.call_from_thread(self._finish_tmux_copy, text, outcome, announce)
        except RuntimeError:
            pass  # the app has closed meanwhile: there is no one left to tell

    def _finish_tmux_copy(self, text: str, outcome: CopyOutcome, announce: str | None) -> None:
        driver = self.app._driver  # the one raw write: Textual has no tmux-wrapped OSC 52
        if outcome.passthrough and driver is not None:
            # Only where tmux forwards it (before 3.3, or allow-passthrough on).
            driver.write(osc52(text, tmux=True))
        if announce:
            self._announce(outcome, text, announce)

    def _announce(self, outcome: CopyOutcome, text: str, what: str) -> None:
        self.app.say(
            outcome.message(what, len(text)),
            severity=outcome.severity,
            timeout=None if outcome.copied else 12,
        )

    def copy_reply(self) -> None:
        """ctrl+y: the focused message if a message has focus, else the last reply."""
        focused = self.app.focused_message()
        if focused is not None:
            if focused.content:
                self.copy(focused.content, "the message")
            else:
                self.app.say("That message is empty.")
            return
        reply = self.app.conversation.last_assistant()
        if reply is None or not reply.content:
            self.app.say("There is no reply to copy yet.")
            return
        self.copy(reply.content, "the last reply")

    def copy_thinking(self) -> None:
        """The thinking of the focused reply (or the last one that thought): only on request,
        never with ctrl+y's copy of the answer."""
        focused = self.app.focused_message()
        message = focused if focused is not None and focused.role == "assistant" else None
        if message is None:
            assistants = [m for m in self.app.conversation.messages if m.role == "assistant"]
            message = next((m for m in reversed(assistants) if m.thinking_text), None)
        if message is None or not message.thinking_text:
            self.app.say("No thinking to copy in that reply.")
            return
        self.copy(message.thinking_text, "the thinking")

    def copy_code(self) -> None:
        """Copy a code block from the focused message (or the last reply); ask which if
        there are several."""
        message = self.app.focused_message() or self.app.conversation.last_assistant()
        blocks = code_blocks(message.content) if message is not None else []
        if not blocks:
            self.app.say("No code block in that reply.")
            return
        if len(blocks) == 1:
            self.copy(blocks[0][1], "the code block")
            return

        def chosen(index: int | None) -> None:
            if index is not None:
                self.copy(blocks[index][1], f"code block {index + 1}")

        self.app.push_screen(CodePicker(blocks), chosen)

    def export(self) -> None:
        conversation = self.app.conversation
        if not conversation.messages:
            self.app.say("Nothing to export yet.")
            return
        slug = "-".join(re.findall(r"[a-z0-9]+", conversation.title.lower()))[:40] or "chat"
        suggestion = str(Path.cwd() / f"{slug}.md")

        def write(path: Path) -> None:
            try:
                files = self.app.store.files_dir(conversation.id)
                write_atomic(path, to_markdown(conversation, files))
            except OSError as error:
                self.app.say(f"Could not export to {path}: {error.strerror}", severity="error")
                return
            size = path.stat().st_size
            self.app.say(f"Exported “{conversation.title}” to {path} ({size:,} bytes).")

        def answered(text: str | None) -> None:
            if not text or not text.strip():
                return
            path = Path(text.strip()).expanduser().resolve()
            if path.is_dir():
                self.app.say(f"{path} is a folder: name a file.", severity="warning")
                return
            if path.exists():
                self.app.push_screen(
                    Confirm(f"{path} exists. Replace it?", yes="Replace"),
                    lambda yes: write(path) if yes else None,
                )
                return
            write(path)

        self.app.push_screen(AskText("Export to Markdown file:", suggestion), answered)

    def show_request(self) -> None:
        """The exact JSON body of the last request in this conversation, and boto3 code that
        sends it (the next request's body when nothing was sent yet in this session)."""
        conversation = self.app.conversation
        prepared = self.app.streams.last_requests.get(conversation.id)
        heading = "The last request sent in this conversation"
        if prepared is None:
            try:
                sending = [m for m in conversation.messages if m.status != "streaming"]
                pending = self.app.attaching.pending
                if not sending or sending[-1].role == "assistant":
                    files = [attachment for attachment, _ in pending]
                    next_prompt = "(your next prompt)"
                    sending.append(Message(role="user", content=next_prompt, attachments=files))
                load = self.app.store.loader(conversation.id, pending)
                prepared = prepare_request(
                    sending, conversation.params, self.app.learned, load=load
                )
            except ParamError as error:
                self.app.say(f"No request to show: {error}.", severity="warning")
                return
            heading = "What the next request would send (nothing sent yet in this session)"
        region = self.app.account.region()
        from tui_chat.ui.screens.request import RequestScreen  # rarely used: loaded when asked

        self.app.push_screen(RequestScreen(prepared, region, heading))

    def save_preset(self) -> None:
        params = self.app.conversation.params

        def answered(name: str | None) -> None:
            if not name or not name.strip():
                return
            try:
                where = presets.save(name, params, self.app.settings, self.app.state)
            except ParamError as error:
                self.app.say(f"Not saved: {error}.", severity="warning")
                return
            except OSError as error:
                self.app.say(f"Could not save the preset: {error}", severity="error")
                return
            self.app.say(f"Saved preset “{name.strip()}” in {where}.")

        self.app.push_screen(AskText("Save the sidebar's parameters as preset named:"), answered)

    def apply_preset(self, name: str) -> None:
        preset = presets.all_presets(self.app.settings, self.app.state).get(name)
        if preset is None:
            self.app.say(f"No preset named “{name}”.", severity="warning")
            return
        try:
            params = presets.apply(preset, self.app.conversation.params)
        except ParamError as error:
            self.app.say(f"Preset “{name}” not applied: {error}.", severity="warning")
            return
        self.app.params.set_params(params)
        self.app.say(f"Applied preset “{name}”.")
