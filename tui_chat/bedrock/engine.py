"""Engine: one per process, holding the connection settings and handing out streams.

`Engine.stream(messages, params)` is the whole story for a caller: it builds the request for
the model's wire format, sends it through the shared boto3 client and yields typed events.
`prepare` and `start` split that in two for callers that need the request body (show request,
the saved `params`/`omitted`) or a handle to cancel from another thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tui_chat.bedrock import client as clients
from tui_chat.bedrock.events import Event
from tui_chat.bedrock.formats import Prepared, prepare
from tui_chat.bedrock.streaming import StreamHandle
from tui_chat.params import Params

if TYPE_CHECKING:
    from tui_chat.bedrock.client import BedrockSettings


class Engine:
    def __init__(
        self,
        bedrock: BedrockSettings | None = None,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._bedrock = bedrock
        self._explicit = {
            "access_key": access_key,
            "secret_key": secret_key,
            "region": region,
            "profile": profile,
        }
        self._env = env
        self._connection: clients.Connection | None = None
        self._lock = threading.Lock()

    @property
    def connection(self) -> clients.Connection:
        """Resolved on first use; raises BedrockError (no region, half a key pair)."""
        with self._lock:
            if self._connection is None:
                self._connection = clients.resolve(self._bedrock, env=self._env, **self._explicit)
            return self._connection

    @property
    def region(self) -> str:
        return self.connection.region

    def check_credentials(self) -> None:
        clients.check_credentials(self.connection, self._env)

    def runtime(self) -> Any:
        return clients.client(self.connection, "bedrock-runtime")

    def control(self) -> Any:
        return clients.client(self.connection, "bedrock")

    def prepare(self, messages: Sequence[Any], params: Params) -> Prepared:
        return prepare(messages, params)

    def start(self, prepared: Prepared) -> StreamHandle:
        """Send the request from a reader thread; the handle yields its events."""
        return StreamHandle(self.runtime(), prepared).start()

    def stream(self, messages: Sequence[Any], params: Params) -> Iterator[Event]:
        """Events of one reply, blocking; closing the iterator cancels the request."""
        handle = self.start(self.prepare(messages, params))
        try:
            yield from handle.events()
        finally:
            if not handle.finished:
                handle.cancel()
