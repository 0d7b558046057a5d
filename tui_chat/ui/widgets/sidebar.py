"""ParamSidebar: the live parameter form. Every field validates as it is typed, shows its range
and the model's default, and applies to the next request at once; an invalid value is marked,
explained where it was typed, and never used.

The form follows the model: a model that sets its own sampling shows temperature, top_p and
top_k disabled with one line saying why and what to tune instead; Effort and Thinking appear
where the model takes them (thinking fixed and explained where it is always on); switching
model keeps what still applies and says what was dropped; a parameter Bedrock refused for the
model is marked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Button, Checkbox, Input, Select, Static, TextArea

from tui_chat.bedrock import catalog
from tui_chat.bedrock.catalog import model_change_notes
from tui_chat.bedrock.formats import choose_params, thinking_problem
from tui_chat.bedrock.models import ModelEntry
from tui_chat.params import (
    SEED_DEFAULTS,
    SPECS,
    THINKING_ADAPTIVE,
    ParamError,
    Params,
    check_thinking,
    format_stop_sequences,
    parse_value,
)
from tui_chat.ui.format import lifecycle_line
from tui_chat.ui.widgets.keys import OrderedInput

NUMERIC = ("max_tokens_to_sample", "temperature", "top_p", "top_k")
SAMPLING = ("temperature", "top_p", "top_k")
#: Shown for the model's own effort level in the Effort field.
DEFAULT_EFFORT = ""


def _label(name: str, hint: str) -> Text:
    text = Text(name, style="bold")
    text.append(f"  {hint}", style="dim")
    return text


def _number_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _hint_number(value: Any) -> str:
    """A number for a label: large ones with thousands separators (128,000)."""
    if isinstance(value, int) and value >= 10_000:
        return f"{value:,}"
    return _number_text(value)


_RANGE = re.compile(r"^a (whole )?number from (\S+) to (\S+)$")


def _compact(allowed: str) -> str:
    """'a number from 0 to 1' -> '0–1' (a whole number: 'whole 0–500'): the sidebar's
    problem line is one line of about thirty columns."""
    match = _RANGE.match(allowed)
    if not match:
        return allowed
    whole, low, high = match.groups()
    return f"{'whole ' if whole else ''}{low}–{high}"


def _thinking_text(value: str | int) -> str:
    return f"{value}" if value != "" else ""


class ParamSidebar(VerticalScroll):
    """The sidebar form. Posts `Changed` for each valid edit, `Adjusted` with what a model
    switch changed, and `ResetRequested`."""

    DEFAULT_CSS = """
    ParamSidebar { padding: 0 1; scrollbar-size-vertical: 1; }
    ParamSidebar .field { height: auto; margin-bottom: 1; }
    /* A checked field's spacing line is where its problem shows: nothing moves when one
       appears or goes. The whole message is said when the field is left. */
    ParamSidebar .field.-checked { margin-bottom: 0; }
    ParamSidebar .label { height: 1; }
    ParamSidebar .hint { height: auto; }
    ParamSidebar #hint-lifecycle { color: $text-warning; height: auto; }
    ParamSidebar .problem { color: $text-error; height: 1; text-wrap: nowrap;
                            text-overflow: ellipsis; }
    ParamSidebar .field.-invalid Input { background: $error-muted; }
    ParamSidebar Input { width: 100%; background: $boost; }
    ParamSidebar Input:focus { background: $primary-muted; }
    ParamSidebar Input:disabled { background: $surface; color: $text-disabled; }
    ParamSidebar Select { width: 100%; }
    ParamSidebar #system { height: 5; border: none; background: $boost; }
    ParamSidebar #system:focus { background: $primary-muted; }
    ParamSidebar #rules { color: $text-warning; height: auto; margin-bottom: 1; }
    ParamSidebar #sampling-note { color: $text-muted; height: auto; margin-bottom: 1; }
    ParamSidebar #cache { width: 100%; border: none; padding: 0; background: transparent; }
    ParamSidebar #reset { width: 100%; }
    """

    @dataclass
    class Changed(Message):
        name: str
        value: Any

    @dataclass
    class Adjusted(Message):
        """A model switch changed or dropped values; `notes` say which, in words."""

        notes: list[str]

    class ResetRequested(Message):
        pass

    def __init__(self, params: Params, suggestions: list[str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.params = params
        self._suggestions = suggestions
        self.invalid: dict[str, str] = {}
        #: Models from the account (None until fetched, or offline).
        self.models: dict[str, ModelEntry] | None = None
        #: What Bedrock refused for the current model (rule -> reason).
        self.refused: dict[str, str] = {}
        self._effort_levels: tuple[str, ...] = ()

    def set_models(self, models: list[ModelEntry]) -> None:
        """Offer the account's models that stream text first, then the catalog's."""
        self.models = {m.model_id: m for m in models}
        streaming = [m.model_id for m in models if m.streams_text]
        ordered = list(dict.fromkeys([*streaming, *self._suggestions]))
        self.query_one("#model", Input).suggester = SuggestFromList(ordered, case_sensitive=False)
        self._refresh_hints()

    def focus_first(self) -> None:
        """Focus the first field the model takes (temperature, else effort, else max tokens)."""
        fields = ("#temperature", "#effort", "#max_tokens_to_sample")
        first = next(f for f in fields if self.query_one(f).focusable or f == fields[-1])
        self.query_one(first).focus()

    def set_refused(self, refused: dict[str, str]) -> None:
        """Mark what Bedrock refused for the current model (rule -> reason)."""
        self.refused = dict(refused)
        self._refresh_hints()

    def compose(self):
        params = self.params
        with Vertical(classes="field -checked", id="field-model"):
            yield Static(Text("Model", style="bold"), classes="label")
            yield OrderedInput(
                params.model,
                id="model",
                suggester=SuggestFromList(self._suggestions, case_sensitive=False),
                placeholder="any Bedrock model id",
                compact=True,
            )
            yield Static("", classes="hint", id="hint-model")
            yield Static("", id="hint-lifecycle")
            yield Static("", classes="problem", id="problem-model")
        yield Static("", id="rules")
        with Vertical(classes="field", id="field-effort"):
            yield Static("", classes="label", id="label-effort")
            yield Select(
                [("default", DEFAULT_EFFORT)],
                value=DEFAULT_EFFORT,
                allow_blank=False,
                id="effort",
                compact=True,
            )
        with Vertical(classes="field -checked", id="field-thinking"):
            yield Static("", classes="label", id="label-thinking")
            yield OrderedInput(
                _thinking_text(params.thinking),
                id="thinking",
                placeholder="off",
                suggester=SuggestFromList(["off", "adaptive"], case_sensitive=False),
                compact=True,
            )
            yield Static("", classes="problem", id="problem-thinking")
        for name in NUMERIC:
            with Vertical(classes="field -checked", id=f"field-{name}"):
                yield Static("", classes="label", id=f"label-{name}")
                yield OrderedInput(_number_text(getattr(params, name)), id=name, compact=True)
                yield Static("", classes="problem", id=f"problem-{name}")
        yield Static("", id="sampling-note")
        with Vertical(classes="field -checked", id="field-stop_sequences"):
            yield Static(
                _label("Stop sequences", "a,b  \\, \\n \\t \\s"),
                classes="label",
            )
            yield OrderedInput(
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
        with Vertical(classes="field", id="field-cache"):
            yield Checkbox("Cache prompt", params.cache_prompt, id="cache", compact=True)
            yield Static("", classes="hint", id="hint-cache")
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
        self.query_one("#thinking", Input).value = _thinking_text(params.thinking)
        self.query_one("#stop_sequences", Input).value = format_stop_sequences(
            params.stop_sequences
        )
        system = self.query_one("#system", TextArea)
        if system.text != params.system:
            system.load_text(params.system)
        self.query_one("#cache", Checkbox).value = params.cache_prompt
        for name in list(self.invalid):
            self._mark(name, None)
        self._refresh_hints()

    # -- edits ---------------------------------------------------------------------------------

    def _limit(self) -> int | None:
        return catalog.lookup(self.params.model).max_output

    def on_input_changed(self, event: Input.Changed) -> None:
        name = event.input.id or ""
        if name not in (*NUMERIC, "stop_sequences", "model", "thinking"):
            return
        event.stop()
        self._apply_text(name, event.value)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id != "effort":
            return
        event.stop()
        value = event.value if isinstance(event.value, str) else DEFAULT_EFFORT
        if value != self.params.effort:
            self._set("effort", value)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id != "cache":
            return
        event.stop()
        if event.value != self.params.cache_prompt:
            self._set("cache_prompt", bool(event.value))

    def _set(self, name: str, value: Any) -> None:
        self.params = self.params.with_changes(**{name: value})
        self.post_message(self.Changed(name, value))
        self._refresh_hints()

    def _apply_text(self, name: str, text: str) -> None:
        try:
            if name == "thinking":
                value = check_thinking(text) if text.strip() else ""
                problem = thinking_problem(
                    value, catalog.lookup(self.params.model), self.params.max_tokens_to_sample
                )
                if problem is not None:
                    raise ParamError("thinking", text, problem)
            else:
                value = parse_value(name, text, self._limit())
        except ParamError as error:
            shown = text if len(text) <= 24 else text[:21] + "…"
            self._mark(name, f"must be {_compact(error.allowed)}; got {shown!r}")
            return
        self._mark(name, None)
        if name == "stop_sequences":
            value = tuple(value)
        if value == getattr(self.params, name):
            return
        old = self.params
        self.params = self.params.with_changes(**{name: value})
        self.post_message(self.Changed(name, value))
        if name == "model":
            self._switch_model(old, value)
        elif name == "max_tokens_to_sample":
            # A thinking budget must stay below max tokens.
            self._apply_text("thinking", self.query_one("#thinking", Input).value)
        self._refresh_hints()

    def _switch_model(self, old: Params, model: str) -> None:
        """Keep what still applies to the new model, fit or drop the rest, and say so."""
        changes, notes = model_change_notes(old, model)
        for name, value in changes.items():
            self.params = self.params.with_changes(**{name: value})
            self.post_message(self.Changed(name, value))
            if name in NUMERIC:
                self.query_one(f"#{name}", Input).value = _number_text(value)
            elif name == "thinking":
                self.query_one("#thinking", Input).value = _thinking_text(value)
        # The model decides the max tokens range and which thinking is valid.
        self._apply_text(
            "max_tokens_to_sample", self.query_one("#max_tokens_to_sample", Input).value
        )
        box = self.query_one("#thinking", Input)
        if "thinking" not in self.invalid:
            with box.prevent(Input.Changed):
                box.value = _thinking_text(self.params.thinking)
        self._apply_text("thinking", box.value)
        if notes:
            self.post_message(self.Adjusted(notes))

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area.id != "system":
            return
        event.stop()
        text = event.text_area.text
        if text != self.params.system:
            self._set("system", text)

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

    def on_descendant_blur(self, event) -> None:
        """Leaving a field that holds a refused value: say the whole problem once (its line
        in the sidebar may be cut)."""
        name = getattr(event.widget, "id", "") or ""
        if name in self.invalid:
            self.app.notify(
                f"{name}: {self.invalid[name]}", severity="warning", markup=False, timeout=6
            )

    def problems(self) -> list[str]:
        """One line per field holding a value that will not be sent."""
        return [f"{name}: {problem}" for name, problem in self.invalid.items()]

    # -- hints and rules -----------------------------------------------------------------------

    def _refresh_hints(self) -> None:
        info = catalog.lookup(self.params.model)
        name = info.name if info.known else "This model"
        self._refresh_numbers(info)
        self._refresh_model_hint(info)
        self._refresh_effort(info)
        self._refresh_thinking(info, name)
        self._refresh_cache(info, name)
        sampling_note = self.query_one("#sampling-note", Static)
        if not info.takes_sampling:
            instead = "tune effort" if info.effort_levels else "use the system prompt"
            sampling_note.update(Text(f"{name} sets its own sampling; {instead}."))
        sampling_note.display = not info.takes_sampling
        for key in SAMPLING:
            field = self.query_one(f"#{key}", Input)
            disabled = not info.takes_sampling or key in self.refused
            if key == "top_k" and not info.takes_top_k:
                disabled = True
            if field.disabled != disabled:
                field.disabled = disabled
        rules = self.query_one("#rules", Static)
        try:
            choice = choose_params(self.params, info, self.refused)
            omitted, reasons = choice.omitted, choice.reasons
        except ParamError:
            omitted, reasons = [], {}
        lines = []
        for key in omitted:
            if key in SAMPLING and not info.takes_sampling:
                continue  # said once, by the sampling note
            lines.append(f"{key} will be left out: {reasons.get(key, 'not taken')}.")
        for rule, reason in self.refused.items():
            if rule not in omitted:
                lines.append(f"Bedrock refused {rule} for this model ({reason.lower()}).")
        rules.update(Text("\n".join(lines)))
        rules.display = bool(lines)

    def _refresh_numbers(self, info: catalog.ModelInfo) -> None:
        for key in NUMERIC:
            spec = SPECS[key]
            high = info.max_output if key == "max_tokens_to_sample" else spec.high
            low = _number_text(spec.low)
            hint = f"{low}–{_hint_number(high)}" if high is not None else f"≥ {low}"
            default = info.defaults.get(key, getattr(SEED_DEFAULTS, key, None))
            if key != "max_tokens_to_sample" and default is not None:
                hint += f", default {_number_text(default)}"
            unused = key in SAMPLING and not info.takes_sampling
            if unused or (key == "top_k" and not info.takes_top_k):
                hint = "not sent"
            elif key in self.refused:
                hint = "refused by Bedrock"
            self.query_one(f"#label-{key}", Static).update(_label(spec.label, hint))

    def _refresh_model_hint(self, info: catalog.ModelInfo) -> None:
        kind = {"text-completion": "text completion", "messages": "Messages API"}.get(
            info.format, "Converse"
        )
        model_hint = f"{info.name}, {kind}" if info.known else f"unknown model, {kind}"
        entry = self.models.get(self.params.model) if self.models is not None else None
        if self.models is not None:
            if entry is None:
                if not self.params.model.startswith("arn:"):
                    model_hint += "; not in your account's list"
            elif entry.streams_text:
                model_hint += "; streams text"
            else:
                model_hint += f"; {entry.note}"
        self.query_one("#hint-model", Static).update(Text(model_hint, style="dim"))
        lifecycle = lifecycle_line(info, entry)
        hint = self.query_one("#hint-lifecycle", Static)
        hint.update(Text(lifecycle))
        hint.display = bool(lifecycle)

    def _refresh_effort(self, info: catalog.ModelInfo) -> None:
        field = self.query_one("#field-effort")
        levels = info.effort_levels
        field.display = bool(levels) and "effort" not in self.refused
        if not levels:
            return
        select = self.query_one("#effort", Select)
        default = info.effort_default or "high"
        options = [(f"default ({default})", DEFAULT_EFFORT), *((level, level) for level in levels)]
        if self._effort_levels != levels:
            self._effort_levels = levels
            select.set_options(options)
        wanted = self.params.effort if self.params.effort in levels else DEFAULT_EFFORT
        if select.value != wanted:
            with select.prevent(Select.Changed):
                select.value = wanted
        hint = f"{levels[0]}–{levels[-1]}, default {default}"
        self.query_one("#label-effort", Static).update(_label("Effort", hint))

    def _refresh_thinking(self, info: catalog.ModelInfo, name: str) -> None:
        field = self.query_one("#field-thinking")
        field.display = info.thinking != catalog.THINKING_NONE
        box = self.query_one("#thinking", Input)
        always = info.thinking == catalog.THINKING_ALWAYS
        if always:
            hint = "always on (adaptive)"
            if box.value != THINKING_ADAPTIVE:
                with box.prevent(Input.Changed):
                    box.value = THINKING_ADAPTIVE
        elif info.thinking == catalog.THINKING_BUDGET:
            hint = "off, or N ≥ 1024"
        elif info.thinking == catalog.THINKING_ADAPTIVE_ONLY:
            hint = "off or adaptive"
        else:
            hint = "off, adaptive or N"
        if box.disabled != always:
            box.disabled = always
        shown = _thinking_text(self.params.thinking)
        if not always and "thinking" not in self.invalid and box.value != shown:
            with box.prevent(Input.Changed):
                box.value = shown
        self.query_one("#label-thinking", Static).update(_label("Thinking", hint))

    def _refresh_cache(self, info: catalog.ModelInfo, name: str) -> None:
        box = self.query_one("#cache", Checkbox)
        supported = info.cache_min_tokens > 0 and "cache" not in self.refused
        if box.disabled == supported:
            box.disabled = not supported
        if supported:
            words = f"from {info.cache_min_tokens:,} tokens; cuts the cost of a long chat"
        elif "cache" in self.refused:
            words = "refused by Bedrock for this model"
        else:
            words = f"{name} has no prompt cache"
        self.query_one("#hint-cache", Static).update(Text(words, style="dim"))
