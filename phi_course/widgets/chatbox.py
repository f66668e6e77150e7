"""The chat box: a transcript, a message box, Send and Clear over one route.

Introduced in lessons/05_nvidia_nim.ipynb. Wiring only: the conversation is
phi_course.chat.Conversation.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from phi_course.chat import Answer, Conversation
from phi_course.i18n import _

__all__ = ["ChatBox"]


class ChatBox(widgets.VBox):
    """A transcript, a message box, Send and Clear: a chat with one route.

        box = ChatBox(Conversation("nim", "phi-3.5-mini"))
        box                         # show it
        box.send("What is NIM?")    # or type and press Send

    Introduced in lessons/05_nvidia_nim.ipynb.
    """

    def __init__(self, conversation: Conversation | None = None, *, title: str | None = None):
        self.conversation = conversation or Conversation()
        route = self.conversation.route
        self.transcript_output = widgets.Output(layout=widgets.Layout(
            border="1px solid #ccc", padding="4px", max_height="24em", overflow="auto"))
        self.message = widgets.Text(placeholder=_("Type a message and press Send"),
                                    layout=widgets.Layout(flex="1 1 auto"))
        self.send_button = widgets.Button(description=_("Send"), button_style="primary", icon="paper-plane")
        self.clear_button = widgets.Button(description=_("Clear"), icon="eraser")
        self.send_button.on_click(lambda _button: self.send())
        self.clear_button.on_click(lambda _button: self.clear())
        self.status = widgets.HTML()
        heading = widgets.HTML(
            f"<b>{html.escape(title or _('Chat · {route} · {model}').format(route=route.name, model=route.model))}</b><br>"
            f"<small style='color:#666'>{html.escape(route.notice)}</small>")
        super().__init__([heading, self.transcript_output,
                          widgets.HBox([self.message, self.send_button, self.clear_button]),
                          self.status])

    @property
    def value(self) -> list[dict[str, str]]:
        """The conversation so far (user and assistant messages)."""
        return list(self.conversation.history)

    @property
    def transcript(self) -> str:
        """The transcript as plain text, as the box shows it."""
        return "".join(o.get("text", "") for o in self.transcript_output.outputs)

    def send(self, text: str | None = None) -> Answer | None:
        """Send `text` (or what the message box holds) and stream the reply into the transcript."""
        question = (text if text is not None else self.message.value).strip()
        if not question:
            self.status.value = _("Type a message first.")
            return None
        self.message.value = ""
        self.send_button.disabled = True
        self.status.value = _("thinking…")
        # Name who answers: the model the route reached (a course model offline, never "Phi" by default).
        self.transcript_output.append_stdout(_("You: {question}").format(question=question)
                                             + f"\n{self.conversation.route.model}: ")
        try:
            result = self.conversation.send(question, on_piece=self.transcript_output.append_stdout)
        finally:
            self.send_button.disabled = False
        if result.error:
            self.transcript_output.append_stderr(f"\n{result.error}\n")
            self.status.value = _("The request failed (see above); the turn was not kept. Send it again.")
        else:
            self.transcript_output.append_stdout("\n\n")
            speed = result.tokens_per_second
            self.status.value = (_("{turns} turn(s) · first token after {seconds:.2f} s").format(
                turns=self.conversation.turns, seconds=result.first_token_seconds or 0)
                + (_(" · {speed:.0f} tokens/s").format(speed=speed) if speed else ""))
        return result

    def clear(self) -> None:
        """Empty the transcript and forget the conversation."""
        self.conversation.clear()
        self.transcript_output.outputs = ()  # not clear_output(): that needs a front end to take effect
        self.status.value = _("cleared")
