"""Training step 2: connect the encoder to the Phi-3 decoder and teach it to answer.

Introduced in lessons/09_phi_vision.ipynb.

This is LLaVA's visual instruction tuning: conversations about a picture,
with the loss on the assistant's answers only. One picture gets several
questions in a row (as LLaVA's data does), so each picture the model reads
teaches it more than one answer. The encoder stays frozen, as in LLaVA;
the projector and the decoder learn.
"""

from __future__ import annotations

import functools
import random

import torch
import torch.nn.functional as F

from phi_course.vision import tasks
from phi_course.vision.architecture import ASSISTANT

__all__ = ["IGNORE", "KIND_CYCLE", "NO_PICTURE_ANSWER", "NO_PICTURE_SHARE", "PICTURES_LAST_SHARE",
           "SYSTEM_PROMPTS", "SYSTEM_SHARE", "TURNS", "answer_loss", "batch", "conversation"]

IGNORE = -100
# Questions per conversation, by kind of picture (a table has the most to ask about).
TURNS = {"bar": 2, "line": 2, "table": 2, "shape": 2, "clip": 2}
# The order conversations cycle through: the kinds that take longer to learn come up twice.
KIND_CYCLE = ("bar", "line", "clip", "table", "shape", "line", "clip", "table")
SYSTEM_SHARE = 0.2  # some conversations open with a system prompt, so lessons may send one
PICTURES_LAST_SHARE = 0.5  # OpenAI's examples put the text part first, Phi's prompts the pictures
NO_PICTURE_SHARE = 0.07  # and some send no picture at all: the model should ask for one, in their language
NO_PICTURE_ANSWER = {
    "en": "Please send a picture with your question: I read charts, tables, shapes and video frames.",
    "zh": "请连同图片一起提问：我能读图表、表格、图形和视频帧。",
}
SYSTEM_PROMPTS = {
    "en": ["You are a helpful assistant.", "Answer briefly.", "You look at pictures and answer questions."],
    "zh": ["你是一个乐于助人的助手。", "请简短回答。"],
}


@functools.cache
def _text_questions(lang: str) -> tuple[str, ...]:
    """The course's trained text questions in `lang` (the held-out ones stay unseen)."""
    from phi_course.training.dataset import qa_records

    return tuple(r["question"] for r in qa_records() if r["lang"] == lang)


def conversation(kind: str, seed: int) -> tuple[list, list[dict]]:
    """(pictures, messages): one scene and a few questions about it, with their answers."""
    rng = random.Random(seed * 7 + 1)
    shown = tasks.scene(kind, seed)
    lang = rng.choice(tasks.LANGS)
    pool = [t for t in tasks.TASKS.values() if t.kind == kind]
    chosen = [rng.choice(pool) for _ in range(TURNS[kind])] if len(pool) < TURNS[kind] \
        else rng.sample(pool, TURNS[kind])
    messages = []
    if rng.random() < SYSTEM_SHARE:
        messages.append({"role": "system", "content": rng.choice(SYSTEM_PROMPTS[lang])})
    if rng.random() < NO_PICTURE_SHARE:
        # Half forget the picture of a picture question; half ask something else entirely
        # (a course question, as a learner might ask any chat model).
        question = tasks.ask(chosen[0], shown, lang, rng)[0] if rng.random() < 0.5 \
            else rng.choice(_text_questions(lang))
        messages += [{"role": "user", "content": question},
                     {"role": "assistant", "content": NO_PICTURE_ANSWER[lang]}]
        return [], messages
    pictures_last = rng.random() < PICTURES_LAST_SHARE
    for turn, task in enumerate(chosen):
        question, answer = tasks.ask(task, shown, lang, rng)
        text = [{"type": "text", "text": question}]
        pictures = [{"type": "image"} for _ in shown.images] if turn == 0 else []
        content = text + pictures if pictures_last else pictures + text
        messages += [{"role": "user", "content": content}, {"role": "assistant", "content": answer}]
    return shown.images, messages


def batch(processor, conversations: list[tuple[list, list[dict]]]) -> dict[str, torch.Tensor]:
    """Right-padded ids, mask, pixels, and labels that are IGNORE everywhere but the answers."""
    texts = [processor.apply_chat_template(messages, tokenize=False) for _, messages in conversations]
    pictures = [p for images, _ in conversations for p in images]
    encoded = processor(images=pictures or None, text=texts, return_tensors="pt", padding=True,
                        padding_side="right")
    ids = encoded["input_ids"]
    labels = torch.full_like(ids, IGNORE)
    assistant = processor.tokenizer.convert_tokens_to_ids(ASSISTANT)
    end = processor.tokenizer.eos_token_id
    for row, sequence in enumerate(ids.tolist()):
        i = 0
        while i < len(sequence):
            if sequence[i] == assistant:
                i += 2  # the answer starts after "<|assistant|>" and its newline
                while i < len(sequence):
                    labels[row, i] = sequence[i]
                    if sequence[i] == end:  # learn to stop, too
                        break
                    i += 1
            i += 1
    return {"input_ids": ids, "attention_mask": encoded["attention_mask"],
            "pixel_values": encoded.get("pixel_values"), "labels": labels}


def answer_loss(model, input_ids, attention_mask, pixel_values, labels) -> torch.Tensor:
    """Next-token loss on the answer tokens only; the vocabulary projection runs just there."""
    hidden = model.model(input_ids=input_ids, attention_mask=attention_mask,
                         pixel_values=pixel_values).last_hidden_state
    targets = labels[:, 1:]
    keep = targets != IGNORE
    logits = model.lm_head(hidden[:, :-1][keep])
    return F.cross_entropy(logits, targets[keep])
