"""A local stand-in for Amazon Bedrock on loopback that real boto3 talks to over HTTP.

It answers bedrock-runtime (InvokeModel, InvokeModelWithResponseStream, Converse,
ConverseStream) and the bedrock control plane (ListFoundationModels, ListInferenceProfiles)
with the real wire protocol: rest-json errors, AWS event-stream frames with both CRCs, chunked
transfer encoding. Every text model is answered by a deterministic demo model. Each Claude
model keeps its own rules (sampling parameters, extended thinking, effort, prefill, prompt
caching; see ``catalog.ModelInfo``), retired models answer 404, thinking is streamed with
signatures the emulator checks when a client sends the blocks back, images and documents are
checked against Bedrock's limits, counted and described (see ``attachments``), and cached prompt
prefixes are remembered per server (``Emulator.clear_cache()``). Faults can be armed per server for
tests::

    from tui_chat.emulator import Emulator, Fault

    with Emulator(tokens_per_second=None) as emu:
        emu.add_fault(Fault("stream_throttling", after_tokens=5))
        client = boto3.client("bedrock-runtime", endpoint_url=emu.url, ...)
"""

from tui_chat.emulator.faults import KINDS as FAULT_KINDS
from tui_chat.emulator.faults import Fault
from tui_chat.emulator.server import Emulator, RecordedRequest

__all__ = ["FAULT_KINDS", "Emulator", "Fault", "RecordedRequest"]
