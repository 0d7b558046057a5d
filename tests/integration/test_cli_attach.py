"""`tui-chat ask --attach FILE`: the same checks as the app (exit 2 naming the file and the
limit, nothing sent or saved), the right blocks for the model's API, and with --session a
copy of each file kept with the conversation."""

from __future__ import annotations

import base64
import stat

from tests.integration.test_cli import cli  # noqa: F401 - the fixture
from tests.unit.test_attachments import PDF, png


def test_a_bad_attachment_exits_2_naming_it_and_sends_nothing(cli, tmp_path):  # noqa: F811
    wide = tmp_path / "wide.png"
    wide.write_bytes(png(width=9000, height=10))
    result = cli.run("ask", "--attach", str(wide), "What is this?")
    assert result.code == 2
    assert "--attach:" in result.stderr and "wide.png is 9000x10 px" in result.stderr
    result = cli.run("ask", "--attach", str(tmp_path / "nowhere.pdf"), "What is this?")
    assert result.code == 2 and "nowhere.pdf: no such file" in result.stderr
    assert cli.emulator.requests == [] and cli.files() == []


def test_a_model_that_reads_no_images_is_a_usage_error(cli, tmp_path):  # noqa: F811
    image = tmp_path / "a.png"
    image.write_bytes(png())
    result = cli.run("ask", "--model", "anthropic.claude-v2", "--attach", str(image), "Hi")
    assert result.code == 2 and "a.png: Claude 2 reads no images" in result.stderr
    assert cli.emulator.requests == []


def test_attached_files_are_sent_and_kept_with_the_session(cli, tmp_path):  # noqa: F811
    image, pdf, code = tmp_path / "shot.png", tmp_path / "spec.pdf", tmp_path / "tool.py"
    image.write_bytes(png())
    pdf.write_bytes(PDF)
    code.write_text("print('hi')\n", encoding="utf-8")
    args = ["--attach", str(image), "--attach", str(pdf), "--attach", str(code)]
    result = cli.run("ask", "--session", "with files", *args, "What are these?")
    assert result.code == 0, result.stderr

    (request,) = cli.emulator.requests
    assert request.operation == "ConverseStream"  # a document: only Converse takes one
    content = request.body["messages"][0]["content"]
    assert base64.b64decode(content[0]["image"]["source"]["bytes"]) == image.read_bytes()
    assert content[1]["document"]["name"] == "spec" and content[1]["document"]["format"] == "pdf"
    assert content[2]["text"].startswith("tool.py:\n```py\nprint('hi')\n```")

    saved = cli.only_session()
    listed = saved["messages"][0]["attachments"]
    assert [a["name"] for a in listed] == ["shot.png", "spec.pdf", "tool.py"]
    folder = cli.sessions_dir / f"{saved['id']}.files"
    kept = sorted(folder.iterdir())
    assert len(kept) == 3 and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in kept)
    assert {p.read_bytes() for p in kept} == {image.read_bytes(), PDF, code.read_bytes()}

    # The next turn sends the earlier files again, from the stored copies.
    image.unlink()
    result = cli.run("ask", "--session", "with files", "And now?")
    assert result.code == 0, result.stderr
    again = cli.emulator.requests[-1].body["messages"][0]["content"]
    assert base64.b64decode(again[0]["image"]["source"]["bytes"]) == png()
