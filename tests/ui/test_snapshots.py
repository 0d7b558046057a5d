"""Layout snapshots (pytest-textual-snapshot). Update with `pytest --snapshot-update` after a
deliberate change, and look at the report before committing the new SVGs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui_chat.conversation import Conversation, Message
from tui_chat.params import Params
from tui_chat.ui.app import WARM_UP_DELAY

from .conftest import MODEL

REPLY = """Here is a short answer with **bold**, `inline code` and a list:

- first point
- second point

```python
def greet(name: str) -> str:
    return f"Hello, {name}!"
```

That is all."""


@pytest.fixture
def seeded(sessions):
    when = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)
    conversation = Conversation(id="20251103T093000Z-abcdef", params=Params(model=MODEL))
    conversation.created = conversation.updated = when
    conversation.messages = [
        Message(role="user", content="Show me a greeting function", created=when),
        Message(
            role="assistant",
            content=REPLY,
            created=when + timedelta(seconds=1),
            stop_reason="end_turn",
            params={"model": MODEL, "max_tokens_to_sample": 1024, "temperature": 0.3},
            usage={
                "input_tokens": 12,
                "output_tokens": 58,
                "latency_ms": 900,
                "first_token_ms": 300,
            },
        ),
    ]
    conversation.refresh_title()
    sessions.save(conversation)
    return conversation


async def settled(pilot) -> None:
    """Until the background start-up work (client, model list, file check) is done, so the
    snapshot never depends on how quickly it ran."""
    await pilot.pause(WARM_UP_DELAY + 0.05)
    await pilot.app.workers.wait_for_complete()
    for widget in pilot.app.query("PromptInput, Input, TextArea"):
        widget.cursor_blink = False  # a blinking cursor would be caught on or off at random
    await pilot.pause()


def test_three_panes_at_120x40(snap_compare, make_app, seeded):
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=settled)


def test_80x24_with_the_sidebar_toggled(snap_compare, make_app, seeded):
    async def toggle(pilot):
        await settled(pilot)
        await pilot.press("ctrl+o")

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=toggle)


def test_sidebar_with_an_invalid_value(snap_compare, make_app, seeded):
    async def type_bad_value(pilot):
        await settled(pilot)
        pilot.app.query_one("#temperature").value = "1.7"
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=type_bad_value)


def test_help_screen(snap_compare, make_app, seeded):
    async def help_screen(pilot):
        await settled(pilot)
        await pilot.press("f1")

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=help_screen)
