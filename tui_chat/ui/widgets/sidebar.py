"""ParamSidebar: the live parameter form. Every field validates as it is typed, shows its range
and the model's default, and applies to the next request at once; an invalid value is marked,
explained where it was typed, and never used."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Static, TextArea

from tui_chat.bedrock import catalog
from tui_chat.bedrock.formats import choose_params
from tui_chat.bedrock.models import ModelEntry
from tui_chat.params import (
    SEED_DEFAULTS,
    SPECS,
    ParamError,
    Params,
    format_stop_sequences,
    parse_value,
)

NUMERIC = ("temperature", "top_p", "top_k", "max_tokens_to_sample")
_WHY_OMITTED = {
    "top_p": "{name} takes temperature or top_p, not both: top_p will be left out.",
    "top_k": "{name} takes no top_k: it will be left out.",
}


def _label(name: str, hint: str) -> Text:
    text = Text(name, style="bold")
    text.append(f"  {hint}", style="dim")
    return text


def _number_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class ParamSidebar(VerticalScroll):
    """The sidebar form. Posts `Changed` for each valid edit and `ResetRequested`."""

    DEFAULT_CSS = """
    ParamSidebar { padding: 0 1; scrollbar-size-vertical: 1; }
    ParamSidebar .field { height: auto; margin-bottom: 1; }
    ParamSidebar .label { height: 1; }
    ParamSidebar .hint { height: auto; }
    ParamSidebar .problem { color: $text-error; display: none; height: auto; }
    ParamSidebar .field.-invalid .problem { display: block; }
    ParamSidebar .field.-invalid Input { background: $error-muted; }
    ParamSidebar Input { width: 100%; background: $boost; }
    ParamSidebar Input:focus { background: $primary-muted; }
    ParamSidebar #system { height: 5; border: none; background: $boost; }
    ParamSidebar #system:focus { background: $primary-muted; }
    ParamSidebar #rules { color: $text-warning; height: auto; margin-bottom: 1; }
    ParamSidebar #reset { width: 100%; }
    """

    @dataclass
    class Changed(Message):
        name: str
        value: Any

    class ResetRequested(Message):
        pass

    def __init__(self, params: Params, suggestions: list[str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.params = params
        self._suggestions = suggestions
        self.invalid: dict[str, str] = {}
        #: Models from the account (None until fetched, or offline).
        self.models: dict[str, ModelEntry] | None = None

    def set_models(self, models: list[ModelEntry]) -> None:
        """Offer the account's models that stream text first, then the catalog's."""
        self.models = {m.model_id: m for m in models}
        streaming = [m.model_id for m in models if m.streams_text]
        ordered = list(dict.fromkeys([*streaming, *self._suggestions]))
        self.query_one("#model", Input).suggester = SuggestFromList(ordered, case_sensitive=False)
        self._refresh_hints()

    def compose(self):
        params = self.params
        with Vertical(classes="field", id="field-model"):
            yield Static(Text("Model", style="bold"), classes="label")
            yield Input(
                params.model,
                id="model",
                suggester=SuggestFromList(self._suggestions, case_sensitive=False),
                placeholder="any Bedrock model id",
                compact=True,
            )
            yield Static("", classes="hint", id="hint-model")
            yield Static("", classes="problem", id="problem-model")
        yield Static("", id="rules")
        for name in NUMERIC:
            with Vertical(classes="field", id=f"field-{name}"):
                yield Static("", classes="label", id=f"label-{name}")
                yield Input(_number_text(getattr(params, name)), id=name, compact=True)
                yield Static("", classes="problem", id=f"problem-{name}")
        with Vertical(classes="field", id="field-stop_sequences"):
            yield Static(
                _label("Stop sequences", "a,b  \\, \\n \\t \\s"),
                classes="label",
            )
            yield Input(
                format_stop_sequences(params.stop_sequences),
                id="stop_sequences",
                placeholder="none",
                compact=True,
            )
            yield Static("", classes="problem", id="problem-stop_sequences")
        with Vertical(classes="field", id="field-system"):
            yield Static(Text("System prompt", style="bold"), classes="label")
            yield TextArea(
                params.system,
                id="system",
                soft_wrap=True,
                tab_behavior="focus",
                compact=True,
                placeholder="none",
            )
        yield Button("Reset to defaults", id="reset", compact=True)

    def on_mount(self) -> None:
        self._refresh_hints()

    # -- showing a conversation's values -------------------------------------------------------

    def show(self, params: Params) -> None:
        """Show another conversation's values. The fields' change events then find nothing
        new, so no Changed messages are posted."""
        self.params = params
        self.query_one("#model", Input).value = params.model
        for name in NUMERIC:
            self.query_one(f"#{name}", Input).value = _number_text(getattr(params, name))
        self.query_one("#stop_sequences", Input).value = format_stop_sequences(
            params.stop_sequences
        )
        system = self.query_one("#system", TextArea)
        if system.text != params.system:
            system.load_text(params.system)
        for name in list(self.invalid):
            self._mark(name, None)
        self._refresh_hints()

    # -- edits ---------------------------------------------------------------------------------

    def _limit(self) -> int | None:
        return catalog.lookup(self.params.model).max_output

    def on_input_changed(self, event: Input.Changed) -> None:
        name = event.input.id or ""
        if name not in (*NUMERIC, "stop_sequences", "model"):
            return
        event.stop()
        self._apply_text(name, event.value)

    def _apply_text(self, name: str, text: str) -> None:
        try:
            value = parse_value(name, text, self._limit())
        except ParamError as error:
            self._mark(name, f"must be {error.allowed}")
            return
        self._mark(name, None)
        if name == "stop_sequences":
            value = tuple(value)
        if value == getattr(self.params, name):
            return
        self.params = self.params.with_changes(**{name: value})
        self.post_message(self.Changed(name, value))
        if name == "model":
            # The model decides the max tokens range, defaults and rules.
            max_input = self.query_one("#max_tokens_to_sample", Input)
            self._apply_text("max_tokens_to_sample", max_input.value)
        self._refresh_hints()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area.id != "system":
            return
        event.stop()
        text = event.text_area.text
        if text != self.params.system:
            self.params = self.params.with_changes(system=text)
            self.post_message(self.Changed("system", text))
            self._refresh_hints()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "reset":
            event.stop()
            self.post_message(self.ResetRequested())

    def _mark(self, name: str, problem: str | None) -> None:
        field = self.query_one(f"#field-{name}")
        field.set_class(problem is not None, "-invalid")
        self.query_one(f"#problem-{name}", Static).update(Text(problem or ""))
        if problem is None:
            self.invalid.pop(name, None)
        else:
            self.invalid[name] = problem

    def problems(self) -> list[str]:
        """One line per field holding a value that will not be sent."""
        return [f"{name}: {problem}" for name, problem in self.invalid.items()]

    # -- hints and rules -----------------------------------------------------------------------

    def _refresh_hints(self) -> None:
        info = catalog.lookup(self.params.model)
        for name in NUMERIC:
            spec = SPECS[name]
            high = info.max_output if name == "max_tokens_to_sample" else spec.high
            low = _number_text(spec.low)
            hint = f"{low}–{_number_text(high)}" if high is not None else f"≥ {low}"
            default = info.defaults.get(name, getattr(SEED_DEFAULTS, name, None))
            if name != "max_tokens_to_sample" and default is not None:
                hint += f", default {_number_text(default)}"
            if name == "top_k" and not info.takes_top_k:
                hint += ", unused"
            self.query_one(f"#label-{name}", Static).update(_label(spec.label, hint))
        kind = {"text-completion": "text completion", "messages": "Messages API"}.get(
            info.format, "Converse"
        )
        model_hint = f"{info.name}, {kind}" if info.known else f"unknown model, {kind}"
        if self.models is not None:
            entry = self.models.get(self.params.model)
            if entry is None:
                if not self.params.model.startswith("arn:"):
                    model_hint += "; not in your account's list"
            elif entry.streams_text:
                model_hint += "; streams text"
            else:
                model_hint += f"; {entry.note}"
        self.query_one("#hint-model", Static).update(Text(model_hint, style="dim"))
        rules = self.query_one("#rules", Static)
        try:
            _send, omitted = choose_params(self.params, info)
        except ParamError:
            omitted = []
        lines = [_WHY_OMITTED[name].format(name=info.name) for name in omitted]
        rules.update(Text("\n".join(lines)))
        rules.display = bool(lines)
