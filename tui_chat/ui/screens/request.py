"""Show request: the exact JSON body of a request and boto3 code that sends the same one."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from tui_chat.bedrock.formats import Prepared, boto3_snippet, request_json
from tui_chat.ui.messages import CopyText
from tui_chat.ui.widgets.footer import ReadyFooter


class RequestScreen(ModalScreen[None]):
    BINDINGS: ClassVar = [
        Binding("escape", "dismiss", "Close"),
        Binding("j", "copy('json')", "Copy JSON"),
        Binding("p", "copy('python')", "Copy Python"),
    ]
    AUTO_FOCUS = "#python"
    DEFAULT_CSS = """
    RequestScreen { align: center middle; }
    RequestScreen > Vertical {
        width: 100;
        max-width: 100%;
        height: 100%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    RequestScreen TextArea { height: 1fr; }
    RequestScreen .heading { text-style: bold; }
    """

    def __init__(self, prepared: Prepared, region: str, heading: str) -> None:
        super().__init__()
        self.prepared = prepared
        self.json = request_json(prepared)
        self.python = boto3_snippet(prepared, region)
        self.heading = heading

    def compose(self):
        with Vertical():
            title = Text(self.heading, style="bold")
            title.append(f"\n{self.prepared.operation} · {self.prepared.model_id}", style="dim")
            yield Static(title, classes="heading")
            yield TextArea(self.python, id="python", read_only=True, soft_wrap=False)
            yield Static(
                Text("j copies the JSON body · p copies the Python · Escape closes", style="dim")
            )
        yield ReadyFooter()

    def action_copy(self, what: str) -> None:
        text = self.json if what == "json" else self.python
        label = "the JSON body" if what == "json" else "the Python code"
        # The app says how it was copied (tmux's buffer, OSC 52...), or that it was not.
        self.post_message(CopyText(text, label))
