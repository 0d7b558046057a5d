"""Saving over another process's changes: merging the turns it appended, or saving a copy.

Before a save, the store compares the file on disk with what this process last read or wrote
(its mtime and size, and the fingerprints of its turns). When another process (a second app,
`tui-chat ask --session`) only appended turns, they are folded into the conversation being
saved, each side's own order kept. When the file changed in any other way, nothing is
overwritten: the conversation is saved beside it under a new id, "(copy)" in its title.
"""

from __future__ import annotations

from tui_chat.conversation import Conversation, Message, new_id


def fold_in(
    conversation: Conversation, disk: Conversation, base: list[tuple[str, str, str]]
) -> bool:
    """Fold the turns `disk` has after `base` (the fingerprints of the turns this process last
    saw) into `conversation`; False, and nothing changed, if `disk` no longer starts with
    `base` (its turns were edited or removed, not only appended to)."""
    disk_prints = [m.fingerprint() for m in disk.messages]
    if disk_prints[: len(base)] != base:
        return False
    theirs = disk.messages[len(base) :]
    ours = conversation.messages[len(base) :]
    prefix = conversation.messages[: len(base)]
    our_prints = {m.fingerprint() for m in conversation.messages}
    theirs = [m for m in theirs if m.fingerprint() not in our_prints]
    conversation.messages = prefix + interleave(ours, theirs)
    if disk.title_custom and not conversation.title_custom:
        conversation.title, conversation.title_custom = disk.title, True
    conversation.updated = max(conversation.updated, disk.updated)
    return True


def interleave(ours: list[Message], theirs: list[Message]) -> list[Message]:
    """Two processes' new turns in one order, each side's own order kept: the earlier first.
    Times are stored to the second, so ties are common; on a tie a reply of ours goes first
    (it answers the turn before it, which both sides had), any other turn of ours after
    theirs (it was added to a conversation that, on disk, already held theirs)."""
    combined: list[Message] = []
    i = j = 0
    while i < len(ours) and j < len(theirs):
        mine, other = ours[i], theirs[j]
        if mine.created < other.created or (
            mine.created == other.created and mine.role == "assistant"
        ):
            combined.append(mine)
            i += 1
        else:
            combined.append(other)
            j += 1
    return combined + ours[i:] + theirs[j:]


def make_copy(conversation: Conversation) -> str:
    """Give the conversation a new id (and "(copy)" in its title); returns the old id."""
    old_id = conversation.id
    conversation.id = new_id()
    if not conversation.title.endswith("(copy)"):
        conversation.title = f"{conversation.title} (copy)"
        conversation.title_custom = True
    return old_id
