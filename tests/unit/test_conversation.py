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


def test_alternatives_flip_and_keep_their_order():
    first = Message(role="assistant", content="one", params={"temperature": 0.2})
    second = first.with_new_reply(Message(role="assistant", content="two"))
    third = second.with_new_reply(Message(role="assistant", content="three"))
    assert [r.content for r in third.replies()] == ["one", "two", "three"]
    assert third.chosen_index() == 2 and third.content == "three"
    shown = third.choose(0)
    assert shown.content == "one" and shown.params == {"temperature": 0.2}
    assert shown.chosen_index() == 0
    assert [r.content for r in shown.replies()] == ["one", "two", "three"]
    back = shown.choose(2)
    assert back.content == "three"
    assert [r.content for r in back.replies()] == ["one", "two", "three"]
    assert all(not r.alternatives for r in back.replies())


def test_a_failed_empty_reply_is_replaced_not_kept():
    failed = Message(role="assistant", content="", status="error")
    retried = failed.with_new_reply(Message(role="assistant", content="ok"))
    assert retried.alternatives == [] and retried.chosen is None


def test_a_kept_compared_reply_carries_the_others_in_the_order_shown():
    conversation = Conversation.new(Params())
    conversation.add_user("hi")
    a = Message(role="assistant", content="A")
    b = Message(role="assistant", content="", status="error")  # nothing in it: dropped
    c = Message(role="assistant", content="C", status="cancelled")
    kept = conversation.keep_compared([a, b, c], 2)
    assert conversation.messages[-1] is kept and kept.content == "C"
    assert [r.content for r in kept.replies()] == ["A", "C"]
    assert kept.chosen == 1
    only = Conversation.new(Params()).keep_compared([a, b], 0)
    assert only.alternatives == [] and only.chosen is None
