"""Chat with a Hugging Face causal LM, token by token: the course's one generation loop.

Introduced in lessons/01_slm_vs_llm.ipynb (a first answer and a completion);
lessons/06_transformers.ipynb opens it up (sampling, streaming, stop strings).

`chat` returns the whole answer with its token usage; `chat_stream` yields the
answer piece by piece as the model produces it. Both take OpenAI-style
messages, so the same list works here, in the OpenAI SDK and in the stand-in
servers (which use this module to answer).

The loop is written out (one forward pass per token, reusing the KV cache)
rather than hidden in `model.generate`, because a server needs what `generate`
does not hand back easily: exact stop-string handling while streaming, the
finish reason, and timings. Greedy decoding here gives the same tokens as
`model.generate(do_sample=False)`; the tests check that.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from phi_course.local.tool_text import CALL_END, CALL_START

__all__ = ["AnswerText", "ChatResult", "ContextLengthError", "DEFAULT_MAX_NEW_TOKENS", "Plan", "TextStream", "chat",
           "chat_stream", "context_limit", "encode_chat", "end_token_ids", "generate_stream", "normalize_messages",
           "plan"]

DEFAULT_MAX_NEW_TOKENS = 256  # when neither the caller nor the model's generation_config sets one
# The tokenizer shows this for an incomplete UTF-8 character (half a Chinese
# character, say); it is held back until the next token completes it.
_INCOMPLETE_CHAR = "\ufffd"


class ContextLengthError(ValueError):
    """The prompt does not fit in the model's context window."""

    def __init__(self, prompt_tokens: int, limit: int, model_name: str):
        self.prompt_tokens = prompt_tokens
        self.limit = limit
        super().__init__(
            f"The prompt is {prompt_tokens} tokens, but {model_name} reads at most {limit} "
            f"(config.max_position_embeddings), and needs room for at least one new token. "
            "Shorten the messages or drop earlier turns of the conversation."
        )


@dataclass
class ChatResult:
    """One finished answer: its text, why it ended, and what it cost."""

    text: str
    finish_reason: str  # "stop" (end token or stop string) or "length" (token limit)
    prompt_tokens: int
    completion_tokens: int  # tokens the model produced, the end token included
    token_ids: list[int] = field(repr=False, default_factory=list)
    first_token_seconds: float = 0.0  # time to first token (reading the prompt + one step)
    total_seconds: float = 0.0
    # Offered tools, the model may answer with a call instead of text: then `text` is empty and this
    # is the call as written, markers included (phi_course.local.tool_text reads it).
    call: str | None = None

    @property
    def usage(self) -> dict[str, int]:
        """Token counts in the shape of the OpenAI API's `usage` field."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }

    @property
    def tokens_per_second(self) -> float:
        """Decoding speed after the first token (the first one also pays for the prompt)."""
        later = self.total_seconds - self.first_token_seconds
        if self.completion_tokens > 1 and later > 0:
            return (self.completion_tokens - 1) / later
        return self.completion_tokens / self.total_seconds if self.total_seconds > 0 else 0.0


def normalize_messages(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI-style messages as plain {role, content} strings a chat template can read.

    Content given as a list of parts keeps its text parts; images are refused
    because the models this module drives read text only. An assistant message
    that called tools keeps its calls (`tool_calls`, each {"function": {name, arguments}}).
    """
    out = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message:
            raise ValueError(f"Message {i} must be a dict with a 'role' and a 'content'; got {message!r}.")
        role = message["role"]
        # OpenAI's newer name for the system role; Phi templates know only "system".
        role = "system" if role == "developer" else role
        content = message.get("content")
        if content is None:
            content = ""
        elif isinstance(content, list):
            texts = []
            for part in content:
                kind = part.get("type") if isinstance(part, dict) else None
                if kind == "text":
                    texts.append(part.get("text", ""))
                else:
                    raise ValueError(
                        f"Message {i} has a {kind or type(part).__name__!r} part; this model reads "
                        "text only. Send text parts, or use a vision model (lessons/09_phi_vision.ipynb)."
                    )
            content = "".join(texts)
        elif not isinstance(content, str):
            raise ValueError(f"Message {i} content must be a string or a list of parts; got {content!r}.")
        plain = {"role": role, "content": content}
        if role == "assistant" and message.get("tool_calls"):
            plain["tool_calls"] = [_call_of(i, call) for call in message["tool_calls"]]
        out.append(plain)
    return out


def _call_of(i: int, call: Any) -> dict[str, Any]:
    """One of an assistant message's tool calls as the chat template reads it."""
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict) or "name" not in function:
        raise ValueError(f"Message {i} has a tool call without a function name: {call!r}. Send the "
                         "assistant message back as the model gave it: "
                         "{'function': {'name': ..., 'arguments': ...}}.")
    return {"function": {"name": function["name"], "arguments": function.get("arguments") or {}}}


def encode_chat(tokenizer, messages: Sequence[dict[str, Any]], tools: list[dict] | None = None) -> list[int]:
    """The token ids of `messages` in the model's chat template, ready for the answer.

    `tools` (OpenAI's list of function descriptions) go into the prompt the way the template
    lays them out; a template that knows no tools leaves them out.
    """
    encoded = tokenizer.apply_chat_template(
        normalize_messages(messages), tools=tools or None, add_generation_prompt=True, tokenize=True,
        return_dict=True
    )
    return list(encoded["input_ids"])


def context_limit(model) -> int | None:
    """How many tokens (prompt + answer) the model can attend to, from its config."""
    return getattr(model.config.get_text_config(), "max_position_embeddings", None)


def end_token_ids(model, tokenizer) -> set[int]:
    """Token ids that end an answer: the tokenizer's eos (`<|end|>`) and the generation config's."""
    ids: set[int] = set()
    for value in (tokenizer.eos_token_id, getattr(model.generation_config, "eos_token_id", None)):
        if isinstance(value, int):
            ids.add(value)
        elif value:
            ids.update(int(v) for v in value)
    return ids


class TextStream(Iterator[str]):
    """The answer as it is produced: iterate for text pieces, then read `.result`.

    Made by `chat_stream` / `generate_stream`. Nothing is computed until you
    iterate; closing the stream (or breaking out of the loop) stops the model.
    """

    def __init__(self, pieces_from_run):
        self.result: ChatResult | None = None
        self.tokens = 0  # tokens produced so far, for progress and for servers' counters
        self._pieces = pieces_from_run(self)

    def __iter__(self) -> TextStream:
        return self

    def __next__(self) -> str:
        return next(self._pieces)

    def close(self) -> None:
        self._pieces.close()


@dataclass
class Plan:
    """What one answer may do, settled (and checked) before the model runs: made by `plan`."""

    prompt_ids: list[int]
    budget: int  # new tokens at most: max_new_tokens, or fewer where the context ends
    pick: Callable[[torch.Tensor], int]  # next-token logits -> token id
    bias: torch.Tensor | None  # added to the logits first (OpenAI's logit_bias)
    end_ids: set[int]
    stops: list[str]
    greedy: bool  # pick is argmax: a server may pick for many answers in one operation


def plan(
    model,
    tokenizer,
    prompt_ids: Sequence[int],
    *,
    max_new_tokens: int | None = None,
    temperature: float = 0.0,
    top_p: float = 1.0,
    top_k: int | None = None,
    seed: int | None = None,
    stop: str | Sequence[str] | None = None,
    logit_bias: dict[int, float] | None = None,
) -> Plan:
    """Check `generate_stream`'s arguments and settle them into a Plan; raises before any work.

    Raises ContextLengthError if the prompt leaves no room in the context, ValueError for a bad option.
    """
    prompt_ids = list(prompt_ids)
    if not prompt_ids:
        raise ValueError("The prompt is empty: give at least one token to continue from.")
    limit = context_limit(model)
    if limit is not None and len(prompt_ids) >= limit:
        name = str(getattr(model, "name_or_path", "") or type(model).__name__).rstrip("/")
        raise ContextLengthError(len(prompt_ids), limit, name.rsplit("/", 1)[-1])
    if max_new_tokens is None:  # the model's own default, as transformers' generate uses it
        max_new_tokens = getattr(model.generation_config, "max_new_tokens", None) or DEFAULT_MAX_NEW_TOKENS
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be at least 1; got {max_new_tokens}.")
    budget = max_new_tokens if limit is None else min(max_new_tokens, limit - len(prompt_ids))
    return Plan(
        prompt_ids=prompt_ids,
        budget=budget,
        pick=_token_picker(temperature, top_p, top_k, seed),
        bias=_bias_vector(logit_bias, model),
        end_ids=end_token_ids(model, tokenizer),
        stops=[stop] if isinstance(stop, str) else [s for s in (stop or []) if s],
        greedy=temperature == 0,
    )


class AnswerText:
    """The text side of one answer: tokens go in one at a time, pieces to show come out.

    Holds back a partial character and a tail that may grow into a stop string,
    and knows when the answer is over (end token, stop string, budget). Shared by
    `generate_stream` and servers that decode many answers at once, so every
    engine ends and cuts answers the same way.

    With `calls=True` (tools were offered) an answer whose first token is the
    tool-call marker is a call, not text: nothing is shown, stop strings do not
    apply, it ends at the closing marker (or the budget), and `result().call`
    holds it as written, markers included.
    """

    def __init__(self, tokenizer, plan: Plan, calls: bool = False) -> None:
        self.tokenizer = tokenizer
        self.plan = plan
        self.new_ids: list[int] = []
        self.text_ids: list[int] = []  # new_ids without end tokens: what the learner reads
        self.shown = ""  # text already handed out
        self.finish: str | None = None  # set when the answer is over: "stop" or "length"
        self._markers = _call_markers(tokenizer) if calls else None
        self.calling = False  # the answer is a tool call

    def push(self, token: int) -> str:
        """Take the next token; return the text it makes showable (often one piece, maybe "")."""
        plan = self.plan
        if not self.new_ids and self._markers and token == self._markers[0]:
            self.calling = True
        self.new_ids.append(token)
        if token in plan.end_ids:
            self.finish = "stop"
            return "" if self.calling else self._rest()
        self.text_ids.append(token)
        if self.calling:
            if token == self._markers[1]:
                self.finish = "stop"
            elif len(self.new_ids) >= plan.budget:
                self.finish = "length"
            return ""
        text = _decode(self.tokenizer, self.text_ids)
        cut = _find_stop(text, plan.stops, start=max(0, len(self.shown) - _longest(plan.stops)))
        if cut is not None:  # the stop string and what follows it are never shown
            self.finish = "stop"
            return self._show(text, cut)
        piece = self._show(text, _safe_length(text, plan.stops))
        if len(self.new_ids) >= plan.budget:
            self.finish = "length"
            piece += self._rest(text)
        return piece

    def _show(self, text: str, end: int) -> str:
        piece = text[len(self.shown):end] if end > len(self.shown) else ""
        self.shown += piece
        return piece

    def _rest(self, text: str | None = None) -> str:
        """What was held back (a partial character, a tail that looked like a stop string)."""
        text = _decode(self.tokenizer, self.text_ids) if text is None else text
        return self._show(text, len(text))

    def result(self, first_token_seconds: float, total_seconds: float) -> ChatResult:
        return ChatResult(
            text=self.shown,
            finish_reason=self.finish or "length",
            prompt_tokens=len(self.plan.prompt_ids),
            completion_tokens=len(self.new_ids),
            token_ids=self.new_ids,
            first_token_seconds=first_token_seconds,
            total_seconds=total_seconds,
            call=self.tokenizer.decode(self.text_ids, skip_special_tokens=False,
                                       clean_up_tokenization_spaces=False) if self.calling else None,
        )


def _call_markers(tokenizer) -> tuple[int, int] | None:
    """The ids of the tool-call markers, if the tokenizer has them as special tokens (else no calls)."""
    added = tokenizer.get_added_vocab()
    if CALL_START in added and CALL_END in added:
        return added[CALL_START], added[CALL_END]
    return None


def generate_stream(model, tokenizer, prompt_ids: Sequence[int], **options) -> TextStream:
    """Continue `prompt_ids` (already templated) and stream the new text.

    The lower level under `chat_stream`, with its options; use it for raw
    prompts. Raises ContextLengthError at once if the prompt leaves no room in
    the context.
    """
    settled = plan(model, tokenizer, prompt_ids, **options)

    def run(stream: TextStream) -> Iterator[str]:
        started = time.perf_counter()
        first_token_at = 0.0
        answer = AnswerText(tokenizer, settled)
        cache = None
        next_input = torch.tensor([settled.prompt_ids])
        while answer.finish is None:
            # Grad mode is thread-wide state, so it is switched on per step and never
            # left on while the caller's code runs between pieces.
            with torch.inference_mode():
                out = model(input_ids=next_input, past_key_values=cache, use_cache=True, logits_to_keep=1)
            cache = out.past_key_values
            logits = out.logits[0, -1]
            token = settled.pick(logits if settled.bias is None else logits + settled.bias)
            piece = answer.push(token)
            stream.tokens = len(answer.new_ids)
            if stream.tokens == 1:
                first_token_at = time.perf_counter() - started
            next_input = torch.tensor([[token]])
            if piece:
                yield piece
        stream.result = answer.result(first_token_at, time.perf_counter() - started)

    return TextStream(run)


def chat_stream(model, tokenizer, messages: Sequence[dict[str, Any]], **options) -> TextStream:
    """Answer OpenAI-style `messages`, yielding text pieces as they are produced.

    The options are `generate_stream`'s: max_new_tokens, temperature, top_p,
    top_k, seed, stop and logit_bias. temperature=0 decodes greedily (the same
    answer every time); above 0 it samples, reproducibly when `seed` is set.
    The answer ends at the model's end token, at a `stop` string (left out of
    the text), or after `max_new_tokens` (default: the model's
    generation_config, else 256). After the loop, `.result` is the ChatResult.

        for piece in chat_stream(model, tokenizer, [{"role": "user", "content": "Hi"}]):
            print(piece, end="")
    """
    return generate_stream(model, tokenizer, encode_chat(tokenizer, messages), **options)


def chat(model, tokenizer, messages: Sequence[dict[str, Any]], **options) -> ChatResult:
    """Answer OpenAI-style `messages` in one go: text, finish_reason and usage.

    Takes the same options as `chat_stream` and gives the same text.
    """
    stream = chat_stream(model, tokenizer, messages, **options)
    for _ in stream:
        pass
    assert stream.result is not None
    return stream.result


def _token_picker(temperature: float, top_p: float, top_k: int | None, seed: int | None):
    """A function from next-token logits to a token id: argmax, or a seeded sample."""
    if temperature < 0:
        raise ValueError(f"temperature must be 0 (greedy) or more; got {temperature}.")
    if not 0 <= top_p <= 1:
        raise ValueError(f"top_p must be between 0 and 1; got {top_p}.")
    if temperature == 0:
        return lambda logits: int(torch.argmax(logits))
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(int(seed))

    def sample(logits: torch.Tensor) -> int:
        logits = logits.float() / temperature
        if top_k is not None and 0 < top_k < logits.numel():
            floor = torch.topk(logits, top_k).values[-1]
            logits = logits.masked_fill(logits < floor, float("-inf"))
        probs = torch.softmax(logits, dim=-1)
        if top_p < 1:
            sorted_probs, order = torch.sort(probs, descending=True)
            # Keep the smallest set of tokens whose probabilities add up to top_p
            # (at least the most likely one, so top_p=0 means "always the top token").
            drop = torch.cumsum(sorted_probs, dim=-1) - sorted_probs >= top_p
            drop[0] = False
            sorted_probs[drop] = 0
            probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
        return int(torch.multinomial(probs, 1, generator=generator))

    return sample


def _bias_vector(logit_bias: dict[int, float] | None, model) -> torch.Tensor | None:
    """OpenAI's logit_bias ({token id: -100..100}) as a vector to add to the logits."""
    if not logit_bias:
        return None
    size = model.config.get_text_config().vocab_size
    bias = torch.zeros(size)
    for token, value in logit_bias.items():
        token = int(token)
        if not 0 <= token < size:
            raise ValueError(f"logit_bias names token {token}, but the vocabulary has ids 0 to {size - 1}.")
        bias[token] = float(value)
    return bias


def _decode(tokenizer, ids: list[int]) -> str:
    # Decoding all ids each step (not just the new one) keeps multi-token
    # characters and leading spaces right; it costs little next to a forward pass.
    return tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)


def _longest(stops: list[str]) -> int:
    return max((len(s) for s in stops), default=0)


def _find_stop(text: str, stops: list[str], start: int = 0) -> int | None:
    """Where the earliest stop string begins in text[start:], or None."""
    hits = [i for s in stops if (i := text.find(s, start)) != -1]
    return min(hits) if hits else None


def _safe_length(text: str, stops: list[str]) -> int:
    """How much of `text` can be shown now: not a trailing partial character,
    and not a tail that could still grow into a stop string."""
    end = len(text)
    while end and text[end - 1] == _INCOMPLETE_CHAR:
        end -= 1
    held = 0
    for s in stops:
        for size in range(min(len(s) - 1, end), held, -1):
            if text.endswith(s[:size], 0, end):
                held = size
                break
    return end - held
