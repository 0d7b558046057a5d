"""Which side panes fit beside the messages, at what width: one rule for every resize.

The messages keep at least MESSAGES_MIN columns (or the whole width, below that). The panes the
user wants (the conversation list, the parameter sidebar) are placed in order of priority, the
one asked for last first; each takes its full width when there is room, else shrinks to its
minimum, else gives way. So as the terminal narrows the sidebar goes first, then the list, and
both come back in the reverse order as it widens, without the user asking again. A pane asked
for (ctrl+o, ctrl+l) where it cannot fit even at its minimum opens as a drawer over the
messages instead, until it is closed or the terminal is wide enough for it.
"""

from __future__ import annotations

from dataclasses import dataclass

MESSAGES_MIN = 50
LIST, SIDEBAR = "list", "sidebar"
#: Full and smallest widths of each pane.
WIDTHS = {LIST: (28, 24), SIDEBAR: (34, 30)}


@dataclass(frozen=True)
class Arrangement:
    """Each pane's width beside the messages (0: hidden), and the pane shown as a drawer over
    them, if any."""

    list: int = 0
    sidebar: int = 0
    drawer: str | None = None

    def width(self, pane: str) -> int:
        return self.list if pane == LIST else self.sidebar

    def shown(self, pane: str) -> bool:
        return self.width(pane) > 0 or self.drawer == pane


def arrange(
    width: int, wanted: dict[str, bool], order: list[str], drawer: str | None = None
) -> Arrangement:
    """Fit the wanted panes beside at least MESSAGES_MIN columns of messages, in `order`
    (most wanted first). `drawer` is a pane that may open over the messages when it cannot
    fit beside them (the one just asked for, or the drawer already open)."""
    room = width - min(MESSAGES_MIN, width)
    placed: dict[str, int] = {}
    for pane in order:
        if not wanted.get(pane):
            continue
        least = WIDTHS[pane][1]
        used = sum(placed.values())
        if room - used >= least:
            placed[pane] = least
    # Give the room left to the placed panes, most wanted first, up to their full width.
    spare = room - sum(placed.values())
    for pane in order:
        if pane in placed and spare > 0:
            grow = min(spare, WIDTHS[pane][0] - placed[pane])
            placed[pane] += grow
            spare -= grow
    if drawer is not None and wanted.get(drawer) and drawer not in placed:
        # The drawer covers part of the messages; the other pane gives it the screen.
        return Arrangement(drawer=drawer)
    return Arrangement(list=placed.get(LIST, 0), sidebar=placed.get(SIDEBAR, 0))


def drawer_width(pane: str, width: int) -> int:
    """A drawer's width: the pane's full width, leaving a few columns of the messages."""
    return max(1, min(WIDTHS[pane][0], width - 4))
