"""Every exercise solution of lesson 10 runs and gives a sensible answer."""

import numpy as np
import torch

from lessons.solutions import s10_phi_moe as s10
from phi_course.concepts import memory
from phi_course.local import embedded


def test_lesson10_level1_pairs_match_what_the_routers_did():
    pairs = s10.experts_for("MoE")
    model, tokenizer = embedded.load("tiny-phi35-moe")
    assert len(pairs) == model.config.num_hidden_layers
    # what each layer's router really returned during a forward pass, seen through hooks
    seen = []
    hooks = [layer.mlp.router.register_forward_hook(lambda _m, _i, out: seen.append(out[2]))
             for layer in model.model.layers]
    try:
        inputs = tokenizer(s10.SENTENCE, return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            model(**inputs)
    finally:
        for hook in hooks:
            hook.remove()
    tokens = [tokenizer.decode([i]).strip() for i in inputs["input_ids"][0].tolist()]
    position = tokens.index("MoE")
    assert pairs == [layer_picks[position].tolist() for layer_picks in seen]
    assert all(len(set(p)) == 2 for p in pairs)


def test_lesson10_level2_gap_is_a_distance_per_layer():
    gaps, worst = s10.language_gap()
    model, _ = embedded.load("tiny-phi35-moe")
    assert len(gaps) == model.config.num_hidden_layers
    assert all(0 <= g <= 1 for g in gaps)
    assert gaps[worst] == max(gaps)
    same, _ = s10.language_gap(s10.ENGLISH, s10.ENGLISH)
    assert np.allclose(same, 0)


def test_lesson10_level3_is_the_largest_count_that_fits():
    n, active = s10.most_experts_that_fit(48)
    assert 2 <= n < 16  # all 16 need about 84 GB

    def gb(count):
        return memory.weights_bytes(s10.phi35_moe_with(count)["total"], "bf16") / 1e9

    assert gb(n) <= 48 < gb(n + 1)
    # top-2 routing: fewer experts save memory, not compute per token (only the routers shrink)
    full = s10.phi35_moe_with(16)["active per token"]
    assert abs(active - full) / full < 0.001
