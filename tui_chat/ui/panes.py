"""The side panes at run time: which the user wants (ctrl+l, ctrl+o, ctrl+f), in which order,
and the one open as a drawer over the messages; the rule that places them is ui/layout.py's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_chat.ui.layout import LIST, SIDEBAR, Arrangement, arrange, drawer_width
from tui_chat.ui.widgets.conversation_list import ConversationList, ConversationPane
from tui_chat.ui.widgets.sidebar import ParamSidebar

if TYPE_CHECKING:
    from textual.app import App

    from tui_chat.config import State

SELECTORS = {LIST: "#list-pane", SIDEBAR: "#sidebar"}


class Panes:
    def __init__(self, app: App, state: State) -> None:
        self.app = app
        self.state = state
        #: The side panes the user wants, most recently asked for first, and the one open as
        #: a drawer over the messages.
        self.wanted = {
            LIST: state.conversation_list is not False,
            SIDEBAR: state.sidebar is not False,
        }
        self.order = [LIST, SIDEBAR]
        self.drawer: str | None = None

    def arrange(self, width: int | None = None) -> Arrangement:
        """Show the panes the rule fits beside the messages, at their widths."""
        width = self.app.size.width if width is None else width
        arrangement = arrange(width, self.wanted, self.order, self.drawer)
        self.drawer = arrangement.drawer
        for pane, selector in SELECTORS.items():
            widget = self.app.query_one(selector)
            drawer = arrangement.drawer == pane
            pane_width = drawer_width(pane, width) if drawer else arrangement.width(pane)
            if widget.display != arrangement.shown(pane):
                widget.display = arrangement.shown(pane)
            widget.set_class(drawer, "-drawer")
            if pane_width:
                widget.styles.width = pane_width
        return arrangement

    def shown(self, pane: str) -> bool:
        return self.arrange().shown(pane)

    def toggle(self, pane: str) -> bool:
        """Show or hide a side pane; True when it is now shown. Shown, it comes first: the
        other gives way to it, and where it cannot fit beside the messages it opens as a
        drawer over them."""
        shown = self.arrange().shown(pane)
        self.wanted[pane] = not shown
        self.order = [pane, *(p for p in self.order if p != pane)]
        self.drawer = pane if not shown else None
        if pane == SIDEBAR:
            self.state.sidebar = self.wanted[pane]
        else:
            self.state.conversation_list = self.wanted[pane]
        return self.arrange().shown(pane)

    def close_drawer(self) -> bool:
        """Close the drawer, if one is open (True)."""
        if self.drawer is None:
            return False
        self.wanted[self.drawer] = False
        self.drawer = None
        self.arrange()
        return True

    def toggle_sidebar(self) -> None:
        """Show the sidebar and focus its first field, or hide it (focus back to the prompt)."""
        sidebar = self.app.query_one(ParamSidebar)
        if self.toggle(SIDEBAR):
            sidebar.focus_first()
        elif self.app.focused is None or sidebar in self.app.focused.ancestors_with_self:
            self.app.query_one("#prompt").focus()

    def toggle_list(self) -> None:
        """Show the conversation list and focus it, or hide it (focus back to the prompt)."""
        pane = self.app.query_one(ConversationPane)
        if self.toggle(LIST):
            self.app.query_one(ConversationList).focus()
        elif self.app.focused is None or pane in self.app.focused.ancestors_with_self:
            self.app.query_one("#prompt").focus()

    def filter(self) -> None:
        """Show the list with its filter box focused."""
        if not self.shown(LIST):
            self.toggle(LIST)
        self.app.query_one(ConversationPane).open_filter()
