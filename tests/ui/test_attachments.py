"""Attaching files (F4): the dialog and its completion, the model's rules at once, the chips
above the prompt, the files sent (image and document blocks, a text file in the prompt), kept
beside the session file, shown on the sent prompt, and sent again by ctrl+r and compare mode."""

from __future__ import annotations

import json
import stat
import struct
import tomllib
import zlib
from pathlib import Path

from textual.widgets import Input, Static

from tui_chat.ui.screens.attach import AttachDialog, complete_path
from tui_chat.ui.screens.compare import CompareScreen
from tui_chat.ui.screens.dialogs import Confirm
from tui_chat.ui.widgets.chips import AttachmentChips, Chip
from tui_chat.ui.widgets.message_view import UserTurn
from tui_chat.ui.widgets.prompt import PromptInput

from .conftest import rendered_text, send, wait_for, wait_for_screen, wait_idle

CLAUDE_2 = "anthropic.claude-v2"


def png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG of `width` x `height` red pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
PYTHON = "def greet(name):\n    return f'hello {name}'\n"


def files(folder: Path) -> dict[str, Path]:
    """A small image, a PDF and a Python file in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {
        "png": folder / "chart.png",
        "pdf": folder / "report.pdf",
        "py": folder / "greet.py",
    }
    made["png"].write_bytes(png())
    made["pdf"].write_bytes(PDF)
    made["py"].write_text(PYTHON, encoding="utf-8")
    return made


async def open_dialog(pilot) -> AttachDialog:
    await pilot.press("f4")
    await wait_for_screen(pilot, AttachDialog, "#attach-path")
    return pilot.app.screen


async def attach(pilot, path: str | Path) -> AttachDialog:
    """F4, the path, Enter; the dialog (still open when the file was refused)."""
    dialog = await open_dialog(pilot)
    dialog.query_one("#attach-path", Input).value = str(path)
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    return dialog


def chip_texts(app) -> list[str]:
    return [rendered_text(chip) for chip in app.query(Chip)]


def problem(dialog: AttachDialog) -> str:
    return rendered_text(dialog.query_one("#attach-problem", Static))


async def test_three_files_are_sent_kept_and_shown_again(make_app, emulator, sessions, tmp_path):
    made = files(tmp_path / "work")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for path in made.values():
            await attach(pilot, path)
            await wait_for(pilot, lambda: not isinstance(app.screen, AttachDialog))
        await wait_for(pilot, lambda: len(app.query(Chip)) == 3)
        chips = chip_texts(app)
        assert "chart.png · PNG" in chips[0] and "report.pdf · PDF" in chips[1]
        assert "greet.py · text" in chips[2]
        assert app.query_one(AttachmentChips).display
        await send(pilot, "What do these say?")
        await wait_idle(pilot, app, timeout=20)
        request = emulator.requests[-1]
        assert request.operation == "ConverseStream"  # a document goes through Converse
        blocks = request.body["messages"][-1]["content"]
        assert any(block.get("image", {}).get("format") == "png" for block in blocks)
        assert any(block.get("document", {}).get("format") == "pdf" for block in blocks)
        text = "\n".join(block.get("text", "") for block in blocks)
        assert "What do these say?" in text and "```py\n" + PYTHON in text
        assert not app.query(Chip) and not app.query_one(AttachmentChips).display
        turn = app.query(UserTurn).last()
        assert "chart.png · PNG" in rendered_text(turn) and "(missing)" not in rendered_text(turn)
        conversation_id = app.conversation.id
    data = tomllib.loads(sessions.path(conversation_id).read_text("utf-8"))
    names = [a["name"] for a in data["messages"][0]["attachments"]]
    assert names == ["chart.png", "report.pdf", "greet.py"]
    stored = sorted(sessions.files_dir(conversation_id).iterdir())
    assert len(stored) == 3
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in stored)
    assert {path.read_bytes() for path in stored} == {p.read_bytes() for p in made.values()}

    again = make_app()
    async with again.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: again.conversation.id == conversation_id)
        await wait_for(pilot, lambda: bool(again.query(UserTurn)))
        shown = rendered_text(again.query(UserTurn).first())
        assert "chart.png · PNG" in shown and "report.pdf · PDF" in shown
        assert "greet.py · text" in shown and "(missing)" not in shown


async def test_bad_files_are_refused_in_the_dialog(make_app, emulator, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "wide.png").write_bytes(png(9000, 10))
    (folder / "blob.bin").write_bytes(bytes(range(256)) * 4)
    cases = {
        str(folder): "",
        str(folder / "nothing-here.txt"): "no such file",
        str(folder / "wide.png"): "9000x10 px",
        str(folder / "blob.bin"): "UTF-8 text files",
    }
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        prompt = app.query_one(PromptInput)
        prompt.load_text("my draft")
        for path, words in cases.items():
            dialog = await attach(pilot, path)
            await pilot.pause()
            assert app.screen is dialog, path
            said = problem(dialog)
            assert said.strip() and words in said, (path, said)
            assert dialog.query_one("#attach-path", Input).value == path  # kept to fix it
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, AttachDialog))
        assert app.attaching.pending == [] and not app.query(Chip)
        assert prompt.text == "my draft"
        assert not emulator.requests


async def test_a_model_without_images_refuses_an_image(make_app, emulator, tmp_path):
    made = files(tmp_path / "work")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.query_one("#model", Input).value = CLAUDE_2
        await wait_for(pilot, lambda: app.conversation.params.model == CLAUDE_2)
        dialog = await attach(pilot, made["png"])
        assert app.screen is dialog
        assert "Claude 2 reads no images" in problem(dialog)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, AttachDialog))
        assert app.attaching.pending == []
        await attach(pilot, made["py"])  # a text file goes in the prompt: any model takes it
        await wait_for(pilot, lambda: len(app.query(Chip)) == 1)


async def test_delete_on_a_chip_regenerate_and_delete_the_conversation(
    make_app, emulator, sessions, tmp_path
):
    made = files(tmp_path / "work")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await attach(pilot, made["png"])
        await attach(pilot, made["py"])
        await wait_for(pilot, lambda: len(app.query(Chip)) == 2)
        app.query(Chip).last().focus()
        await pilot.press("delete")
        await wait_for(pilot, lambda: len(app.query(Chip)) == 1)
        assert "chart.png" in chip_texts(app)[0]
        assert any(n.message == "Removed greet.py." for n in app._notifications)
        assert app.focused is app.query_one(Chip)  # the next chip, for another Delete
        await send(pilot, "Describe the picture")
        await wait_idle(pilot, app, timeout=20)
        first = emulator.requests[-1]
        image = first.body["messages"][-1]["content"]
        assert any(block.get("type") == "image" for block in image)  # the Messages API
        assert "greet.py" not in json.dumps(first.body)
        count = len(emulator.requests)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(emulator.requests) > count)
        await wait_idle(pilot, app, timeout=20)
        again = emulator.requests[-1].body["messages"][0]["content"]
        assert again == image
        conversation_id = app.conversation.id
        folder = sessions.files_dir(conversation_id)
        assert len(list(folder.iterdir())) == 1
        app.action_delete()
        await wait_for_screen(pilot, Confirm, "#yes")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.conversation.id != conversation_id)
        assert not folder.exists() and not sessions.path(conversation_id).exists()


async def test_show_request_abbreviates_the_image(make_app, emulator, tmp_path):
    from tui_chat.ui.screens.request import RequestScreen

    made = files(tmp_path / "work")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await attach(pilot, made["png"])
        await wait_for(pilot, lambda: len(app.query(Chip)) == 1)
        app.action_show_request()  # nothing sent yet: the next request, with the file
        await wait_for_screen(pilot, RequestScreen, "TextArea")
        assert "of base64, abbreviated" in app.screen.json
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RequestScreen))
        await send(pilot, "What is it?")
        await wait_idle(pilot, app, timeout=20)
        app.action_show_request()
        await wait_for_screen(pilot, RequestScreen, "TextArea")
        body = json.loads(app.screen.json)
        blocks = body["messages"][-1]["content"]
        image = next(block for block in blocks if block.get("type") == "image")
        assert image["source"]["data"].endswith("of base64, abbreviated>")


async def test_switching_conversation_or_ctrl_n_drops_the_files(make_app, emulator, tmp_path):
    made = files(tmp_path / "work")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "first")
        await wait_idle(pilot, app)
        await attach(pilot, made["py"])
        await wait_for(pilot, lambda: len(app.query(Chip)) == 1)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: not app.query(Chip))
        assert app.attaching.pending == []
        said = [n.message for n in app._notifications]
        assert any("no longer attached: greet.py" in message for message in said)


async def test_enter_on_a_sent_prompt_says_where_its_files_are(
    make_app, emulator, sessions, tmp_path
):
    made = files(tmp_path / "work")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await attach(pilot, made["py"])
        await send(pilot, "Read this")
        await wait_idle(pilot, app)
        turn = app.query(UserTurn).last()
        turn.focus()
        await pilot.press("enter")
        attachment = app.conversation.messages[0].attachments[0]
        path = sessions.file_path(app.conversation.id, attachment)
        assert any(str(path) in n.message for n in app._notifications)
        path.unlink()
        await app.show(app.conversation)
        await pilot.pause()
        assert "(missing)" in rendered_text(app.query(UserTurn).last())


async def test_compare_mode_sends_and_keeps_the_files(make_app, emulator, sessions, tmp_path):
    made = files(tmp_path / "work")
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await attach(pilot, made["png"])
        await wait_for(pilot, lambda: len(app.query(Chip)) == 1)
        await pilot.press("f3")
        await wait_for_screen(pilot, CompareScreen, "#compare-prompt")
        screen = app.screen
        screen.query_one("#compare-prompt", Input).value = "What colour is it?"
        screen.query_one("#compare-prompt").focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(screen.columns) == 2)
        await wait_for(pilot, lambda: all(c.done for c in screen.columns), timeout=20)
        bodies = [r.body for r in emulator.requests[-2:]]
        for body in bodies:
            assert any(b.get("type") == "image" for b in body["messages"][-1]["content"])
        user = app.conversation.messages[-1]
        assert [a.name for a in user.attachments] == ["chart.png"]
        assert sessions.read_file(app.conversation.id, user.attachments[0]) == png()
        assert not app.query(Chip)
        await pilot.press("1")
        await wait_for(pilot, lambda: not isinstance(app.screen, CompareScreen))


async def test_completion_of_paths(make_app, emulator, tmp_path, monkeypatch):
    folder = tmp_path / "typing"
    (folder / "beta").mkdir(parents=True)
    (folder / "alpha.txt").write_text("a", encoding="utf-8")
    (folder / "beta" / "inner.md").write_text("b", encoding="utf-8")
    (folder / ".hidden").write_text("h", encoding="utf-8")
    assert complete_path("al", folder) == "alpha.txt"
    assert complete_path("b", folder) == "beta/"
    assert complete_path("beta/", folder) == "beta/inner.md"
    assert complete_path("alpha.txt", folder) is None
    assert complete_path("", folder) is None and complete_path("z", folder) is None
    assert complete_path(".h", folder) == ".hidden"
    assert complete_path(f"{folder}/al", Path("/")) == f"{folder}/alpha.txt"
    monkeypatch.chdir(folder)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await open_dialog(pilot)
        field = dialog.query_one("#attach-path", Input)
        await pilot.press("a", "l")
        await wait_for(pilot, lambda: field._suggestion == "alpha.txt")
        await pilot.press("tab")
        assert field.value == "alpha.txt"
        field.value = "b"
        await wait_for(pilot, lambda: field._suggestion == "beta/")
        await pilot.press("end")
        assert field.value == "beta/"
        await wait_for(pilot, lambda: field._suggestion == "beta/inner.md")
        await pilot.press("right")
        assert field.value == "beta/inner.md"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.query(Chip)) == 1)
        assert "inner.md · MD" in chip_texts(app)[0]


async def test_the_palette_attaches_and_says_where_the_files_are(make_app, emulator, tmp_path):
    made = files(tmp_path / "work")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"attach file")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for_screen(pilot, AttachDialog, "#attach-path")
        app.screen.query_one("#attach-path", Input).value = str(made["py"])
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.query(Chip)) == 1)
        await send(pilot, "Read it")
        await wait_idle(pilot, app)
        app.query_one(PromptInput).focus()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"where are the attached")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        folder = str(app.store.files_dir(app.conversation.id))
        assert any(folder in str(n.message) for n in app._notifications)


async def test_editing_a_prompt_brings_its_files_back(make_app, emulator, sessions, tmp_path):
    made = files(tmp_path / "work")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await attach(pilot, made["py"])
        await send(pilot, "Read it")
        await wait_idle(pilot, app)
        original = app.conversation
        app.query(UserTurn).last().focus()
        await pilot.press("e")
        await wait_for(pilot, lambda: len(app.query(Chip)) == 1)
        await pilot.press("escape")  # the edit is left: so are its files
        await wait_for(pilot, lambda: not app.query(Chip))
        app.query(UserTurn).last().focus()
        await pilot.press("e")
        await wait_for(pilot, lambda: len(app.query(Chip)) == 1)
        app.query_one(PromptInput).load_text("Read it again")
        await pilot.press("enter")
        await wait_idle(pilot, app)
        assert app.conversation is not original
        user = app.conversation.messages[0]
        assert user.content == "Read it again"
        assert [a.name for a in user.attachments] == ["greet.py"]
        assert sessions.read_file(app.conversation.id, user.attachments[0]) is not None
        assert "def greet(name)" in json.dumps(emulator.requests[-1].body)
        assert [a.name for a in original.messages[0].attachments] == ["greet.py"]
