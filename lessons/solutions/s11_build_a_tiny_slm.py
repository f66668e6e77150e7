"""Solutions to the exercises of lessons/11_build_a_tiny_slm.ipynb."""

import random

import torch

from phi_course.concepts import tiny_lm
from phi_course.local.generation import chat
from phi_course.training.tokenizer import train_tokenizer

ENGLISH = "A small language model runs on a phone."
CHINESE = "小语言模型可以在手机上运行。"


def english_tokenizer():
    """The lesson's tokenizer: byte-level BPE learnt from the English data only."""
    texts, qa = tiny_lm.collect(langs=("en",))
    return train_tokenizer(tiny_lm.preprocess(texts + tiny_lm.as_prose(qa)).kept, vocab_size=tiny_lm.sizes().vocab_size)


def token_counts(english: str = ENGLISH, chinese: str = CHINESE) -> dict[str, dict[str, float]]:
    """Level 1: tokens, characters and tokens per character of each sentence."""
    tokenizer = english_tokenizer()
    counts = {}
    for language, sentence in (("English", english), ("Chinese", chinese)):
        tokens = len(tokenizer.tokenize(sentence))
        counts[language] = {"tokens": tokens, "characters": len(sentence),
                            "tokens per character": round(tokens / len(sentence), 2)}
    # English words the tokenizer has seen are whole tokens (well under 1 per character);
    # Chinese characters it never saw fall back to their UTF-8 bytes: 3 tokens each.
    return counts


def fact_accuracy(model, tokenizer, records: list[dict], max_new_tokens: int = 32) -> float:
    """Level 2: the share of questions whose (greedy) answer contains the fact's key."""
    if not records:
        raise ValueError("No records to score.")
    right = 0
    for record in records:
        answer = chat(model, tokenizer, [{"role": "user", "content": record["question"]}],
                      max_new_tokens=max_new_tokens).text
        right += record["key"] in answer
    return right / len(records)


def taught_vs_unseen(n_facts: int = 15, seed: int = 0) -> tuple[float, float]:
    """Level 2: instruction-tune a fresh model on `n_facts` facts; accuracy on them and on
    `n_facts` facts it never saw (one question per fact)."""
    _, qa = tiny_lm.collect(langs=("en",))
    ids = sorted({r["id"] for r in qa})
    random.Random(seed).shuffle(ids)
    taught_ids, unseen_ids = set(ids[:n_facts]), set(ids[n_facts:2 * n_facts])
    taught = [r for r in qa if r["id"] in taught_ids]
    unseen = [r for r in qa if r["id"] in unseen_ids]
    size = tiny_lm.sizes()
    # The tokenizer may read every answer: it learns how to cut text, not facts.
    tokenizer = train_tokenizer(tiny_lm.as_prose(qa), vocab_size=size.vocab_size)
    model = tiny_lm.build_model(tokenizer, size, seed=seed)
    tiny_lm.train(model, tiny_lm.chat_batches(tokenizer, taught, size, seed=seed), size.sft_steps * 2, size.lr,
             name="instruct", progress=False)

    def first_question(records):
        seen, out = set(), []
        for r in records:
            if r["id"] not in seen:
                seen.add(r["id"])
                out.append(r)
        return out

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the lesson: a model this small answers fastest on one thread
    try:
        return (fact_accuracy(model, tokenizer, first_question(taught)),
                fact_accuracy(model, tokenizer, first_question(unseen)))
    finally:
        torch.set_num_threads(threads)


def learn_chinese(steps: int | None = None, seed: int = 0) -> dict[str, float]:
    """Level 3: pre-train on English, then continue on Chinese; validation losses before and after.

    The tokenizer learns from both languages, as Phi-3's does, so that Chinese text
    is not spelt out byte by byte; only the model's training changes.
    """
    size = tiny_lm.sizes()
    steps = steps or size.pretrain_steps
    corpus = {}
    for language in ("en", "zh"):
        texts, qa = tiny_lm.collect(langs=(language,))
        train, val = tiny_lm.split(tiny_lm.preprocess(texts + tiny_lm.as_prose(qa)).kept, 0.1, seed)
        corpus[language] = (train, val)
    tokenizer = train_tokenizer(corpus["en"][0] + corpus["zh"][0], vocab_size=size.vocab_size)
    model = tiny_lm.build_model(tokenizer, size, seed=seed)

    def losses() -> tuple[float, float]:
        return tuple(tiny_lm.evaluate(model, tiny_lm.validation_batches(tokenizer, corpus[lang][1], size))
                     for lang in ("en", "zh"))

    tiny_lm.train(model, tiny_lm.pretrain_batches(tokenizer, corpus["en"][0], size, seed), steps, size.lr,
             name="English", progress=False)
    en_before, zh_before = losses()
    tiny_lm.train(model, tiny_lm.pretrain_batches(tokenizer, corpus["zh"][0], size, seed), steps, size.lr,
             name="Chinese", progress=False)
    en_after, zh_after = losses()
    return {"Chinese loss before": zh_before, "Chinese loss after": zh_after,
            "English loss before": en_before, "English loss after": en_after}
