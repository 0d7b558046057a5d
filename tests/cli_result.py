"""What a run of the `tui-chat` command gave: shared by the CLI and reliability tests."""

from __future__ import annotations

from dataclasses import dataclass


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
