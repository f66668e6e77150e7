"""Small random changes to a question, new each epoch, so a model learns to read its words.

Introduced in lessons/11_build_a_tiny_slm.ipynb (instruction tuning).

A model this small memorises the exact phrasings it trains on. Asked the same thing in other
words, it answers a neighbouring question. Each epoch, some questions therefore arrive with an
opening phrase, in lower case, without their question mark, with a word dropped or two words
swapped: the wording varies, the words that carry the meaning (the model's name, what is asked)
mostly stay, and the model learns to look for them. The held-out paraphrases measure the effect
(`make eval-models`).
"""

from __future__ import annotations

import random
import re

__all__ = ["CHAR_DROP", "OPENINGS", "SHARE", "WORD_DROP", "ZH_FILLERS", "augment"]

OPENINGS = {
    "en": ["Hey, ", "Quick question: ", "Tell me: ", "Question: ", "So, ", "Can you tell me: ", "I want to know: "],
    "zh": ["请问，", "问一下：", "我想知道：", "你好，", "能告诉我："],
}
ZH_FILLERS = ["一下", "的", "吗", "呢", "请", "是"]
SHARE = 0.7  # of questions changed at all in an epoch; the rest stay as written
WORD_DROP = 0.12  # English: each word but the first, dropped with this chance
CHAR_DROP = 0.05  # Chinese: each Chinese character, dropped with this chance


def augment(question: str, lang: str, rng: random.Random) -> str:
    """`question` with a few random, meaning-keeping changes (or unchanged, 40% of the time)."""
    if rng.random() >= SHARE:
        return question
    text = question
    if rng.random() < 0.3:
        text = text.rstrip("?？。.!！ ")
    if lang == "en":
        words = text.split()
        if len(words) > 3:
            words = [w for i, w in enumerate(words) if i == 0 or rng.random() >= WORD_DROP]
            if rng.random() < 0.3 and len(words) > 2:  # move one word elsewhere in the sentence
                words.insert(rng.randrange(len(words)), words.pop(rng.randrange(len(words))))
        text = " ".join(words)
        if rng.random() < 0.3:
            text = text.lower()
    else:
        if rng.random() < 0.4:
            fillers = [f for f in ZH_FILLERS if f in text]
            if fillers:
                text = text.replace(rng.choice(fillers), "", 1)
        # Chinese characters carry meaning alone: drop a few (names and ids in Latin letters stay).
        text = "".join(c for c in text if not ("\u4e00" <= c <= "\u9fff") or rng.random() >= CHAR_DROP)
    if rng.random() < 0.3:
        opening = rng.choice(OPENINGS[lang])
        text = opening + (text[0].lower() + text[1:] if lang == "en" and text[:1].isupper()
                          and not re.match(r"[A-Z]{2}|[A-Z][a-z]*-\d", text) else text)
    return text or question
