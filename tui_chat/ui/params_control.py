"""The open conversation's parameters: what the sidebar changed, a model switch, presets and
resets, and saving them a moment after the last change (docs/ARCHITECTURE.md, "The app").

The sidebar validates and posts `Changed`; this applies the change to the conversation, keeps
the title bar and the sidebar's marks in step, and saves PARAM_SAVE_DELAY seconds after the
last change (typing on replaces the wait)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_chat.bedrock import catalog
from tui_chat.bedrock.catalog import model_change_notes
from tui_chat.params import ParamError, Params
from tui_chat.ui.format import lifecycle_line
from tui_chat.ui.screens.dialogs import ModelPicker
from tui_chat.ui.widgets.sidebar import ParamSidebar

if TYPE_CHECKING:
    from tui_chat.conversation import Conversation
    from tui_chat.ui.app import ChatApp

#: Seconds a parameter change waits before it is saved (typing on replaces it).
PARAM_SAVE_DELAY = 0.5


class ParamsControl:
    """The parameters of the open conversation, for the app (`app.params`)."""

    def __init__(self, app: ChatApp) -> None:
        self.app = app
        self._timer = None
        self._lifecycle_said: set[str] = set()  # conversations told their model is legacy

    def _sidebar(self) -> ParamSidebar:
        return self.app.query_one(ParamSidebar)

    def changed(self, event: ParamSidebar.Changed) -> None:
        """A valid edit in the sidebar."""
        conversation = self.app.conversation
        try:
            conversation.params = conversation.params.with_changes(**{event.name: event.value})
        except ParamError as error:
            self.app.say(str(error), severity="warning")
            return
        if event.name == "model":
            self.app.update_status()
            self._sidebar().set_refused(self.app.learned.for_model(event.value))
            self.say_lifecycle(conversation, force=True)
        self.schedule_save()

    def say_lifecycle(self, conversation: Conversation, force: bool = False) -> None:
        """Say once per conversation (and on every switch to such a model) that its model is
        legacy or retired, with the date when known and a current replacement."""
        if conversation.id in self._lifecycle_said and not force:
            return
        info = catalog.lookup(conversation.params.model)
        entry = self.app.account.entry(conversation.params.model)
        line = lifecycle_line(info, entry)
        if line:
            self._lifecycle_said.add(conversation.id)
            who = info.name if info.known else "This model"
            self.app.say(f"{who}: {line}.", severity="warning")

    def set_params(self, params: Params, save: bool = True) -> None:
        """Give the open conversation `params` (a preset, the account's default model)."""
        self.app.conversation.params = params
        self._sidebar().show(params)
        self.app.update_status()
        if save:
            self.schedule_save()

    def set_model(self, model_id: str) -> None:
        """Switch the open conversation to another model at once, keeping what still applies
        (as a switch in the sidebar does) and saying what was dropped."""
        conversation = self.app.conversation
        changes, notes = model_change_notes(conversation.params, model_id)
        self.set_params(conversation.params.with_changes(model=model_id, **changes))
        self._sidebar().set_refused(self.app.learned.for_model(model_id))
        for note in notes:
            self.app.say(note)

    def reset_params(self) -> None:
        self.set_params(self.app.settings.defaults)
        self.app.say("Parameters reset to the defaults.")

    def choose_model(self) -> None:
        def chosen(model_id: str | None) -> None:
            if model_id:
                self.set_model(model_id)
                self.app.say(f"Model set to {model_id}.")

        suggestions = catalog.suggestions(self.app.settings.region)
        self.app.push_screen(ModelPicker(self.app.account.models, suggestions), chosen)

    def forget_rules(self) -> None:
        model = self.app.conversation.params.model
        if self.app.learned.forget(model):
            self._sidebar().set_refused({})
            self.app.say(f"Forgot what Bedrock refused for {catalog.display_name(model)}.")
        else:
            self.app.say("Nothing learned for this model.")

    def schedule_save(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        conversation = self.app.conversation
        store = self.app.store
        if store.exists(conversation.id):
            # Not if it was deleted meanwhile: saving would bring it back.
            self._timer = self.app.set_timer(
                PARAM_SAVE_DELAY,
                lambda: store.exists(conversation.id) and self.app.save(conversation),
            )

    def save_pending(self) -> None:
        """Save now a change still waiting for its timer (the app is closing)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
            if self.app.store.exists(self.app.conversation.id):
                self.app.save(self.app.conversation)
