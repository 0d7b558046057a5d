"""What Bedrock's refusals say about a model's rules: the parameters a ValidationException names.

Models change faster than any catalogue, so when Bedrock refuses a parameter the catalogue did
not predict, the refusal itself is the best source: "temperature is deprecated for this model",
"`temperature` and `top_p` cannot both be specified", "extraneous key [top_k] is not
permitted", "\"thinking.type.enabled\" is not supported", "does not support assistant message
prefill". `refused_parameters` turns such a message into the rules to remember (see
tui_chat/learned.py); a value that is merely out of range (a budget below 1,024) teaches
nothing and gives an empty result.

Rule names are the parameters (`temperature`, `top_p`, `top_k`, `stop_sequences`, `effort`,
`thinking`, `cache`) plus `one-of` (temperature or top_p, not both), `budget` (no thinking
budget: adaptive only), `adaptive` (no adaptive thinking) and `prefill` (no final assistant
turn).
"""

from __future__ import annotations

import re

_KEYS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "topp": "top_p",
    "top_k": "top_k",
    "topk": "top_k",
    "stop_sequences": "stop_sequences",
    "stopsequences": "stop_sequences",
    "thinking": "thinking",
    "reasoning_config": "thinking",
    "output_config": "effort",
    "outputconfig": "effort",
    "effort": "effort",
    "cache_control": "cache",
    "cachepoint": "cache",
}
_PARAM = r"`?(temperature|top_p|top_k|topP|topK|stop_sequences|effort|output_config)`?"
_PATTERNS: tuple[tuple[re.Pattern[str], str | None], ...] = (
    (re.compile(r"`?temperature`? and `?top_p`? cannot both be specified", re.I), "one-of"),
    (re.compile(r"does not support assistant message prefill", re.I), "prefill"),
    (re.compile(r"prefilling assistant messages", re.I), "prefill"),
    (re.compile(r"thinking\.type\.enabled\W+is not supported", re.I), "budget"),
    (re.compile(r"thinking\.type\.adaptive\W+is not supported", re.I), "adaptive"),
    (re.compile(r"extended thinking is not supported", re.I), "thinking"),
    (re.compile(r"(?:output_config\.)?effort(?: is|:)? not supported", re.I), "effort"),
    (re.compile(r"effort is not supported", re.I), "effort"),
    (re.compile(r"(?:cache_control|cachePoint|prompt caching) is not supported", re.I), "cache"),
    (re.compile(_PARAM + r" is (?:deprecated|not supported|not allowed)", re.I), None),
    (re.compile(_PARAM + r": extra inputs are not permitted", re.I), None),
    (re.compile(r"extraneous key \[([A-Za-z_]+)\] is not permitted", re.I), None),
    (re.compile(r"(?:unsupported|unknown) (?:parameter|field|key)s?:? `?([A-Za-z_]+)", re.I), None),
)


def refused_parameters(message: str) -> list[str]:
    """The rules a refusal teaches, in the order found (empty when it teaches none)."""
    found: list[str] = []
    for pattern, rule in _PATTERNS:
        for match in pattern.finditer(message or ""):
            name = rule or _KEYS.get(match.group(1).lower())
            if name and name not in found:
                found.append(name)
    if "budget" in found and "thinking" in found:
        found.remove("thinking")  # "thinking.type.enabled is not supported" names one mode
    return found


#: What the user is told was refused, for each rule.
WORDS = {
    "one-of": "temperature together with top_p",
    "prefill": "continuing a reply by prefill",
    "budget": "a thinking budget",
    "adaptive": "adaptive thinking",
    "thinking": "thinking",
    "effort": "the effort setting",
    "cache": "prompt caching",
}


def describe(rules: list[str]) -> str:
    """'temperature and top_k', 'a thinking budget'..."""
    words = [WORDS.get(rule, rule) for rule in rules]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
