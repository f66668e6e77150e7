"""A Conversation sends the history it keeps to the real stand-in; the ChatBox shows it."""

import pytest

from phi_course import routes
from phi_course.chat import Conversation
from phi_course.standin import ensure_running
from phi_course.widgets import ChatBox

pytestmark = pytest.mark.usefixtures("keyless", "standin")  # no keys; the shared stand-in (conftest.py)


def test_each_turn_sends_the_history_and_keeps_the_reply():
    chat = Conversation("nim", "phi-3.5-mini", system="Answer briefly.", max_tokens=8)
    first = chat.send("What is NIM?")
    assert first.error is None and first.text
    assert chat.history == [{"role": "user", "content": "What is NIM?"},
                            {"role": "assistant", "content": first.text}]
    sent = chat.messages("And which port?")
    assert sent[0] == {"role": "system", "content": "Answer briefly."}
    assert sent[1:3] == chat.history and sent[-1]["content"] == "And which port?"
    second = chat.send("And which port?")
    assert chat.turns == 2 and chat.history[-1]["content"] == second.text
    # The stand-in read the whole conversation: the second prompt is longer than the first.
    assert second.prompt_tokens > first.prompt_tokens + first.completion_tokens - 1


def test_only_the_latest_turns_are_sent():
    chat = Conversation("github", "phi-3-mini", max_tokens=4, max_turns=1)
    for question in ["one", "two", "three"]:
        chat.send(question)
    assert chat.turns == 3
    sent = chat.messages("four")
    assert [m["content"] for m in sent if m["role"] == "user"] == ["three", "four"]


def test_a_failed_turn_is_not_kept(monkeypatch):
    monkeypatch.setenv("PHI_COURSE_BASE_URL", ensure_running().base_url)
    monkeypatch.setenv("PHI_COURSE_MODEL", "no-such-model")
    chat = Conversation("custom", max_tokens=4)
    result = chat.send("hello")
    assert result.error.startswith("HTTP 404") and chat.history == []
    with pytest.raises(ValueError, match="empty"):
        chat.send("  ")
    with pytest.raises(ValueError, match="max_turns"):
        Conversation(routes.resolve("github"), max_turns=0)


def test_chatbox_send_streams_into_the_transcript_and_clear_empties_it():
    box = ChatBox(Conversation("github", "phi-3.5-mini", max_tokens=8))
    assert "stand-in" in box.children[0].value  # the notice is shown
    box.message.value = "What is GitHub Models?"
    box.send_button.click()
    reply = box.value[-1]["content"]
    assert box.value[0]["content"] == "What is GitHub Models?" and reply
    assert box.transcript == f"You: What is GitHub Models?\ntiny-phi35-mini: {reply}\n\n"  # who answered
    assert box.message.value == "" and "1 turn(s)" in box.status.value
    box.send("")
    assert "Type a message" in box.status.value and len(box.value) == 2
    box.clear_button.click()
    assert box.value == [] and box.transcript == ""
