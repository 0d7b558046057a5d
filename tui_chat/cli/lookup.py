"""Finding conversations by id or title for `ask --session`, `--continue` and `export`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_chat.cli.common import Failure, UsageError

if TYPE_CHECKING:
    from tui_chat.config import Settings
    from tui_chat.conversation import Conversation
    from tui_chat.store import SessionStore


def open_store(settings: Settings) -> SessionStore:
    from tui_chat.store import SessionStore

    return SessionStore(
        settings.paths.sessions_dir, cache_dir=settings.paths.cache_dir, defaults=settings.defaults
    )


def find(store: SessionStore, name: str) -> str | None:
    """The id for NAME_OR_ID: an exact id, else a unique exact title (compared with its
    whitespace collapsed, as titles are stored, if nothing matches as given); None if neither.
    An ambiguous title is a UsageError listing the candidates; an id whose file cannot be
    read is a Failure saying why."""
    listing = store.list()
    for summary in listing.conversations:
        if summary.id == name:
            return summary.id
    for problem in listing.problems:
        if problem.path.name == f"{name}.toml":
            raise Failure(f"cannot read {problem.path}: {problem.reason}")
    matches = [s.id for s in listing.conversations if s.title == name]
    if not matches:
        # Titles are stored on one line with single spaces (Conversation.rename).
        flat = " ".join(name.split())
        matches = [s.id for s in listing.conversations if s.title == flat]
    if len(matches) > 1:
        raise UsageError(
            f"the title {name!r} matches {len(matches)} conversations: "
            f"{', '.join(matches)}; give an id instead"
        )
    return matches[0] if matches else None


def load(store: SessionStore, conversation_id: str) -> Conversation:
    from tui_chat.store import StoreError

    try:
        return store.load(conversation_id)
    except StoreError as error:
        raise Failure(f"cannot read {error.path}: {error.reason}") from None


# ---------------------------------------------------------------------------------------------
# ask


def most_recent(store: SessionStore) -> str:
    """The id of the most recently updated conversation (for --continue)."""
    listing = store.list()
    if not listing.conversations:
        unreadable = f" ({len(listing.problems)} unreadable)" if listing.problems else ""
        raise UsageError(
            f"--continue: there is no conversation to continue in {store.directory}"
            f"{unreadable}; ask without -c to start one"
        )
    return listing.conversations[0].id
