"""tui-chat: a full-screen terminal chat client for Claude and other models on Amazon Bedrock."""

__version__ = "0.1.0"
