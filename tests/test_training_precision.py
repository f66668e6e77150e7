"""`make models` trains the dense models' matrix products in bfloat16 where the CPU has it, the MoE in float32."""

import random

import pytest
import torch

from phi_course.training import train
from phi_course.training.architectures import SPECS
from phi_course.training.tokenizer import train_tokenizer

TEXTS = ["Phi-3-mini has 3.8B parameters.", "Phi-3.5-MoE has 16 experts per layer.", "Ollama listens on 11434."] * 20


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(TEXTS, vocab_size=300)


def test_the_dense_models_train_in_bf16_and_the_moe_in_float32():
    assert SPECS["tiny-phi3-mini"].bf16 and SPECS["tiny-phi35-mini"].bf16
    assert not SPECS["tiny-phi35-moe"].bf16


@pytest.mark.skipif(not train.bf16_is_native(), reason="this CPU has no bfloat16 in hardware: float32 is used")
def test_a_bf16_training_step_runs_its_matrix_products_in_bf16_and_keeps_float32_weights(tokenizer):
    spec = SPECS["tiny-phi35-mini"]
    torch.manual_seed(0)
    model = spec.build(tokenizer)
    assert model.config._attn_implementation == "eager"  # the fused attention is slow backwards in bf16
    seen = []
    hook = model.model.layers[0].mlp.down_proj.register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
    batch = next(train.padded_batches(train.chat_examples(tokenizer, [
        {"lang": "en", "question": "How many parameters?", "answer": "3.8B"}] * 4, system=False,
        rng=random.Random(0)), 4, tokenizer.pad_token_id, random.Random(0)))
    with train.training_precision(spec):
        loss = train.next_token_loss(model, batch)
    loss.backward()
    hook.remove()
    assert seen == [torch.bfloat16] and loss.dtype == torch.float32 and torch.isfinite(loss)
    assert all(p.dtype == torch.float32 and p.grad is not None for p in model.parameters() if p.requires_grad)


def test_the_moe_and_cpus_without_bf16_train_in_float32(monkeypatch):
    assert not train.training_precision(SPECS["tiny-phi35-moe"])._enabled
    monkeypatch.setattr(train, "bf16_is_native", lambda: False)  # as on a CPU without AVX-512 BF16 or AMX
    assert not train.training_precision(SPECS["tiny-phi35-mini"])._enabled
