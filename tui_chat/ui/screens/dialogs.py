"""Small modal dialogs: ask for a line of text, or confirm something that cannot be undone."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from tui_chat.bedrock import catalog
from tui_chat.bedrock.models import ModelEntry
from tui_chat.sanitize import for_display
from tui_chat.ui.widgets.keys import OrderedInput

_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 64;
    max-width: 100%;
    height: auto;
    border: round $primary;
    background: $surface;
    padding: 0 1;
}}
{name} .question {{ margin-bottom: 1; }}
{name} Horizontal {{ height: auto; align-horizontal: right; margin-top: 1; }}
{name} Button {{ margin-left: 1; }}
"""


class AskText(ModalScreen[str | None]):
    """One line of text (e.g. a new title). Enter accepts, Escape cancels."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = _CSS.format(name="AskText")
    AUTO_FOCUS = "#answer"

    def __init__(self, question: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.placeholder = placeholder

    def compose(self):
        with Vertical():
            yield Static(Text(self.question), classes="question")
            yield OrderedInput(self.value, placeholder=self.placeholder, id="answer")
            yield Static(Text("Enter to accept · Escape to cancel", style="dim"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(ModalScreen[bool]):
    """Yes or no. `y`/Enter on Yes confirms; `n`/Escape declines. Focus starts on No."""

    BINDINGS: ClassVar = [
        Binding("escape,n", "answer(False)", "No"),
        Binding("y", "answer(True)", "Yes"),
    ]
    DEFAULT_CSS = _CSS.format(name="Confirm")
    AUTO_FOCUS = "#no"

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self):
        with Vertical():
            yield Static(Text(self.question), classes="question")
            with Horizontal():
                yield Button("No", id="no")
                yield Button(self.yes, id="yes", variant="error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class CodePicker(ModalScreen[int | None]):
    """Choose one of a reply's code blocks: returns its index."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = (
        _CSS.format(name="CodePicker")
        + """
    CodePicker OptionList { height: auto; max-height: 16; }
    """
    )
    AUTO_FOCUS = "OptionList"

    def __init__(self, blocks: list[tuple[str, str]]) -> None:
        super().__init__()
        self.blocks = blocks

    def compose(self):
        options = []
        for number, (language, code) in enumerate(self.blocks, 1):
            first = next((line for line in code.splitlines() if line.strip()), "")
            label = Text(f"{number}. ", style="bold")
            label.append(f"{language or 'code'} ", style="dim")
            label.append(for_display(first.strip())[:60])
            lines = code.count("\n")
            label.append(f"  ({lines} line{'s' if lines != 1 else ''})", style="dim")
            options.append(Option(label))
        with Vertical():
            yield Static(Text("Copy which code block?"), classes="question")
            yield OptionList(*options)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option_index)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _mark_lifecycle(label: Text, info: catalog.ModelInfo, entry: ModelEntry | None) -> None:
    """'  legacy, ends 2027-02-05' / '  end of life 2026-04-28' after a model's name (the
    account's own lifecycle first, then the catalogue's)."""
    status = (entry.lifecycle if entry is not None else "") or info.status
    if status not in ("legacy", "eol"):
        return
    when = (entry.end_of_life if entry is not None else "") or (
        info.eol.isoformat() if info.eol else ""
    )
    words = "end of life" if status == "eol" else "legacy"
    if when:
        words += f" {when}" if status == "eol" else f", ends {when}"
    label.append(f"  {words}", style="italic")


class ModelPicker(ModalScreen[str | None]):
    """Pick a model id: the account's models (marked by whether they stream text), or the
    catalog's suggestions when the account's list is not available."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = (
        _CSS.format(name="ModelPicker")
        + """
    ModelPicker > Vertical { width: 90; }
    ModelPicker OptionList { height: auto; max-height: 20; }
    """
    )
    AUTO_FOCUS = "OptionList"

    def __init__(self, models: list[ModelEntry] | None, fallback: list[str]) -> None:
        super().__init__()
        self.models = models
        self.fallback = fallback

    def compose(self):
        options = []
        if self.models is None:
            heading = "Models from the catalog (your account's list is not available offline)"
            for model_id in self.fallback:
                label = Text(model_id)
                _mark_lifecycle(label, catalog.lookup(model_id), None)
                options.append(Option(label, id=model_id))
        else:
            heading = "Models in your account (✓ streams text)"
            ordered = sorted(self.models, key=lambda m: (not m.streams_text, m.kind, m.name))
            for model in ordered:
                label = Text("✓ " if model.streams_text else "  ", style="bold")
                label.append(for_display(model.name))
                label.append(f"  {for_display(model.model_id)}", style="dim")
                if not model.streams_text:
                    label.append(f"  ({model.note})", style="italic dim")
                _mark_lifecycle(label, catalog.lookup(model.model_id), model)
                options.append(Option(label, id=model.model_id, disabled=not model.streams_text))
        with Vertical():
            yield Static(Text(heading), classes="question")
            yield OptionList(*options)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class UnsavedDialog(ModalScreen[tuple[str, str] | None]):
    """Quitting with text that could not be saved: write it to a folder (named here), print
    it on stdout once the terminal is restored, or quit without it. Escape goes back."""

    BINDINGS: ClassVar = [Binding("escape", "back", "Back")]
    DEFAULT_CSS = (
        _CSS.format(name="UnsavedDialog")
        + """
    UnsavedDialog > Vertical { width: 76; }
    UnsavedDialog Horizontal { height: auto; }
    """
    )
    AUTO_FOCUS = "#folder"

    def __init__(self, names: list[str], reason: str, folder: str) -> None:
        super().__init__()
        self.names = names
        self.reason = reason
        self.folder = folder

    def compose(self):
        what = ", ".join(self.names)
        with Vertical():
            yield Static(
                Text(
                    f"Not everything could be saved ({self.reason}): {what}. Where should it "
                    "go? Enter writes it into this folder (session files you can copy back "
                    "into the sessions folder later)."
                ),
                classes="question",
            )
            yield OrderedInput(self.folder, id="folder")
            with Horizontal():
                yield Button("Write there", id="folder-button", variant="primary")
                yield Button("Print on exit", id="stdout")
                yield Button("Quit without it", id="discard", variant="error")
            yield Static(Text("Escape goes back to the app", style="dim"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(("folder", event.value))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "folder-button":
            self.dismiss(("folder", self.query_one("#folder", Input).value))
        elif event.button.id == "stdout":
            self.dismiss(("stdout", ""))
        else:
            self.dismiss(("discard", ""))

    def action_back(self) -> None:
        self.dismiss(None)
