"""What every benchmark shares: an isolated user environment, the emulator, processes on a
real pseudo-terminal, CPU and memory readings from /proc, and small statistics.

Every benchmark runs the app as a user would: a fresh XDG tree (config, data, cache, state)
in a temporary folder, AWS-looking credentials, and Bedrock's endpoints pointed at a local
emulator (the app reaches it through boto3 over HTTP, exactly as it reaches AWS).
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import platform
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: The checkout whose tui_chat is measured: this one, or TUI_CHAT_BENCH_SOURCE (a folder holding
#: a tui_chat package, e.g. a prototype copy). It goes first on every process's path.
SOURCE = Path(os.environ.get("TUI_CHAT_BENCH_SOURCE") or REPO).resolve()
if SOURCE != REPO and str(SOURCE) not in sys.path[:1]:
    sys.path.insert(0, str(SOURCE))
PYTHON = sys.executable
#: A model whose limits allow 40,000-token replies (64,000 max output) and that the app sends
#: through the Messages API, like most real use.
MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
MAX_TOKENS = 64000
REGION = "us-east-1"
COLS, ROWS = 120, 40
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- environment ---------------------------------------------------------------------------------


class BenchEnv:
    """A throwaway home for the app: config.toml, sessions, cache and state under one folder."""

    def __init__(self, prefix: str = "tui-chat-bench-", max_tokens: int = MAX_TOKENS) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=prefix))
        self.config_home = self.root / "config"
        self.data_home = self.root / "data"
        self.cache_home = self.root / "cache"
        self.state_home = self.root / "state"
        for folder in (self.config_home, self.data_home, self.cache_home, self.state_home):
            folder.mkdir(mode=0o700)
        self.sessions_dir = self.data_home / "tui-chat" / "sessions"
        config = self.config_home / "tui-chat" / "config.toml"
        config.parent.mkdir(parents=True)
        config.write_text(
            f'[defaults]\nmodel = "{MODEL}"\nmax_tokens_to_sample = {max_tokens}\n'
            "[bedrock]\nmax_attempts = 1\nread_timeout = 30\n",
            encoding="utf-8",
        )
        self.emulator_url = ""

    def env(self, **extra: str) -> dict[str, str]:
        """The environment for a process of the app (or of a benchmark child)."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "TUI_CHAT_", "XDG_", "TEXTUAL"))
        }
        env.update(
            XDG_CONFIG_HOME=str(self.config_home),
            XDG_DATA_HOME=str(self.data_home),
            XDG_CACHE_HOME=str(self.cache_home),
            XDG_STATE_HOME=str(self.state_home),
            AWS_ACCESS_KEY_ID="AKIDBENCHMARK",
            AWS_SECRET_ACCESS_KEY="benchmark-secret",
            AWS_REGION=REGION,
            AWS_EC2_METADATA_DISABLED="true",
            PYTHONPATH=os.pathsep.join(dict.fromkeys([str(SOURCE), str(REPO)])),
        )
        if SOURCE != REPO:
            env["TUI_CHAT_BENCH_SOURCE"] = str(SOURCE)
        if self.emulator_url:
            env["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = self.emulator_url
            env["AWS_ENDPOINT_URL_BEDROCK"] = self.emulator_url
        env.update(extra)
        return env

    def reset_data(self) -> None:
        """No saved conversations, and nothing remembered between launches."""
        shutil.rmtree(self.data_home, ignore_errors=True)
        self.data_home.mkdir(mode=0o700)
        self.clear_cache()

    def clear_cache(self) -> None:
        shutil.rmtree(self.cache_home, ignore_errors=True)
        self.cache_home.mkdir(mode=0o700)

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> BenchEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def app_command() -> list[str]:
    """The real app, as `tui-chat` starts it (PYTHONPATH may point at another checkout)."""
    return [PYTHON, "-m", "tui_chat"]


def reference_command(*args: str) -> list[str]:
    return [PYTHON, str(REPO / "benchmarks" / "reference_app.py"), *args]


# -- /proc ---------------------------------------------------------------------------------------


def run_child(module: str, args: list[str], env: dict[str, str], timeout: float) -> dict:
    """Run `python -m module args` (a benchmark's own process, off this one's GIL) and return
    the JSON object it printed last."""
    done = subprocess.run(
        [PYTHON, "-m", module, *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        raise RuntimeError(f"{module} child failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (all its threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


# -- a process on a pseudo-terminal ---------------------------------------------------------------


@dataclass
class Output:
    """Everything a process wrote to its terminal, with when each piece arrived."""

    data: bytearray = field(default_factory=bytearray)
    #: (monotonic time, offset in `data` after this read), one per read of the master.
    reads: list[tuple[float, int]] = field(default_factory=list)

    def time_at(self, offset: int) -> float:
        """When the byte at `offset` arrived."""
        lo, hi = 0, len(self.reads) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.reads[mid][1] > offset:
                hi = mid
            else:
                lo = mid + 1
        return self.reads[lo][0]

    def offset_at(self, when: float) -> int:
        """How many bytes had arrived by `when`."""
        count = 0
        for moment, offset in self.reads:
            if moment > when:
                break
            count = offset
        return count

    def bytes_between(self, start: float, end: float) -> int:
        return self.offset_at(end) - self.offset_at(start)

    def first(self, needle: bytes, start: int = 0) -> tuple[int, float] | None:
        """Offset and arrival time of the first complete `needle` at or after `start`."""
        at = self.data.find(needle, start)
        if at < 0:
            return None
        return at, self.time_at(at + len(needle) - 1)


class PtyProcess:
    """A program on a real pseudo-terminal of COLS x ROWS, its output drained continuously.

    The reader thread only appends what it reads, with a timestamp; every search happens on
    the recorded bytes, so the measurement costs the program nothing.
    """

    def __init__(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        cols: int = COLS,
        rows: int = ROWS,
        cwd: Path = SOURCE,
    ) -> None:
        self.output = Output()
        self._closed = False
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {**env, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
        env.pop("NO_COLOR", None)
        env["LINES"], env["COLUMNS"] = str(rows), str(cols)
        self.spawned = time.monotonic()
        self.process = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.pid = self.process.pid
        self._reader = threading.Thread(target=self._drain, name="pty-drain", daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        output = self.output
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                data = b""
            now = time.monotonic()
            with self._arrived:
                if not data:
                    output.reads.append((now, len(output.data)))
                    self._closed = True
                    self._arrived.notify_all()
                    return
                output.data += data
                output.reads.append((now, len(output.data)))
                self._arrived.notify_all()

    def write(self, data: bytes | str) -> float:
        """Type into the terminal; returns when it was written."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        os.write(self.master, data)
        return time.monotonic()

    def wait_for(self, needle: bytes, timeout: float, start: int = 0) -> tuple[int, float]:
        """Block until `needle` appears at or after offset `start`; (offset, arrival time)."""
        deadline = time.monotonic() + timeout
        scan = start
        with self._arrived:
            while True:
                found = self.output.first(needle, scan)
                if found is not None:
                    return found
                # Only new bytes need searching next time (the drain waits while we look).
                scan = max(start, len(self.output.data) - len(needle) + 1)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    tail = bytes(self.output.data[-600:])
                    raise TimeoutError(
                        f"{needle!r} not seen after {timeout}s; output ends {tail!r}"
                    )
                self._arrived.wait(min(remaining, 0.05))

    def wait_quiet(self, quiet: float, timeout: float) -> None:
        """Until nothing has been written for `quiet` seconds (or `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                last = self.output.reads[-1][0] if self.output.reads else self.spawned
            if time.monotonic() - last >= quiet:
                return
            time.sleep(quiet / 4)

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def close(self, keys: bytes = b"\x11", timeout: float = 5.0) -> None:
        """Quit with `keys` (ctrl+q), then terminate, then kill: this process only."""
        if self.process.poll() is None:
            try:
                self.write(keys)
                self.process.wait(timeout)
            except (OSError, subprocess.TimeoutExpired):
                self.process.terminate()
                try:
                    self.process.wait(2)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        self._reader.join(2)
        try:
            os.close(self.master)
        except OSError:
            pass

    def __enter__(self) -> PtyProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- statistics and the report --------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 40 samples is the 38th smallest)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no samples")
    rank = math.ceil(fraction * len(ordered) - 1e-9)
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            kb = int(re.findall(r"MemTotal:\s+(\d+)", info.read())[0])
            memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, IndexError):
        pass
    return (
        f"{cpu} x{os.cpu_count()}{memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
