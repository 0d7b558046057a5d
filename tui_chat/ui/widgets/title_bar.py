"""The title bar: the conversation's title on the left; usage, model, region, UNSAVED and
DEMO on the right, the title keeping its room as the terminal narrows."""

from __future__ import annotations

from rich.text import Text
from textual.containers import Horizontal
from textual.widgets import Static

from tui_chat.sanitize import for_display
from tui_chat.ui.format import model_name


class TitleBar(Horizontal):
    """One line: the conversation's title on the left; model, region and DEMO on the right."""

    DEFAULT_CSS = """
    TitleBar { height: 1; background: $panel; }
    TitleBar > #title { width: 1fr; padding: 0 1; text-style: bold;
                        text-wrap: nowrap; text-overflow: ellipsis; }
    TitleBar > #status { width: auto; padding: 0 1; color: $text-muted; }
    TitleBar > #usage { width: auto; padding: 0 1; color: $text-muted; }
    TitleBar > #badge { width: auto; padding: 0 1; background: $warning; color: $text;
                        text-style: bold; display: none; }
    TitleBar.-demo > #badge { display: block; }
    TitleBar > #unsaved { width: auto; padding: 0 1; background: $error; color: $text;
                          text-style: bold; display: none; }
    TitleBar.-unsaved > #unsaved { display: block; }
    """

    #: Columns the title keeps before the usage, then the region, give way to it.
    TITLE_MIN = 32

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._title = "tui-chat"
        self._usage = ""
        self._status = ("", "")  # in full, and the model name alone

    def compose(self):
        yield Static("tui-chat", id="title")
        yield Static("", id="usage")
        yield Static("", id="status")
        yield Static("UNSAVED", id="unsaved")
        yield Static("DEMO", id="badge")

    def set_title(self, title: str) -> None:
        self._title = f"tui-chat · {for_display(title)}"
        self.query_one("#title", Static).update(Text(self._title))

    def set_usage(self, words: str) -> None:
        self._usage = words
        self._fit()

    def set_status(self, model: str, region: str, endpoint: str = "") -> None:
        name = model_name(model) if model else "no model"
        parts = [name, for_display(region) or "region?"]
        if endpoint:
            parts.append(for_display(endpoint))
        self._status = (" · ".join(parts), name)
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """The title wins: the region and endpoint give way first, then the usage totals,
        then the model, so at least TITLE_MIN columns (or the whole title) stay readable."""
        badge = (6 if self.has_class("-demo") else 0) + (9 if self.has_class("-unsaved") else 0)
        room = self.size.width - badge - min(len(self._title) + 2, self.TITLE_MIN)
        full, short = self._status
        usage = self._usage
        for shown_usage, status in (
            (usage, full),
            (usage, short),
            ("", full),
            ("", short),
            ("", ""),
        ):
            needed = sum(len(part) + 2 for part in (shown_usage, status) if part)
            if needed <= room:
                break
        self.query_one("#usage", Static).update(Text(shown_usage))
        self.query_one("#usage", Static).display = bool(shown_usage)
        self.query_one("#status", Static).update(Text(status))
