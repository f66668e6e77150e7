"""Attention masks: the pure function agrees with what a real Phi3 layer computes."""

import pytest

from phi_course.concepts import attention


def test_full_causal_mask_is_lower_triangular():
    m = attention.mask(6)
    assert m.sum() == 6 * 7 // 2
    assert m[5, 0] and m[3, 3] and not m[2, 3]  # sees the past and itself, never the future
    assert list(attention.attended(m)) == [1, 2, 3, 4, 5, 6]


def test_sliding_window_keeps_the_last_w_tokens():
    m = attention.mask(10, window=3)
    assert list(attention.attended(m)) == [1, 2, 3, 3, 3, 3, 3, 3, 3, 3]
    assert m[9, 7] and not m[9, 6]
    assert (attention.mask(8, window=8) == attention.mask(8)).all()  # a window as long as the text changes nothing
    with pytest.raises(ValueError, match="window"):
        attention.mask(4, window=0)
    with pytest.raises(ValueError, match="n must"):
        attention.mask(0)


@pytest.mark.parametrize("window", [None, 1, 4, 7])
def test_mask_matches_the_attention_weights_of_a_real_phi3_layer(window):
    model = attention.tiny_windowed_model(window)
    assert (attention.measured_mask(model, 12) == attention.mask(12, window)).all()


def test_measured_mask_needs_eager_attention():
    model = attention.tiny_windowed_model(4)
    model.config._attn_implementation = "sdpa"
    with pytest.raises(ValueError, match="eager"):
        attention.measured_mask(model, 8)


def test_plots_and_published_windows():
    fig = attention.plot_masks(12, 3)
    assert len(fig.axes) == 2 and "sliding window 3" in fig.axes[1].get_title()
    facts = {w.model: w for w in attention.WINDOWS}
    assert facts["Phi-3-mini-4k-instruct"].sliding_window == 2047
    assert "at most the last 2,047" in facts["Phi-3-mini-4k-instruct"].effect
    assert "longer than the context" in facts["Phi-3.5-mini-instruct"].effect
    assert facts["Mistral-7B"].sliding_window == 4096
    assert len(attention.window_table()) == len(attention.WINDOWS)
