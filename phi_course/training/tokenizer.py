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

__all__ = ["CHAT_TEMPLATE", "SPECIAL_TOKENS", "VOCAB_SIZE", "chat_prompt", "train_tokenizer"]

END_OF_TEXT, SYSTEM, USER, ASSISTANT, END = (
    "<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>")
SPECIAL_TOKENS = [END_OF_TEXT, SYSTEM, USER, ASSISTANT, END]
VOCAB_SIZE = 4096

# Phi-3 / Phi-3.5-instruct's chat format: each turn is `<|role|>\n text <|end|>\n`, and the
# prompt ends with `<|assistant|>\n` so the model writes the answer next.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' and message['content'] %}"
    "{{ '<|system|>\n' + message['content'] + '<|end|>\n' }}"
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
        additional_special_tokens=[SYSTEM, USER, ASSISTANT],
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
