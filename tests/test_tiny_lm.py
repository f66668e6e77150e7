"""The lesson-sized training loop really trains: real data, real Phi3/Phimoe models, real losses."""

import math

import matplotlib
import pytest
import torch

from phi_course.concepts import tiny_lm
from phi_course.training.tokenizer import train_tokenizer

matplotlib.use("Agg")
SIZE = tiny_lm.QUICK


@pytest.fixture(scope="module")
def data():
    texts, qa = tiny_lm.collect(langs=("en",))
    kept = tiny_lm.preprocess(texts + tiny_lm.as_prose(qa)).kept
    train_texts, val_texts, train_qa, val_qa = tiny_lm.split_by_fact(kept, qa)
    tokenizer = train_tokenizer(train_texts, vocab_size=SIZE.vocab_size)
    return tokenizer, train_texts, val_texts, train_qa, val_qa


def test_clean_removes_markup_odd_spaces_and_control_characters():
    assert tiny_lm.clean("<p>Phi-3\u00a0 mini\x07 runs</p>\n\n  on a phone.  ") == "Phi-3 mini runs\non a phone."
    assert tiny_lm.clean("ｐｈｉ") == "phi"  # NFKC folds full-width letters


def test_preprocess_drops_short_texts_and_duplicates_in_order():
    result = tiny_lm.preprocess(["Phi-3-mini has 3.8B parameters.", "tiny", "PHI-3-MINI HAS 3.8B PARAMETERS.",
                            "<b>Ollama serves Phi on port 11434.</b>"], min_chars=10)
    assert result.kept == ["Phi-3-mini has 3.8B parameters.", "Ollama serves Phi on port 11434."]
    assert result.too_short == ["tiny"] and len(result.duplicates) == 1
    assert result.summary() == {"kept": 2, "dropped: too short": 1, "dropped: duplicate": 1}


def test_split_is_seeded_disjoint_and_complete():
    items = list(range(50))
    train, val = tiny_lm.split(items, 0.2, seed=3)
    assert (train, val) == tiny_lm.split(items, 0.2, seed=3)
    assert len(val) == 10 and sorted(train + val) == items
    with pytest.raises(ValueError):
        tiny_lm.split(items, 1.5)
    with pytest.raises(ValueError):
        tiny_lm.split([1], 0.5)


def test_split_by_fact_keeps_held_out_answers_out_of_training(data):
    _, train_texts, val_texts, train_qa, val_qa = data
    assert val_qa and val_texts
    assert not {r["id"] for r in train_qa} & {r["id"] for r in val_qa}
    held = {tiny_lm.clean(r["answer"]) for r in val_qa}
    assert not any(a in t for t in train_texts for a in held)


def test_moe_twin_has_the_same_active_parameters_and_more_in_all(data):
    tokenizer = data[0]
    dense = tiny_lm.count_parameters(tiny_lm.build_model(tokenizer, SIZE))
    moe = tiny_lm.count_parameters(tiny_lm.build_model(tokenizer, SIZE, moe=True))
    assert dense["total"] == dense["active per token"]
    assert abs(moe["active per token"] - dense["active per token"]) / dense["total"] < 0.02
    assert moe["total"] > 1.3 * dense["total"]


def test_untrained_model_scores_like_uniform_guessing_and_training_lowers_the_loss(data):
    tokenizer, train_texts, val_texts, _, _ = data
    model = tiny_lm.build_model(tokenizer, SIZE)
    val = tiny_lm.validation_batches(tokenizer, val_texts, SIZE)
    before = tiny_lm.evaluate(model, val)
    assert abs(before - math.log(len(tokenizer))) < 0.3
    threads = torch.get_num_threads()
    log = tiny_lm.train(model, tiny_lm.pretrain_batches(tokenizer, train_texts, SIZE), 40, SIZE.lr, progress=False)
    assert torch.get_num_threads() == threads  # the caller's setting is restored
    assert len(log.losses) == 40 and log.tokens > 0 and log.seconds > 0
    assert log.final < log.losses[0] - 1.0
    assert tiny_lm.evaluate(model, val) < before - 1.0
    assert not model.training


def test_chat_batches_train_on_the_answer_only(data):
    tokenizer, _, _, train_qa, _ = data
    batch = next(tiny_lm.chat_batches(tokenizer, train_qa[:1], SIZE))
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    assert tokenizer.decode(ids[labels != -100]) == train_qa[0]["answer"] + tokenizer.eos_token
    assert "<|user|>" in tokenizer.decode(ids)


def test_train_refuses_batches_that_run_out(data):
    tokenizer, train_texts, _, _, _ = data
    model = tiny_lm.build_model(tokenizer, SIZE)
    finite = [next(tiny_lm.pretrain_batches(tokenizer, train_texts, SIZE))] * 3
    with pytest.raises(ValueError, match="ran out after 3 of 5"):
        tiny_lm.train(model, iter(finite), 5, SIZE.lr, progress=False)


def test_dense_vs_moe_trains_both_on_the_same_batches(data):
    tokenizer, train_texts, val_texts, _, _ = data
    plot = tiny_lm.LiveLossPlot(every=5)
    result = tiny_lm.dense_vs_moe(tokenizer, train_texts, val_texts, SIZE, steps=8, plot=plot, progress=False)
    rows = result.rows()
    assert [r["model"] for r in rows] == ["dense (Phi3ForCausalLM)", "MoE (PhimoeForCausalLM)"]
    assert all(len(log.losses) == 8 for log in result.logs.values())
    assert all(0 < v < 10 for v in result.validation.values())
    # the same batches: both start from the same data, so their first losses are close
    first = [log.losses[0] for log in result.logs.values()]
    assert abs(first[0] - first[1]) < 0.2
    # the live plot holds both curves, raw and smoothed
    assert len(plot.figure.axes[0].lines) == 4


def test_smooth_and_with_steps():
    assert tiny_lm.smooth([1, 2, 3, 4], 2) == [1, 1.5, 2.5, 3.5]
    longer = tiny_lm.with_steps(SIZE, 2)
    assert longer.pretrain_steps == 2 * SIZE.pretrain_steps and longer.hidden == SIZE.hidden
