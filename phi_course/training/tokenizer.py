"""A byte-level BPE tokenizer for the embedded models, with Phi-3's chat format.

Introduced in lessons/11_build_a_tiny_slm.ipynb (step 2: train a tokenizer).

Byte-level means any text can be encoded, Chinese included, even characters
the tokenizer never saw: they fall back to their UTF-8 bytes. All three
embedded models share one tokenizer, as the real Phi-3 and Phi-3.5 do.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

__all__ = ["CALL_END", "CALL_START", "CHAT_TEMPLATE", "SPECIAL_TOKENS", "TOOLS_SYSTEM", "TOOL_RESPONSE", "VOCAB_SIZE",
           "chat_prompt", "train_tokenizer"]

END_OF_TEXT, SYSTEM, USER, ASSISTANT, END = (
    "<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>")
# Phi-4-mini's tool tokens: the tools offered (in the system turn), a call the model makes, and
# what the tool returned. Special tokens, so no text a learner types can forge them.
TOOLS_START, TOOLS_END, CALL_START, CALL_END, TOOL_RESPONSE = (
    "<|tool|>", "<|/tool|>", "<|tool_call|>", "<|/tool_call|>", "<|tool_response|>")
SPECIAL_TOKENS = [END_OF_TEXT, SYSTEM, USER, ASSISTANT, END, TOOLS_START, TOOLS_END, CALL_START, CALL_END,
                  TOOL_RESPONSE]
VOCAB_SIZE = 4096
TOOLS_SYSTEM = "You are a helpful assistant with some tools."  # the system turn when tools come without one

# Phi-3 / Phi-3.5-instruct's chat format: each turn is `<|role|>\n text <|end|>\n`, and the
# prompt ends with `<|assistant|>\n` so the model writes the answer next. With tools (the
# `tools=` of apply_chat_template, OpenAI's function list), Phi-4-mini's layout: the system turn
# ends with `<|tool|>[{name, description, parameters}, ...]<|/tool|>`; an assistant turn that
# calls tools is `<|tool_call|>[{"name": ..., "arguments": {...}}]<|/tool_call|>`; a tool's result
# is a `<|tool_response|>` turn. Without tools the template renders exactly Phi-3's format.
CHAT_TEMPLATE = (
    "{% set ns = namespace(tools='', calls='') %}"
    "{% if tools %}{% for t in tools %}{% set f = t['function'] if t['function'] is defined else t %}"
    "{% set ns.tools = ns.tools + (', ' if ns.tools else '') + '{\"name\": ' + (f['name'] | tojson)"
    " + ', \"description\": ' + (f.get('description', '') | tojson)"
    " + ', \"parameters\": ' + (f.get('parameters', {}) | tojson) + '}' %}"
    "{% endfor %}"
    "{% if messages[0]['role'] != 'system' %}"
    "{{ '<|system|>\n" + TOOLS_SYSTEM + "<|tool|>[' + ns.tools + ']<|/tool|><|end|>\n' }}"
    "{% endif %}{% endif %}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' and (message['content'] or ns.tools) %}"
    "{{ '<|system|>\n' + (message['content'] or '') }}"
    "{% if ns.tools %}{{ '<|tool|>[' + ns.tools + ']<|/tool|>' }}{% endif %}"
    "{{ '<|end|>\n' }}"
    "{% elif message['role'] == 'assistant' and message.get('tool_calls') %}"
    "{% set ns.calls = '' %}"
    "{% for call in message['tool_calls'] %}{% set f = call['function'] if call['function'] is defined else call %}"
    "{% set ns.calls = ns.calls + (', ' if ns.calls else '') + '{\"name\": ' + (f['name'] | tojson)"
    " + ', \"arguments\": ' + (f['arguments'] if f['arguments'] is string else (f['arguments'] | tojson)) + '}' %}"
    "{% endfor %}"
    "{{ '<|assistant|>\n<|tool_call|>[' + ns.calls + ']<|/tool_call|><|end|>\n' }}"
    "{% elif message['role'] == 'tool' %}"
    "{{ '<|tool_response|>\n' + message['content'] + '<|end|>\n' }}"
    "{% elif message['role'] in ['user', 'assistant'] %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)


def train_tokenizer(texts: Iterable[str], vocab_size: int = VOCAB_SIZE) -> PreTrainedTokenizerFast:
    """Learn BPE merges from `texts` and wrap them for transformers (eos = `<|end|>`)."""
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(texts, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token=END_OF_TEXT,
        eos_token=END,
        pad_token=END_OF_TEXT,  # as in Phi-3: padding reuses <|endoftext|>
        unk_token=None,
        additional_special_tokens=[SYSTEM, USER, ASSISTANT, TOOLS_START, TOOLS_END, CALL_START, CALL_END,
                                   TOOL_RESPONSE],
        model_max_length=512,
        clean_up_tokenization_spaces=False,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def chat_prompt(tokenizer, question: str, system: str | None = None,
                history: list[tuple[str, str]] | None = None) -> str:
    """The Phi-3 prompt for a user turn (after earlier (question, answer) turns), ending where the assistant starts."""
    messages = [{"role": "system", "content": system}] if system else []
    for asked, answered in history or []:
        messages += [{"role": "user", "content": asked}, {"role": "assistant", "content": answered}]
    messages.append({"role": "user", "content": question})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
