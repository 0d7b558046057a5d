"""Running the `tui-chat` command in tests: what a run gave, and reading what it wrote to a
pseudo-terminal. Shared by the CLI and reliability tests."""

from __future__ import annotations

import os
import select
from dataclasses import dataclass


def read_terminal(primary: int, timeout: float = 30) -> bytes:
    """Everything written to the pseudo-terminal whose primary side is `primary`, until the
    child closes it (EIO or end of file); fails if nothing comes for `timeout` seconds."""
    data = b""
    while True:
        ready, _, _ = select.select([primary], [], [], timeout)
        assert ready, "no output from the terminal"
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the child closed the terminal
            return data
        if not chunk:
            return data
        data += chunk


@dataclass
class Result:
    code: int
    out: bytes
    err: bytes

    @property
    def stdout(self) -> str:
        return self.out.decode("utf-8")

    @property
    def stderr(self) -> str:
        return self.err.decode("utf-8")

    @property
    def err_lines(self) -> list[str]:
        return self.stderr.splitlines()

    def one_line_error(self, code: int) -> str:
        """The single `tui-chat: ...` line of a failed run (and the exit code is `code`)."""
        assert self.code == code, (self.code, self.stderr)
        assert "Traceback" not in self.stderr
        assert len(self.err_lines) == 1, self.stderr
        (line,) = self.err_lines
        assert line.startswith("tui-chat: "), line
        return line
