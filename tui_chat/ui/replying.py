"""The open conversation's replies on screen: a reply started through the reply core
(tui_chat/reply.py) and `Streams`, its text and thinking shown as they arrive, and its end
(docs/ARCHITECTURE.md, "A reply's life"). What a reply is and how it is kept is the reply
core's; this only shows it and tells the user."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual.app import ScreenStackError
from textual.css.query import NoMatches

from tui_chat.conversation import Conversation, Message
from tui_chat.params import ParamError
from tui_chat.reply import Reply, prepare_request
from tui_chat.ui.messages import StreamEnded, StreamText, StreamThinking
from tui_chat.ui.widgets.message_view import AssistantTurn, MessageView
from tui_chat.ui.widgets.prompt import PromptInput
from tui_chat.ui.widgets.sidebar import ParamSidebar

if TYPE_CHECKING:
    from tui_chat.ui.app import ChatApp


class Replying:
    """Starts replies in the app's conversations and shows them (`app.replying`)."""

    def __init__(self, app: ChatApp) -> None:
        self.app = app

    async def start(
        self,
        conversation: Conversation,
        previous: Message | None = None,
        continuing: Message | None = None,
    ) -> None:
        """Send the conversation's turns and stream the reply into a new assistant message,
        or, `continuing` a reply cut at max tokens, onto the end of that one."""
        app = self.app
        view = app.query_one(MessageView)
        try:
            with app.streams.preparing(conversation.id):
                # In a thread: attached files are read from disk and encoded (a 4 MB PDF
                # takes a frame or two), and typing goes on meanwhile.
                prepared = await asyncio.to_thread(
                    prepare_request,
                    list(conversation.messages),
                    conversation.params,
                    app.learned,
                    continuing is not None,
                    app.store.loader(conversation.id),
                )
        except ParamError as error:
            if continuing is not None:
                app.say(f"Cannot continue this reply: {error}.", severity="warning")
                return
            failed = Message(
                role="assistant",
                content="",
                status="error",
                error={"kind": "validation", "message": f"Not sent: {error}."},
                params={"model": conversation.params.model},
            )
            conversation.add(failed)
            app.save(conversation)
            if conversation is app.conversation:
                await view.add_turn(failed)
            return
        reply = Reply(
            conversation,
            prepared,
            request_id=app.streams.next_id(),
            previous=previous,
            continuing=continuing,
            learned=app.learned,
        )
        for note in prepared.notes:
            app.say(note)
        app.streams.start(reply)
        if conversation is app.conversation:
            if continuing is not None:
                await view.restream(reply.message)
            else:
                await view.add_turn(reply.message, streaming=True)
            app.refresh_bindings()
        app.listing.refresh(conversation)

    def _turn(self, reply: Reply) -> AssistantTurn | None:
        """The reply's turn on screen, if its conversation is the one shown."""
        if reply.conversation is not self.app.conversation:
            return None
        try:
            # query_one stops at the first match; a query's truth value would walk the whole
            # DOM (every turn and block of a long chat) on each piece of text.
            turn = self.app.query_one(MessageView).streaming_turn
        except NoMatches:  # the app is closing
            return None
        return turn if turn is not None and turn.message is reply.message else None

    def text(self, event: StreamText) -> None:
        reply = self.app.streams.current(event.conversation_id, event.request_id)
        if reply is not None:  # else from a cancelled or replaced request
            reply.add_text(event.text)
            if turn := self._turn(reply):
                turn.append(event.text)

    def thinking(self, event: StreamThinking) -> None:
        reply = self.app.streams.current(event.conversation_id, event.request_id)
        if reply is not None:
            reply.add_thinking(event.text, event.signature, event.redacted)
            if turn := self._turn(reply):
                turn.append_thinking()

    def ended(self, event: StreamEnded) -> None:
        app = self.app
        reply = app.streams.current(event.conversation_id, event.request_id)
        if reply is None:
            return
        reply.end(event.outcome, event.error)
        model = reply.prepared.model_id
        if reply.message.status == "error" and app.conversation.params.model == model:
            app.query_one(ParamSidebar).set_refused(app.learned.for_model(model))
        self.finish(reply)

    def cancel(self, reply: Reply, status: str) -> None:
        """Stop it now, keeping what arrived as `status`."""
        self.app.streams.cancel(reply, status)
        self.finish(reply)

    def finish(self, reply: Reply) -> None:
        """The reply ended (any way): keep what arrived, save, show how it ended."""
        app = self.app
        app.streams.done(reply)
        conversation = reply.conversation
        reply.finish(app.keeping)  # kept in memory (UNSAVED) and in its checkpoint if not
        turn = self._turn(reply)
        try:
            app.refresh_bindings()
        except ScreenStackError:  # the app is closing: the reply is saved
            return
        if turn is not None:
            turn.finish()
            app.query_one(MessageView).streaming_turn = None
        if conversation is app.conversation and app.query(PromptInput):
            app.update_usage()
            app.update_context()
        if reply.message.status == "error" and conversation is not app.conversation:
            app.say(f"A reply in “{conversation.title}” failed.", severity="warning")
