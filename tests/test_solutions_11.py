"""Every exercise solution of lesson 11 runs and gives a sensible answer (quick sizes under `make test`)."""

import math

from lessons.solutions import s11_build_a_tiny_slm as s11


def test_lesson11_level1_unseen_script_costs_bytes():
    counts = s11.token_counts()
    assert counts["English"]["tokens per character"] < 1  # words it learnt are whole tokens
    # Chinese it never saw is spelt out byte by byte: 3 UTF-8 bytes per character (the full stop too)
    assert counts["Chinese"]["tokens"] == len(s11.CHINESE.encode("utf-8"))


def test_lesson11_level2_taught_facts_beat_unseen_ones():
    taught, unseen = s11.taught_vs_unseen()
    assert 0 <= unseen <= 1 and 0 <= taught <= 1
    assert taught >= 0.5, taught
    assert taught > unseen


def test_lesson11_level3_chinese_training_lowers_the_chinese_loss():
    result = s11.learn_chinese()
    assert all(math.isfinite(v) for v in result.values())
    assert result["Chinese loss after"] < result["Chinese loss before"] - 0.3
