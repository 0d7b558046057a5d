"""The pane rule: the messages keep 50 columns; panes give way in order and come back."""

import pytest

from tui_chat.ui.layout import LIST, MESSAGES_MIN, SIDEBAR, Arrangement, arrange

BOTH = {LIST: True, SIDEBAR: True}


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (160, Arrangement(list=28, sidebar=34)),
        (112, Arrangement(list=28, sidebar=34)),
        (104, Arrangement(list=24, sidebar=30)),  # both shrink before either goes
        (103, Arrangement(list=28)),  # the sidebar gives way first
        (80, Arrangement(list=28)),
        (74, Arrangement(list=24)),
        (73, Arrangement()),  # then the list
        (40, Arrangement()),
    ],
)
def test_panes_give_way_in_order_as_the_terminal_narrows(width, expected):
    arrangement = arrange(width, BOTH, [LIST, SIDEBAR])
    assert arrangement == expected
    shown = arrangement.list + arrangement.sidebar
    assert width - shown >= min(MESSAGES_MIN, width)


def test_the_pane_asked_for_last_comes_first():
    assert arrange(80, BOTH, [SIDEBAR, LIST]) == Arrangement(sidebar=30)
    assert arrange(100, BOTH, [SIDEBAR, LIST]) == Arrangement(sidebar=34)


def test_a_pane_that_cannot_fit_opens_as_a_drawer_only_when_asked_for():
    assert arrange(60, BOTH, [SIDEBAR, LIST]) == Arrangement()
    assert arrange(60, BOTH, [SIDEBAR, LIST], drawer=SIDEBAR) == Arrangement(drawer=SIDEBAR)
    # Once there is room, the drawer becomes a pane beside the messages.
    assert arrange(90, BOTH, [SIDEBAR, LIST], drawer=SIDEBAR) == Arrangement(sidebar=34)


def test_unwanted_panes_stay_hidden_at_any_width():
    assert arrange(200, {LIST: False, SIDEBAR: True}, [LIST, SIDEBAR]) == Arrangement(sidebar=34)
    assert arrange(200, {LIST: False, SIDEBAR: False}, [LIST, SIDEBAR]) == Arrangement()
