"""Conversation data: ids, titles derived until renamed."""

from tui_chat.conversation import Conversation, Message, derive_title, is_valid_id, new_id
from tui_chat.params import Params


def test_ids_are_sortable_and_valid():
    first, second = new_id(), new_id()
    assert is_valid_id(first) and is_valid_id(second)
    assert first[:16] <= second[:16]


def test_title_is_derived_from_first_user_message():
    conversation = Conversation.new(Params())
    assert conversation.title == "New conversation"
    conversation.add_user("  What is\n\ngood about   the colour blue?  ")
    assert conversation.title == "What is good about the colour blue?"
    conversation.add(Message(role="assistant", content="Many things."))
    conversation.add_user("And red?")
    assert conversation.title == "What is good about the colour blue?"


def test_long_titles_are_cut_on_a_word():
    title = derive_title([Message(role="user", content="word " * 40)])
    assert title.endswith("…") and len(title) <= 60
    assert not title[:-1].endswith(" ")


def test_renamed_title_is_never_derived_again():
    conversation = Conversation.new(Params())
    conversation.add_user("first")
    conversation.rename("  My   chat ")
    assert (conversation.title, conversation.title_custom) == ("My chat", True)
    conversation.add_user("more")
    assert conversation.title == "My chat"
    conversation.rename("")
    assert (conversation.title, conversation.title_custom) == ("first", False)
