"""A chat over any route: it keeps the conversation, streams each reply, and can start over.

Introduced in lessons/05_nvidia_nim.ipynb.

A chat model remembers nothing between requests: every request carries the
whole conversation so far. `Conversation` keeps that list and sends it with
the official OpenAI SDK; `ChatBox` is a thin widget around it.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets

from . import routes
from .compare import DEFAULT_MAX_TOKENS, Result, openai_base_url, stream_answer

# Small models read short contexts (the embedded ones a few hundred tokens), so
# only the latest turns are sent; the whole history stays in `history`.
DEFAULT_MAX_TURNS = 4


class Conversation:
    """The messages of one chat and the route that answers them.

        chat = Conversation("nim", "phi-3.5-mini", system="Answer in one sentence.")
        chat.send("What is NIM?").text
        chat.send("Which port does it use?").text   # the first turn is sent along
    """

    def __init__(self, route: routes.Route | str = "nim", model: str = routes.DEFAULT_PHI, *,
                 system: str | None = None, max_tokens: int = DEFAULT_MAX_TOKENS,
                 temperature: float = 0.0, max_turns: int | None = DEFAULT_MAX_TURNS):
        from openai import OpenAI

        if max_turns is not None and max_turns < 1:
            raise ValueError(f"max_turns must be at least 1 (or None for all turns); got {max_turns}.")
        self.route = route if isinstance(route, routes.Route) else routes.resolve(route, model)
        self.system = system
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.max_turns = max_turns
        self.history: list[dict[str, str]] = []  # user and assistant messages, oldest first
        self.results: list[Result] = []  # timing and usage of each reply
        self._client = OpenAI(base_url=openai_base_url(self.route), api_key=self.route.api_key,
                              timeout=self.route.timeout, max_retries=routes.MAX_RETRIES)

    @property
    def turns(self) -> int:
        """How many question-and-answer pairs the conversation holds."""
        return sum(m["role"] == "user" for m in self.history)

    def messages(self, question: str | None = None) -> list[dict[str, str]]:
        """What the next request sends: the system prompt, the latest turns, then `question`."""
        kept = self.history
        if self.max_turns is not None:
            kept = kept[-2 * self.max_turns:]
        system = [{"role": "system", "content": self.system}] if self.system else []
        asked = [{"role": "user", "content": question}] if question is not None else []
        return system + kept + asked

    def send(self, question: str, on_piece: Callable[[str], None] | None = None) -> Result:
        """Ask `question` with the conversation so far; stream the reply into `on_piece`.

        The turn is added to the history only when the reply arrives, so a failed
        request (its message is in `Result.error`) can simply be sent again.
        """
        if not question.strip():
            raise ValueError("The message is empty: type something to send.")
        result = stream_answer(self.route, self.messages(question), max_tokens=self.max_tokens,
                               temperature=self.temperature, on_piece=on_piece, client=self._client)
        if result.error is None:
            self.history += [{"role": "user", "content": question},
                             {"role": "assistant", "content": result.text}]
        self.results.append(result)
        return result

    def clear(self) -> None:
        """Forget every turn (the system prompt stays)."""
        self.history.clear()
        self.results.clear()


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
        self._transcript = widgets.Output(layout=widgets.Layout(
            border="1px solid #ccc", padding="4px", max_height="24em", overflow="auto"))
        self._message = widgets.Text(placeholder="Type a message and press Send",
                                     layout=widgets.Layout(flex="1 1 auto"))
        self._send_button = widgets.Button(description="Send", button_style="primary", icon="paper-plane")
        self._clear_button = widgets.Button(description="Clear", icon="eraser")
        self._send_button.on_click(lambda _button: self.send())
        self._clear_button.on_click(lambda _button: self.clear())
        self._status = widgets.HTML()
        heading = widgets.HTML(
            f"<b>{html.escape(title or f'Chat · {route.name} · {route.model}')}</b><br>"
            f"<small style='color:#666'>{html.escape(route.notice)}</small>")
        super().__init__([heading, self._transcript,
                          widgets.HBox([self._message, self._send_button, self._clear_button]),
                          self._status])

    @property
    def value(self) -> list[dict[str, str]]:
        """The conversation so far (user and assistant messages)."""
        return list(self.conversation.history)

    @property
    def transcript(self) -> str:
        """The transcript as plain text, as the box shows it."""
        return "".join(o.get("text", "") for o in self._transcript.outputs)

    def send(self, text: str | None = None) -> Result | None:
        """Send `text` (or what the message box holds) and stream the reply into the transcript."""
        question = (text if text is not None else self._message.value).strip()
        if not question:
            self._status.value = "Type a message first."
            return None
        self._message.value = ""
        self._send_button.disabled = True
        self._status.value = "thinking…"
        # Name who answers: the model the route reached (a course model offline, never "Phi" by default).
        self._transcript.append_stdout(f"You: {question}\n{self.conversation.route.model}: ")
        try:
            result = self.conversation.send(question, on_piece=self._transcript.append_stdout)
        finally:
            self._send_button.disabled = False
        if result.error:
            self._transcript.append_stderr(f"\n{result.error}\n")
            self._status.value = "The request failed (see above); the turn was not kept. Send it again."
        else:
            self._transcript.append_stdout("\n\n")
            speed = result.tokens_per_second
            self._status.value = (f"{self.conversation.turns} turn(s) · first token after "
                                  f"{result.first_token_seconds or 0:.2f} s"
                                  + (f" · {speed:.0f} tokens/s" if speed else ""))
        return result

    def clear(self) -> None:
        """Empty the transcript and forget the conversation."""
        self.conversation.clear()
        self._transcript.outputs = ()  # not clear_output(): that needs a front end to take effect
        self._status.value = "cleared"
