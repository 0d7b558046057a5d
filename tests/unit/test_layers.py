"""The layers (docs/ARCHITECTURE.md, "The rooms") hold: the import contracts in pyproject.toml
are kept, and the command line starts without the heavy libraries only its paths need."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = "('textual', 'boto3', 'botocore')"


def loaded_after(code: str) -> str:
    """The heavy packages loaded once `code` has run in a fresh interpreter."""
    probe = (
        f"import sys\n{code}\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_importing_the_command_line_loads_neither_textual_nor_boto3():
    assert loaded_after("import tui_chat.cli") == "[]"


def test_tui_chat_version_loads_neither_textual_nor_boto3():
    code = (
        "import contextlib, io\n"
        "from tui_chat.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    main(['--version'])\n"
        "assert out.getvalue().startswith('tui-chat '), out.getvalue()"
    )
    assert loaded_after(code) == "[]"


def test_the_import_contracts_are_kept():
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint_imports is None:
        pytest.fail("lint-imports is missing: `make test` installs import-linter")
    result = subprocess.run(
        [lint_imports, "--no-cache"], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
