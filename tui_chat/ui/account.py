"""The Bedrock account as the app sees it: the engine warmed up off the first frame, the
region in use, and the account's models (from a day-old cache or Bedrock), shown in the
sidebar's suggestions and the model picker. At the first start with credentials the newest
active Claude Sonnet the account lists becomes the model of new conversations."""

from __future__ import annotations

import gc
import logging
from typing import TYPE_CHECKING

from tui_chat import model_list as models
from tui_chat.bedrock import catalog
from tui_chat.bedrock.errors import BedrockError
from tui_chat.demo import DEMO_REGION
from tui_chat.ui.markdown import warm_up_markdown
from tui_chat.ui.widgets.sidebar import ParamSidebar

if TYPE_CHECKING:
    from tui_chat.ui.app import ChatApp

log = logging.getLogger("tui_chat.ui")


class Account:
    def __init__(self, app: ChatApp) -> None:
        self.app = app
        #: The account's models once listed (None: offline, the demo, or not yet).
        self.models: list[models.ModelEntry] | None = None
        self.checked = False

    def region(self) -> str:
        """The region requests go to (as far as it is known yet)."""
        app = self.app
        region = app.settings.region or ""
        engine = app.engines.made
        if engine is not None:
            try:
                region = engine.connection.region
            except BedrockError:
                pass
        return region or (DEMO_REGION if app.demo_mode else "")

    def custom_endpoint(self) -> bool:
        engine = self.app.engines.made
        if engine is None or self.app.demo_mode:
            return False
        try:
            return bool(engine.connection.endpoint_runtime)
        except BedrockError:
            return False

    def start(self) -> None:
        """Load what the first reply needs and create the engine and its client in a thread,
        off the first frame, so the first send is quick; then list the account's models."""
        self.app.run_worker(self._warm_up, thread=True, exit_on_error=False, group="warmup")

    def _warm_up(self) -> None:
        warm_up_markdown()
        try:
            engine = self.app.engines.get()
            engine.connection  # noqa: B018 - resolves the region
            engine.runtime()
        except BedrockError as error:
            log.debug("warm-up: %s", error.kind)
        except Exception as error:  # a broken AWS config must not stop the app
            log.debug("warm-up failed: %s", type(error).__name__)
        self.app.call_from_thread(self.app.update_status)
        found = None if self.app.demo_mode else self._list()  # the demo lists no account
        self.app.call_from_thread(self.show, found)
        self.app.call_from_thread(settle_memory)

    def _list(self) -> list[models.ModelEntry] | None:
        """The account's models, from the day-old cache or Bedrock (in the warm-up thread)."""
        try:
            engine = self.app.engines.get()
            connection = engine.connection
            path = models.cache_path(
                self.app.settings.paths.cache_dir, connection.region, connection.endpoint_control
            )
            found = models.load_cache(path)
            if found is None:
                found = models.fetch(engine.control())
                models.save_cache(path, found)
            return found
        except Exception as error:  # offline, or not allowed to list: the catalog stands in
            log.debug("model list unavailable: %s", type(error).__name__)
            return None

    def show(self, found: list[models.ModelEntry] | None) -> None:
        self.checked = True
        if found is None:
            return
        self.models = found
        self._choose_default(found)
        sidebar = self.app.query(ParamSidebar)
        if sidebar:
            sidebar.first().set_models(found)

    def entry(self, model_id: str) -> models.ModelEntry | None:
        return next((m for m in self.models or [] if m.model_id == model_id), None)

    def _choose_default(self, found: list[models.ModelEntry]) -> None:
        app = self.app
        settings, state = app.settings, app.state
        if app.demo_mode or settings.model_from_config or state.default_model:
            return
        available = {m.model_id for m in found if m.streams_text and m.lifecycle != "legacy"}
        chosen = catalog.newest("sonnet", settings.region, available=available)
        if chosen is None:
            return
        state.default_model = chosen
        previous = settings.defaults.model
        settings.defaults = settings.defaults.with_changes(model=chosen)
        conversation = app.conversation
        untouched = not conversation.messages and not app.store.exists(conversation.id)
        if untouched and conversation.params.model == previous and chosen != previous:
            app.params.set_params(conversation.params.with_changes(model=chosen), save=False)


def settle_memory() -> None:
    """Start-up's objects (modules, the catalogue, botocore's service models, the widgets:
    ~160,000) live as long as the app: frozen here, Python's full collections skip them. One
    such collection took ~70 ms and could fall in the first words of a reply. Not collected
    first: that would be the same pause now; the ~800 unreachable objects among them (tens of
    KB, measured) stay.
    """
    gc.freeze()
