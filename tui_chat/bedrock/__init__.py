"""Everything that talks to Bedrock. Imports no Textual, and imports boto3 only when a request
is actually made."""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui_chat.bedrock.engine import Engine
    from tui_chat.bedrock.errors import BedrockError
    from tui_chat.bedrock.events import Event, Failure, Stop, TextDelta, Usage
    from tui_chat.bedrock.sdk import AI_PROMPT, HUMAN_PROMPT, AnthropicBedrock
    from tui_chat.params import ParamError

# Each name loads its module on first use (PEP 562), so `from tui_chat.bedrock import catalog`
# at start-up does not also load the engine and the SDK.
_WHERE = {
    "Engine": "tui_chat.bedrock.engine",
    "BedrockError": "tui_chat.bedrock.errors",
    "Event": "tui_chat.bedrock.events",
    "Failure": "tui_chat.bedrock.events",
    "Stop": "tui_chat.bedrock.events",
    "TextDelta": "tui_chat.bedrock.events",
    "Usage": "tui_chat.bedrock.events",
    "AI_PROMPT": "tui_chat.bedrock.sdk",
    "HUMAN_PROMPT": "tui_chat.bedrock.sdk",
    "AnthropicBedrock": "tui_chat.bedrock.sdk",
    "ParamError": "tui_chat.params",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'tui_chat.bedrock' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "AI_PROMPT",
    "HUMAN_PROMPT",
    "AnthropicBedrock",
    "BedrockError",
    "Engine",
    "Event",
    "Failure",
    "ParamError",
    "Stop",
    "TextDelta",
    "Usage",
]
