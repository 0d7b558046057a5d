"""Everything that talks to Bedrock. Imports no Textual, and imports boto3 only when a request
is actually made."""

from tui_chat.bedrock.engine import Engine
from tui_chat.bedrock.errors import BedrockError
from tui_chat.bedrock.events import Event, Failure, Stop, TextDelta, Usage
from tui_chat.bedrock.sdk import AI_PROMPT, HUMAN_PROMPT, AnthropicBedrock
from tui_chat.params import ParamError

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
