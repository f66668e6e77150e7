"""The three embedded models: their Phi architecture, size and training recipe.

Introduced in lessons/11_build_a_tiny_slm.ipynb.

They are the real Phi classes from transformers, only much smaller. The two
dense models have the same shape and differ only in their data (English only
vs English and Chinese), which is the Phi-3 -> Phi-3.5 story. The MoE model
spends about the same compute per token as the dense ones: each expert is half
as wide, and two of them run for every token.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CONTEXT", "SPECS", "TinySpec"]

# ONNX Runtime GenAI's model builder picks Phi-3's short-context variant only when
# these two are equal; with no rope scaling the model is a plain Phi-3 decoder.
CONTEXT = 512


@dataclass(frozen=True)
class TinySpec:
    """How to build and train one embedded model."""

    name: str
    langs: tuple[str, ...]  # which languages of the dataset it trains on
    moe: bool = False
    hidden: int = 192
    layers: int = 4
    heads: int = 4
    kv_heads: int = 4
    intermediate: int = 512  # per expert for the MoE model
    experts: int = 4
    experts_per_token: int = 2
    pretrain_epochs: int = 2
    # The hand-written facts are asked 33-37 ways per language, the catalog's 3-9, each reworded a
    # little every epoch (augment.py). More phrasings, not more epochs, taught the models to read
    # (tiny-phi35-mini, held-out paraphrases en/zh): 12 a fact and eight epochs, 72/69%; 24 and six
    # epochs, 88/88%; 36 and six epochs, 89/93% (2026-12-02; five epochs: 88/87%); the same with the
    # answers that fit only some of their questions rewritten, 91/94% (2026-12-02).
    sft_epochs: int = 6
    # Measured here: small batches at a moderate rate memorise the facts far sooner than larger
    # batches or rates. 2026-12-02, held out en/zh, six epochs: batch 32 at 2.1e-3, 83/82% against
    # 91/94% (15% less time); dropout 0.1 on each block, 88/93%. tiny-phi35-moe at 2e-3: 81/85%.
    lr: float = 1.5e-3
    batch_size: int = 16
    # Selective training (train.records_to_train): from epoch `select_from_epoch` (0-based) on, a chat
    # record whose loss was under `learned_below` when it last trained is trained again only
    # `learned_kept` of the time. Such a record's gradient is nearly zero anyway. 0 = off.
    # Measured 2026-12-02, tiny-phi35-mini, six epochs, one thread beside another job: epochs 3-6 trained
    # 89, 67, 48 and 35% of the records; 998 CPU-seconds against 1369 for every record every epoch (27%
    # less), held out 89.7/93.7% against 91.1/94.0% (within a retrain's churn of about 25 answers); with
    # the follow-ups widened (dataset.FOLLOW_UPS), 91.9/94.0% in 1059 s.
    learned_below: float = 0.05
    learned_kept: float = 0.25
    select_from_epoch: int = 2

    def config(self, tokenizer):
        """A transformers config for this spec (Phi3Config or PhimoeConfig)."""
        from transformers import Phi3Config, PhimoeConfig

        common = dict(
            vocab_size=len(tokenizer),
            hidden_size=self.hidden,
            intermediate_size=self.intermediate,
            num_hidden_layers=self.layers,
            num_attention_heads=self.heads,
            num_key_value_heads=self.kv_heads,
            max_position_embeddings=CONTEXT,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            tie_word_embeddings=True,  # one matrix for input and output: a quarter fewer parameters here
        )
        if self.moe:
            config = PhimoeConfig(**common, num_local_experts=self.experts,
                                  num_experts_per_tok=self.experts_per_token, rope_scaling=None)
            # A plain loop over the experts: on a CPU it is twice as fast as the default grouped_mm.
            config._experts_implementation = "eager"
            return config
        return Phi3Config(**common, original_max_position_embeddings=CONTEXT, rope_scaling=None)

    def build(self, tokenizer):
        """A freshly initialised model (seed torch first for reproducibility)."""
        from transformers import Phi3ForCausalLM, PhimoeForCausalLM

        cls = PhimoeForCausalLM if self.moe else Phi3ForCausalLM
        return cls(self.config(tokenizer))


SPECS: dict[str, TinySpec] = {
    s.name: s
    for s in [
        # Half the data of the bilingual models, and no second language sharing the same
        # numbers and ids: it needs more steps per fact, so smaller batches.
        TinySpec("tiny-phi3-mini", langs=("en",), sft_epochs=4, batch_size=8),
        # 1.2e-3 since training moved to float32 (2026-12-02, held out en/zh): 90.7/93.8%. At 1.5e-3 in float32:
        # 87.9/93.3% (in bf16 it had scored 91.9/94.0%: a retrain moves about 25 answers, this one 20 down).
        # Seven epochs at 1.5e-3 took 10% more time (1046 CPU-seconds against 949).
        TinySpec("tiny-phi35-mini", langs=("en", "zh"), lr=1.2e-3),
        # The router's noisy top-2 choice makes the MoE learn a little slower than the dense model.
        # Running every expert on every token, mixed by the router's weights (the same sums, as two large
        # matrix products a layer instead of a loop over the experts), was slower in float32: 0.34 s a
        # step against 0.23 s for the loop (2026-12-02, one run of each, one after the other, beside two
        # training jobs: a rough figure).
        # Six epochs at 1.1e-3 with selective training (2026-12-02, widened follow-ups, held out en/zh):
        # 91.1/94.2% in 1325 CPU-seconds (the same recipe on a later machine, which rounds a little
        # differently: 91.5/91.9% in 1172 s). At the dense models' 1.5e-3: 87.7/92.5% (1393 s); eight
        # epochs at 1.5e-3: 92.3/92.7% in 1576 s (19% more). Before selective training, five
        # epochs every record: 88/94% (1481 s); six: 89/94% in 23% more time.
        TinySpec("tiny-phi35-moe", langs=("en", "zh"), moe=True, intermediate=256, lr=1.1e-3),
    ]
}
