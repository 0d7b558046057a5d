"""Resizing keeps the messages readable: panes give way in order and come back, streaming or
not, and a pane asked for on a narrow terminal opens as a drawer."""

from __future__ import annotations

from tui_chat.emulator import Fault

from .conftest import send, wait_for, wait_idle


def widths(app) -> tuple[int, int, int]:
    """(list, messages, sidebar) widths as laid out, 0 for a hidden pane."""
    list_pane, sidebar = app.query_one("#list-pane"), app.query_one("#sidebar")
    return (
        list_pane.region.width if list_pane.display else 0,
        app.query_one("#main").region.width,
        sidebar.region.width if sidebar.display else 0,
    )


async def test_resizing_while_a_reply_streams_keeps_fifty_columns(make_app, emulator):
    hold = Fault("stall", after_tokens=5, seconds=60)
    emulator.add_fault(hold)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        assert widths(app) == (28, 58, 34)
        await send(pilot, "hello")
        await wait_for(pilot, lambda: bool(app.conversation.messages[-1].content))
        for size, expected in [
            ((70, 20), (0, 70, 0)),  # both gave way
            ((75, 20), (25, 50, 0)),  # the list comes back first, shrunk
            ((60, 20), (0, 60, 0)),
            ((104, 30), (24, 50, 30)),  # both, each at its least width
            ((80, 24), (28, 52, 0)),
            ((120, 40), (28, 58, 34)),  # widening restores the sidebar too
        ]:
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert widths(app) == expected, size
            assert app.streams, "still streaming"
        hold.release()
        await wait_idle(pilot, app)


async def test_toggles_on_a_narrow_terminal_never_squeeze_the_messages(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.press("ctrl+o")  # the sidebar asked for: the list gives way to it
        await pilot.pause()
        assert widths(app) == (0, 50, 30)
        await pilot.press("ctrl+l")  # now the list: the sidebar gives way
        await pilot.pause()
        assert widths(app) == (28, 52, 0)
        await pilot.press("ctrl+l")  # the list hidden: the sidebar, still wanted, returns
        await pilot.pause()
        assert widths(app) == (0, 50, 30)
        await pilot.resize_terminal(130, 30)
        await pilot.pause()
        assert widths(app) == (0, 96, 34)  # the list stays hidden: it was turned off


async def test_a_pane_asked_for_where_it_cannot_fit_opens_as_a_drawer(make_app):
    app = make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        assert widths(app) == (0, 60, 0)
        await pilot.press("ctrl+o")
        await pilot.pause()
        sidebar = app.query_one("#sidebar")
        assert sidebar.display and sidebar.has_class("-drawer")
        assert app.query_one("#main").region.width == 60  # the messages keep their width
        assert sidebar.region.right == 60 and sidebar.region.width == 34
        assert app.focused in sidebar.query("*")
        await pilot.press("escape")
        await pilot.pause()
        assert not sidebar.display
        assert app.focused is app.query_one("#prompt")
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.resize_terminal(100, 30)  # room now: the drawer becomes a pane
        await pilot.pause()
        assert not sidebar.has_class("-drawer") and widths(app) == (0, 66, 34)
