"""What the keys do to the open conversation's turns and to the conversation itself: retry or
regenerate, continue, edit an earlier prompt, delete a message, flip between alternative
replies, show thinking, new, rename and delete (docs/ARCHITECTURE.md, "The app"). The app runs
these as its actions (ui/commands.py names them); the rules they apply live on the
conversation model and in the reply core."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from tui_chat.bedrock import catalog
from tui_chat.conversation import Conversation, Message
from tui_chat.params import model_id_problem
from tui_chat.ui.screens.dialogs import AskText, Confirm
from tui_chat.ui.widgets.conversation_list import ConversationList
from tui_chat.ui.widgets.message_view import MessageView
from tui_chat.ui.widgets.prompt import PromptInput
from tui_chat.ui.widgets.title_bar import TitleBar

if TYPE_CHECKING:
    from tui_chat.ui.app import ChatApp

BUSY = "A reply is still streaming: Escape cancels it first."
FOCUS_FIRST = "Focus a message first (shift+Tab, then Up/Down)."


class TurnActions:
    """The open conversation's turn actions, for the app (`app.turns`)."""

    def __init__(self, app: ChatApp) -> None:
        self.app = app
        #: An earlier prompt being edited: (its conversation, its index); Enter resends it in
        #: a copy of the conversation up to that turn, so the original is never lost.
        self.editing: tuple[Conversation, int] | None = None

    def _busy(self) -> bool:
        if self.app.conversation.id in self.app.streams:
            self.app.say(BUSY)
            return True
        return False

    async def retry(self) -> None:
        """Send the last turn again: a failed reply is replaced, a finished one kept as an
        alternative of the new one."""
        app = self.app
        conversation = app.conversation
        if self._busy():
            return
        if not any(m.role == "user" for m in conversation.messages):
            app.say("Nothing to retry yet: send a message first.")
            return
        last = conversation.messages[-1]
        replacement = last.error.get("replacement") if last.status == "error" else None
        if last.error.get("kind") == "end_of_life" and replacement:
            # The model was retired: move the conversation to the current one and resend.
            app.params.set_model(replacement)
            app.say(f"This conversation now uses {catalog.display_name(replacement)}.")
        if not app.params_ok():
            return
        previous = None
        if conversation.messages[-1].role == "assistant":
            previous = conversation.messages.pop()
            await app.query_one(MessageView).remove_last_reply()
        await app.replying.start(conversation, previous)

    async def continue_(self) -> None:
        """Ask the model to go on with a reply that stopped at max tokens; the continuation
        is appended to the same reply."""
        conversation = self.app.conversation
        if self._busy():
            return
        last = conversation.messages[-1] if conversation.messages else None
        if last is None or last.role != "assistant" or last.stop_reason != "max_tokens":
            self.app.say("Only a reply that stopped at max tokens can be continued.")
            return
        await self.app.replying.start(conversation, continuing=last)

    def edit_prompt(self) -> None:
        """Edit the focused earlier prompt: it goes into the prompt box, and Enter sends it in
        a copy of the conversation up to that turn (the original stays as it is)."""
        message = self.app.focused_message()
        conversation = self.app.conversation
        if message is None or message.role != "user":
            self.app.say("Focus one of your prompts first (shift+Tab, then Up/Down).")
        elif not self._busy():
            self.editing = (conversation, conversation.messages.index(message))
            prompt = self.app.query_one(PromptInput)
            prompt.load_text(message.content)
            prompt.move_cursor(prompt.document.end)
            prompt.focus()
            self.app.attaching.editing(conversation, message)  # its files come back as chips
            self.app.say(
                "Editing an earlier prompt: Enter sends it in a copy of this conversation up "
                "to that turn (this one stays as it is); Escape leaves it."
            )

    async def fork_if_editing(self) -> None:
        """Sending while an earlier prompt is edited: show a copy of the conversation up to
        that prompt, which the new prompt is then sent in."""
        editing, self.editing = self.editing, None
        if editing is None or editing[0] is not self.app.conversation:
            return
        original, index = editing
        fork = Conversation.new(original.params)
        fork.messages = [copy.deepcopy(m) for m in original.messages[:index]]
        fork.title = f"{original.title} (edited)"
        fork.title_custom = True
        fork.params_extra = dict(original.params_extra)
        self.app.attaching.forked(original, fork)  # the files go with the copy
        await self.app.show(fork)
        self.app.say(f"Sent in a copy, “{fork.title}”; the original is kept unchanged.")

    def leave_edit(self) -> bool:
        """Escape while editing an earlier prompt: the draft comes back."""
        if self.editing is None:
            return False
        self.editing = None
        self.app.query_one(PromptInput).load_text(self.app.draft())
        self.app.attaching.left_edit()
        self.app.say("Left the edit; the earlier prompt is unchanged.")
        return True

    def delete_message(self) -> None:
        """Delete the focused message, after asking (its alternatives go with it)."""
        app = self.app
        message = app.focused_message()
        conversation = app.conversation
        if message is None:
            app.say(FOCUS_FIRST)
            return
        if self._busy():
            return

        async def done(confirmed: bool | None) -> None:
            if confirmed and message in conversation.messages:
                conversation.messages.remove(message)
                conversation.touch()
                if app.save(conversation) is not None:
                    await app.show(conversation)
                    app.say("Message deleted.")

        who = "your prompt" if message.role == "user" else "this reply"
        extra = f" and its {len(message.alternatives)} alternatives" if message.alternatives else ""
        app.push_screen(Confirm(f"Delete {who}{extra}? This cannot be undone.", yes="Delete"), done)

    def toggle_thinking(self) -> None:
        """Show or hide the thinking of the focused reply, or of the last one."""
        if not self.app.query_one(MessageView).toggle_thinking(self.app.focused):
            self.app.say("No thinking to show: this reply's model did not think before answering.")

    async def flip(self, delta: int) -> None:
        """Show the previous or next alternative reply of the focused (or last) reply; the
        one shown is what the conversation continues from."""
        app = self.app
        conversation = app.conversation
        focused = app.focused_message()
        message: Message | None = focused if focused and focused.role == "assistant" else None
        message = message or conversation.last_assistant()
        if message is None or not message.alternatives:
            app.say("This reply has no alternatives: ctrl+r regenerates it.")
        elif conversation.id in app.streams:
            app.say("Wait for the reply to finish (or Escape) before flipping.")
        else:
            index = conversation.messages.index(message)
            chosen = message.choose(message.chosen_index() + delta)
            conversation.messages[index] = chosen
            app.save(conversation)
            turn = await app.query_one(MessageView).replace_message(message, chosen)
            if turn is not None:
                turn.focus()

    async def new_conversation(self) -> None:
        """Start a new conversation from the open one's parameters (F5 resets them), but not
        from a saved model id that could not be typed (spaces, control characters)."""
        app = self.app
        app.attaching.clear(say=True)  # the files attached were for the open conversation
        if app.store.exists(app.conversation.id) or app.conversation.messages:
            params = app.conversation.params
            if model_id_problem(params.model) is not None:
                params = params.with_changes(model=app.settings.defaults.model)
            await app.show(Conversation.new(params))
        app.query_one(PromptInput).focus()

    def rename(self) -> None:
        app = self.app
        conversation = app.conversation
        if not app.store.exists(conversation.id):
            app.say("Send a message first: a new conversation is named after it.")
            return

        def done(title: str | None) -> None:
            if title is not None:
                conversation.rename(title)
                if app.save(conversation) and conversation is app.conversation:
                    app.query_one(TitleBar).set_title(conversation.title)

        question = "Rename this conversation (empty: name it after its first message)"
        app.push_screen(AskText(question, conversation.title), done)

    def delete(self) -> None:
        """Delete the open conversation's file, after asking; the next one opens."""
        app = self.app
        conversation = app.conversation
        if not app.store.exists(conversation.id):
            app.say("This conversation is not saved yet; there is nothing to delete.")
            return

        async def done(confirmed: bool | None) -> None:
            if not confirmed:
                return
            if (reply := app.streams.get(conversation.id)) is not None:
                app.replying.cancel(reply, "cancelled")
            try:
                app.store.delete(conversation.id)
            except OSError as error:
                app.say(f"Could not delete: {error}", severity="error")
                return
            app.loaded.pop(conversation.id, None)
            app.state.drafts.pop(conversation.id, None)
            app.query_one(ConversationList).remove_entry(conversation.id)
            app.say(f"Deleted “{conversation.title}”.")
            if conversation is app.conversation:
                await app.open_first(reopen=False)

        question = (
            f"Delete “{conversation.title}” ({len(conversation.messages)} messages)? Its file "
            "is removed; this cannot be undone."
        )
        app.push_screen(Confirm(question, yes="Delete"), done)
