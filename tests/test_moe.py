"""phi_course.concepts.moe reads a real forward pass: the experts it reports are the ones the routers used."""

import matplotlib
import numpy as np
import pytest
import torch
from transformers import PhimoeConfig, PhimoeForCausalLM

from phi_course import catalog
from phi_course.concepts import moe
from phi_course.local import embedded

matplotlib.use("Agg")
TEXT = "Phi-3.5-MoE has 16 experts. 它每个词元用两个专家。"


@pytest.fixture(scope="module")
def tiny():
    return embedded.load("tiny-phi35-moe")


def _router_outputs(model, tokenizer, text):
    """(experts, weights) per layer, as each router returned them inside the model."""
    seen = []
    hooks = [layer.mlp.router.register_forward_hook(lambda _m, _i, out: seen.append((out[2], out[1])))
             for layer in model.model.layers]
    try:
        with torch.inference_mode():
            model(**tokenizer(text, return_tensors="pt", add_special_tokens=False))
    finally:
        for hook in hooks:
            hook.remove()
    return seen


def test_route_tokens_reports_the_experts_and_weights_the_forward_pass_used(tiny):
    model, tokenizer = tiny
    routing = moe.route_tokens(model, tokenizer, TEXT)
    seen = _router_outputs(model, tokenizer, TEXT)
    assert routing.layers == len(seen) == model.config.num_hidden_layers
    for layer, (experts, weights) in enumerate(seen):
        assert np.array_equal(routing.experts[layer], experts.numpy())
        assert np.allclose(routing.weights[layer], weights.numpy())
    assert len(routing.tokens) == routing.experts.shape[1]
    # every label is a piece of the text, whole characters only (no '\ufffd' halves)
    assert all(t and t in TEXT and "\ufffd" not in t for t in routing.tokens)
    assert any("专" in t for t in routing.tokens)


def test_loads_and_probabilities_are_shares(tiny):
    routing = moe.route_tokens(*tiny, TEXT)
    assert np.allclose(routing.probs.sum(axis=-1), 1, atol=1e-5)
    load = routing.load()
    assert load.shape == (routing.layers, routing.num_experts)
    assert np.allclose(load.sum(axis=1), 1)
    # every token picked top_k distinct experts
    assert all(len(set(pair)) == routing.top_k for pair in routing.experts.reshape(-1, routing.top_k).tolist())
    assert routing.matrix(0).shape == (routing.num_experts, len(routing.tokens))
    with pytest.raises(IndexError, match="layers 0 to"):
        routing.rows(routing.layers)


def test_softmax_routing_for_other_moe_models_sums_to_one():
    logits = torch.tensor([[2.0, 0.0, 1.0, -1.0], [0.0, 3.0, 0.0, 2.5]])
    experts, weights = moe.top_k_experts(logits, 2)
    assert experts.tolist() == [[0, 2], [1, 3]]
    assert torch.allclose(weights.sum(-1), torch.ones(2))
    assert weights[0, 0] > weights[0, 1]


def test_a_dense_model_has_no_router_to_read():
    dense, tokenizer = embedded.load("tiny-phi35-mini")
    with pytest.raises(ValueError, match="not a mixture-of-experts"):
        moe.route_tokens(dense, tokenizer, "Hello")


def test_empty_text_is_refused(tiny):
    with pytest.raises(ValueError, match="empty"):
        moe.route_tokens(*tiny, "")


def test_phi35_moe_counts_match_the_published_figures():
    with torch.device("meta"):
        model = PhimoeForCausalLM(PhimoeConfig())
    budget = moe.parameter_budget(model)
    entry = catalog.phi("phi-3.5-moe")
    assert budget["num_experts"] == 16 and budget["top_k"] == 2
    assert abs(budget["total"] / 1e9 - entry.params_b) < 0.1
    assert abs(budget["active per token"] / 1e9 - entry.active_params_b) < 0.1
    assert budget["total"] == budget["experts (all)"] + budget["shared (attention, embeddings, norms, routers)"]


def test_plots_draw_one_column_per_token_and_one_bar_per_layer_and_expert(tiny):
    routing = moe.route_tokens(*tiny, TEXT)
    fig = moe.plot_routing(routing, layer=routing.layers - 1)
    assert len(fig.axes[0].get_xticklabels()) == len(routing.tokens)
    fig = moe.plot_expert_load(routing)
    assert len(fig.axes[0].patches) == routing.layers * routing.num_experts
    fig = moe.plot_active_vs_total()
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert catalog.phi("phi-3.5-moe").active_params_b in heights
