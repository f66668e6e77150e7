"""The memory calculator: its formulas agree with real transformers models, and its widget follows its controls."""

import pytest
import torch

from phi_course import catalog
from phi_course.concepts import memory
from phi_course.widgets import MemoryCalculator


def test_weights_are_parameters_times_bytes_per_weight():
    assert memory.weights_bytes(3.8e9, "fp32") == pytest.approx(15.2e9)
    assert memory.weights_bytes(3.8e9, "bf16") == memory.weights_bytes(3.8e9, "fp16") == pytest.approx(7.6e9)
    assert memory.weights_bytes(3.8e9, "int8") == pytest.approx(3.8e9)
    assert memory.weights_bytes(3.8e9, "int4") == pytest.approx(1.9e9)
    with pytest.raises(ValueError, match="int4"):
        memory.weights_bytes(1e9, "int3")


def test_kv_cache_formula_and_sliding_window_cap():
    # Phi-3-mini, 4K tokens, fp16: 2 x 32 layers x 32 heads x 96 dims x 4096 tokens x 2 bytes
    assert memory.kv_cache_bytes(32, 32, 96, 4096) == 1_610_612_736
    assert memory.kv_cache_bytes(32, 32, 96, 4096, batch=3) == 3 * 1_610_612_736
    assert memory.kv_cache_bytes(32, 8, 128, 8192, window=4096) == memory.kv_cache_bytes(32, 8, 128, 4096)
    assert memory.kv_cache_bytes(32, 8, 128, 1000, window=4096) == memory.kv_cache_bytes(32, 8, 128, 1000)


@pytest.mark.parametrize("key", ["phi-3-mini", "phi-3-medium", "phi-3.5-moe", "phi-4-mini", "phi-4", "mistral-7b"])
def test_parameter_count_matches_the_real_transformers_class(key):
    arch = memory.architecture(key)
    with torch.device("meta"):  # the real architecture, without allocating its weights
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_config(arch.transformers_config())
    assert arch.params == sum(p.numel() for p in model.parameters())


def test_architectures_agree_with_the_published_sizes():
    for key, arch in memory.ARCHITECTURES.items():
        assert arch.params == pytest.approx(memory.published_params(key), rel=0.05), key
    moe = memory.architecture("phi-3.5-moe")
    assert moe.active_params / 1e9 == pytest.approx(catalog.phi("phi-3.5-moe").active_params_b, rel=0.02)
    assert moe.params / 1e9 == pytest.approx(41.9, rel=0.01)  # not 16 x 3.8 = 60.8
    assert memory.architecture("phi-3-mini").active_params == memory.architecture("phi-3-mini").params


def test_kv_cache_formula_matches_a_real_forward_pass():
    from transformers import Phi3ForCausalLM

    arch = memory.Architecture("tiny", "tiny", "phi3", layers=3, hidden=64, heads=4, kv_heads=2, head_dim=16,
                               intermediate=128, vocab=100, context=64)
    config = arch.transformers_config()
    config.pad_token_id, config.bos_token_id, config.eos_token_id = 0, 1, 2
    model = Phi3ForCausalLM(config).eval().to(torch.float16)
    with torch.inference_mode():
        cache = model(torch.arange(3, 23)[None], use_cache=True).past_key_values
    stored = sum(layer.keys.numel() * layer.keys.element_size() + layer.values.numel() * layer.values.element_size()
                 for layer in cache.layers)
    assert stored == memory.kv_cache_bytes(3, 2, 16, 20, bytes_per_value=2)


def test_estimate_uses_total_parameters_and_checks_the_context():
    e = memory.estimate("phi-3-mini", "int4", 4096)
    assert e.weights_gb == pytest.approx(1.9) and e.kv_cache_gb == pytest.approx(1.6106, rel=1e-3)
    assert e.fits("phone") and e.fits("laptop")
    assert not memory.estimate("phi-3-mini", "int4", 131072).fits("gpu-24")  # 51.5 GB of KV cache
    moe = memory.estimate("phi-3.5-moe", "bf16", 4096)
    assert moe.weights_gb == pytest.approx(83.8)  # every expert stays in memory
    assert not moe.fits("gpu-80")
    with pytest.raises(ValueError, match="16,384"):
        memory.estimate("phi-4", "fp16", 32768)


def test_max_context_is_the_edge_of_fitting():
    for device in memory.DEVICES:
        n = memory.max_context("phi-3-mini", "int4", device)
        assert memory.estimate("phi-3-mini", "int4", n).fits(device)
        if n < memory.architecture("phi-3-mini").context:
            assert not memory.estimate("phi-3-mini", "int4", n + 1).fits(device)
    assert memory.max_context("phi-3.5-moe", "fp32", "gpu-80") == 0  # the weights alone do not fit
    # Mistral's sliding window caps the cache, so any context that fits once fits to the end
    assert memory.max_context("mistral-7b", "int4", "laptop") == memory.architecture("mistral-7b").context


def test_fit_table_and_plot():
    table = memory.fit_table("phi-3-mini", 4096)
    assert [r["precision"] for r in table] == ["fp32", "fp16", "int8", "int4"]
    assert table[-1]["Phone (8 GB)"] == "yes" and table[0]["Phone (8 GB)"] == "no"
    fig = memory.plot_memory("phi-3-mini", 4096)
    ax = fig.axes[0]
    assert len(ax.patches) == 8  # weights and KV cache for four precisions
    assert len(ax.lines) == len(memory.DEVICES)


def test_calculator_widget_follows_its_controls():
    calc = MemoryCalculator(model="phi-3-mini", precision="int4", context=4096)
    assert calc.value == memory.estimate("phi-3-mini", "int4", 4096)
    assert "1.9 GB" in calc.summary and "Phone (8 GB): fits" in calc.summary
    assert any("image/png" in o.get("data", {}) for o in calc.figure.outputs)

    calc.precision.value = "fp32"  # as a learner would, through the control
    assert calc.value.precision == "fp32" and "15.2 GB" in calc.summary

    calc.context.value = 131072
    calc.model.value = "phi-4"  # reads at most 16K: the context follows
    assert calc.value.model == "phi-4" and calc.value.context == 16384
    assert len(calc.figure.outputs) == 1  # redrawn, not appended

    e = calc.run(model="phi-3.5-moe", precision="int4", context=32768)
    assert e == calc.value == memory.estimate("phi-3.5-moe", "int4", 32768)
    assert "too big" in calc.summary
