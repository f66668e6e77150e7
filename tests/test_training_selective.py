"""Selective training: later instruction-tuning epochs skip most of the chat records already learned."""

import dataclasses
import json
import random

import pytest
import torch

from phi_course.training import train
from phi_course.training.architectures import SPECS, TinySpec
from phi_course.training.tokenizer import train_tokenizer

QA = [{"id": f"f{i}", "lang": "en", "question": q, "answer": a}
      for i, (q, a) in enumerate([("How many parameters has Phi-3-mini?", "Phi-3-mini has 3.8B parameters."),
                                  ("Which port does Ollama use?", "Ollama listens on port 11434."),
                                  ("How many experts has Phi-3.5-MoE?", "Phi-3.5-MoE has 16 experts per layer."),
                                  ("What is the context of Phi-3.5-mini?", "Phi-3.5-mini reads 128K tokens.")])]
TEXTS = [{"lang": "en", "text": f"{r['question']} {r['answer']}"} for r in QA] * 5


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer([t["text"] for t in TEXTS] * 10, vocab_size=300)


def test_every_record_trains_until_selection_starts_or_when_it_is_off():
    spec = dataclasses.replace(SPECS["tiny-phi35-mini"], learned_below=0.05, select_from_epoch=2)
    learned = {i: 0.001 for i in range(100)}
    assert train.records_to_train(100, learned, 1, spec) == list(range(100))
    assert train.records_to_train(100, learned, 5, dataclasses.replace(spec, learned_below=0.0)) == list(range(100))


def test_after_selection_starts_every_unlearned_record_trains_and_a_share_of_the_learned_ones():
    spec = dataclasses.replace(SPECS["tiny-phi35-mini"], learned_below=0.05, learned_kept=0.25, select_from_epoch=2)
    # Records 0-999 learned, 1000-1999 not, 2000-2999 never measured (they count as not learned).
    losses = {i: 0.01 for i in range(1000)} | {i: 0.5 for i in range(1000, 2000)}
    chosen = train.records_to_train(3000, losses, 2, spec)
    assert set(range(1000, 3000)) <= set(chosen)
    kept = sum(i < 1000 for i in chosen)
    assert 200 <= kept <= 300  # about a quarter
    assert chosen == sorted(chosen) == train.records_to_train(3000, losses, 2, spec)  # same seed, same choice
    assert chosen != train.records_to_train(3000, losses, 3, spec)  # another epoch re-checks other records


def test_a_shorter_epoch_keeps_the_learning_rate_schedule_of_a_full_one():
    assert [train.schedule_step(1, j, 10, 10) for j in range(10)] == list(range(10, 20))
    short = [train.schedule_step(1, j, 4, 10) for j in range(5)]
    assert short[0] == 10 and short[-1] == 20 and short == sorted(short)  # the same span, in fewer steps


def test_the_loss_of_each_row_is_what_that_row_alone_would_score(tokenizer):
    torch.manual_seed(0)
    model = dataclasses.replace(SPECS["tiny-phi35-mini"], hidden=32, layers=1, heads=2, kv_heads=2,
                                intermediate=64).build(tokenizer).eval()
    examples = train.chat_examples(tokenizer, QA, system=False, rng=random.Random(0))
    batch = next(train.padded_batches(examples, 4, tokenizer.pad_token_id, random.Random(0), keys=list(range(4))))
    rows: list[float] = []
    with torch.no_grad():
        mean = train.next_token_loss(model, batch, per_row=rows)
        assert mean.item() == pytest.approx(train.next_token_loss(model, batch).item(), rel=1e-5)
        for row, key in enumerate(batch["keys"]):
            alone = next(train.padded_batches([examples[key]], 1, tokenizer.pad_token_id, random.Random(0)))
            assert rows[row] == pytest.approx(train.next_token_loss(model, alone).item(), rel=1e-4)


def test_a_run_with_selective_training_skips_learned_records_and_still_learns_them(tokenizer, tmp_path):
    spec = TinySpec("tiny-test", langs=("en",), hidden=32, layers=1, heads=2, kv_heads=2, intermediate=64,
                    pretrain_epochs=1, sft_epochs=30, lr=1e-2, batch_size=2,
                    learned_below=0.3, learned_kept=0.0, select_from_epoch=2)
    qa = QA * 4  # each fact four times: 16 records
    result = train.train_model(spec, tokenizer, qa, TEXTS, tmp_path / "m", seed=1)
    shares = result.sft_trained_share
    assert shares[:2] == [1.0, 1.0] and len(shares) == 30
    assert min(shares[2:]) < 0.5  # the records it had learned were skipped
    assert len(result.sft_losses) < 30 * 8  # fewer steps than full epochs of 8 batches
    saved = json.loads((tmp_path / "m" / "training.json").read_text())
    assert saved["sft_trained_share"] == shares
    # It knows all of them, skipped or not: the saved model's loss on every record, asked plainly.
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tmp_path / "m", dtype=torch.float32).eval()
    examples = train.chat_examples(tokenizer, qa, system=False, rng=random.Random(0))
    every = next(train.padded_batches(examples, len(examples), tokenizer.pad_token_id, random.Random(0)))
    with torch.no_grad():
        assert train.next_token_loss(model, every).item() < 0.3
