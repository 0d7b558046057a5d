"""The seed-compatible facade: `AnthropicBedrock().Completion.create(...)` and
`.ChatCompletion.create(...)`, with exactly the seed documents' defaults.

    from tui_chat.bedrock import AnthropicBedrock
    anthropic = AnthropicBedrock(access_key=..., secret_key=..., region=...)
    for chunk in anthropic.Completion.create(model="anthropic.claude-v2", prompt="Hi",
                                             max_tokens_to_sample=300, stream=True):
        print(chunk["completion"], end="")

Bad values raise ParamError (a ValueError) before any request; Bedrock failures raise
BedrockError. Any model id works: newer models are reached through their own wire format.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from tui_chat.bedrock.engine import Engine
from tui_chat.bedrock.events import Failure, Stop, TextDelta
from tui_chat.bedrock.formats import ASSISTANT, HUMAN
from tui_chat.params import ParamError, Params, check_stop_sequences, check_text

_TURN = re.compile(r"\n\n(Human|Assistant):")


def _params(
    model: Any,
    max_tokens_to_sample: Any,
    stop_sequences: Any,
    temperature: Any,
    top_p: Any,
    top_k: Any,
    system: str = "",
) -> Params:
    model = check_text("model", model)
    return Params(
        model=model,
        max_tokens_to_sample=max_tokens_to_sample,
        temperature=temperature,
        top_p=top_p,
        top_k=top_k,
        stop_sequences=tuple(check_stop_sequences(list(stop_sequences or []))),
        system=system,
    )


def prompt_to_messages(prompt: str) -> tuple[str, list[dict[str, str]]]:
    """Split a text-completion prompt into (system text, turns). A bare prompt (no Human or
    Assistant markers) is one user turn."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise ParamError("prompt", prompt, "a non-empty string")
    parts = _TURN.split(prompt)
    if len(parts) == 1:
        return "", [{"role": "user", "content": prompt}]
    system = parts[0].strip()
    messages = []
    for marker, text in zip(parts[1::2], parts[2::2], strict=True):
        role = "user" if marker == "Human" else "assistant"
        messages.append({"role": role, "content": text.strip()})
    if messages and messages[-1]["role"] == "assistant" and not messages[-1]["content"]:
        messages.pop()
    return system, messages


def _chunks(engine: Engine, messages: Sequence[Any], params: Params) -> Iterator[dict[str, Any]]:
    for event in engine.stream(messages, params):
        if isinstance(event, TextDelta):
            yield {"completion": event.text, "stop_reason": None, "model": params.model}
        elif isinstance(event, Stop):
            yield {
                "completion": "",
                "stop_reason": event.raw_reason or event.reason,
                "stop": event.stop_sequence or None,
                "model": params.model,
            }
        elif isinstance(event, Failure):
            raise event.error


def _collect(chunks: Iterator[dict[str, Any]]) -> dict[str, Any]:
    text, stop_reason, model = [], None, None
    for chunk in chunks:
        text.append(chunk["completion"])
        stop_reason = chunk["stop_reason"] or stop_reason
        model = chunk["model"]
    return {"completion": "".join(text), "stop_reason": stop_reason, "model": model}


class _Completion:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(
        self,
        model: str,
        prompt: str,
        max_tokens_to_sample: int = 256,
        stop_sequences: Sequence[str] = (),
        temperature: float = 1,
        top_p: float = 1,
        top_k: int = 250,
        stream: bool = False,
    ) -> Any:
        """Complete `prompt`. Returns {"completion", "stop_reason", "model"}, or with
        `stream=True` an iterator of such dicts (the last one carries the stop reason)."""
        system, messages = prompt_to_messages(prompt)
        params = _params(
            model, max_tokens_to_sample, stop_sequences, temperature, top_p, top_k, system
        )
        self._engine.prepare(messages, params)  # refuse bad values before any request
        chunks = _chunks(self._engine, messages, params)
        return chunks if stream else _collect(chunks)


class _ChatCompletion:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(
        self,
        model: str,
        messages: Sequence[dict[str, str]],
        max_tokens_to_sample: int = 256,
        stop_sequences: Sequence[str] = (),
        temperature: float = 1,
        top_p: float = 1,
        top_k: int = 250,
        stream: bool = False,
    ) -> Any:
        """Chat. Returns a dict whose "messages" is the conversation with the assistant's reply
        appended (plus "completion", "stop_reason", "model"); with `stream=True` an iterator of
        the same chunk dicts as Completion. A {"role": "system"} message is the system prompt."""
        if isinstance(messages, str | bytes) or not isinstance(messages, Sequence):
            raise ParamError("messages", messages, 'a list of {"role", "content"} dicts')
        system_parts = []
        for message in messages:
            if (
                not isinstance(message, dict)
                or message.get("role") not in ("user", "assistant", "system")
                or not isinstance(message.get("content"), str)
            ):
                raise ParamError(
                    "messages",
                    message,
                    'dicts with "role" (user, assistant or system) and "content" (a string)',
                )
            if message["role"] == "system":
                system_parts.append(message["content"])
        params = _params(
            model,
            max_tokens_to_sample,
            stop_sequences,
            temperature,
            top_p,
            top_k,
            "\n\n".join(system_parts),
        )
        self._engine.prepare(messages, params)
        chunks = _chunks(self._engine, messages, params)
        if stream:
            return chunks
        result = _collect(chunks)
        result["messages"] = [dict(m) for m in messages] + [
            {"role": "assistant", "content": result["completion"]}
        ]
        return result


class AnthropicBedrock:
    """The seed SDK's client. Keys and region default to the AWS chain and the environment
    (`AWS_ACCESS_KEY` / `AWS_SECRET_KEY` / `AWS_REGION` included)."""

    def __init__(
        self,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str | None = None,
        profile: str | None = None,
    ) -> None:
        self._engine = Engine(
            access_key=access_key, secret_key=secret_key, region=region, profile=profile
        )
        self.Completion = _Completion(self._engine)
        self.ChatCompletion = _ChatCompletion(self._engine)


HUMAN_PROMPT = HUMAN
AI_PROMPT = ASSISTANT
