"""The family explorer: tables and filters read the catalog, charts name their sources, the widget follows its controls."""

import pytest

from phi_course import catalog, route_table
from phi_course.concepts import family
from phi_course.widgets import FamilyExplorer


def test_filters_select_the_right_members():
    assert {m.key for m in family.select(modality="image")} == {"phi-3-vision", "phi-3.5-vision", "phi-4-multimodal"}
    assert {m.key for m in family.select(generation="Phi-4")} == {"phi-4", "phi-4-mini", "phi-4-multimodal",
                                                                   "phi-4-reasoning", "phi-4-reasoning-plus",
                                                                   "phi-4-mini-reasoning", "phi-4-mini-flash-reasoning"}
    small_long = family.select(max_params_b=4, min_context_k=128)
    assert "phi-3.5-mini" in {m.key for m in small_long} and all(m.params_b <= 4 for m in small_long)
    assert {m.key for m in family.select(multilingual=True, generation="Phi-3.5")} == {"phi-3.5-mini", "phi-3.5-moe"}
    assert len(family.family_table()) == len(catalog.FAMILY)


def test_route_views_mirror_the_route_table():
    matrix = {r["model"]: r for r in family.route_matrix()}
    for row in route_table.MODEL_IDS:
        cell = matrix[catalog.phi(row.model).name][row.route]
        assert cell == {"served": "yes", "retired": f"retired {row.status.since}"}.get(row.status.state, "unverified")
    assert matrix["Phi-3.5-MoE"]["azure"] == "retired 2025-08-30" and matrix["Phi-4"]["huggingface"] == "yes"
    assert matrix["Phi-3-small"]["ollama"] == "-"
    rows = family.routes_for("phi-3.5-moe")
    assert {r["route"]: r["status"] for r in rows}["github"] == "retired since 2026-07-30"
    with pytest.raises(KeyError, match="phi-3.5-mini"):
        family.routes_for("phi-9")


def test_training_compute_agrees_with_the_published_hardware():
    mini = next(t for t in family.TRAINING if t.model == "phi-3-mini")
    assert mini.flops == pytest.approx(6 * 3.8e9 * 4.9e12)  # the June 2024 checkpoint's card
    for t in family.TRAINING:
        if t.flops_per_gpu_second:
            # what each GPU had to sustain: well below an H100's ~1e15 bf16 peak, above 5% of it
            assert 5e13 < t.flops_per_gpu_second < 1e15, t.model
    assert family.training_flops(1e9, 1e12) == 6e21


def test_languages_claims_and_successors():
    assert len(family.PHI35_LANGUAGES) == 23 and "Chinese" in family.PHI35_LANGUAGES
    assert all(c.model in catalog.FAMILY and c.source for c in family.CLAIMS)
    assert all(r["source"] for r in family.claims_table())
    rows = {r["model"]: r for r in family.successors_table()}
    # The successors Microsoft named when Foundry retired Phi-3.x (route_table.FOUNDRY_RETIRED).
    assert rows["Phi-3.5-MoE"]["replaced by"] == "Phi-4-mini" and rows["Phi-3-medium"]["replaced by"] == "Phi-4"
    assert rows["Phi-3.5-vision"]["replaced by"] == "Phi-4-mini" and "Phi-4-multimodal" in rows["Phi-3.5-vision"]["note"]
    for row in route_table.ids_on("azure"):
        if row.retired and row.model in catalog.FAMILY and catalog.phi(row.model).successor:
            assert route_table.successor(row).model == catalog.phi(row.model).successor, row


def test_charts_label_estimates_and_sources():
    sizes = family.plot_sizes({"tiny": 3e6})
    labels = [t.get_text() for t in sizes.axes[0].get_yticklabels()]
    assert "GPT-4 (unconfirmed outside estimate)" in labels and labels[0] == "tiny"
    bench = family.plot_benchmarks("MMLU", highlight="phi-3-mini")
    texts = " ".join(t.get_text() for t in bench.axes[0].texts)
    assert "arXiv:2404.14219" in texts
    with pytest.raises(KeyError, match="MMLU"):
        family.plot_benchmarks("HumanEval")
    assert len(family.plot_training_compute({"course": 1e15}).axes[0].patches) == len(family.TRAINING) + 1


def test_moe_breakdown_shows_naive_total_and_active():
    from phi_course.concepts import memory

    fig = family.plot_moe_breakdown(memory.architecture("phi-3.5-moe"))
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels == ["60.8B", "41.9B", "6.6B"]
    with pytest.raises(ValueError, match="no experts"):
        family.plot_moe_breakdown(memory.architecture("phi-3-mini"))


def test_explorer_widget_follows_its_controls():
    explorer = FamilyExplorer()
    assert explorer.value == "phi-3.5-mini" and explorer.has_chart

    explorer.model.value = "phi-3.5-moe"  # as a learner would
    assert explorer.value == "phi-3.5-moe"
    assert "41.9" in explorer.text and "retired" in explorer.text and "tiny-phi35-moe" in explorer.text

    explorer.generation.value = "Phi-4"  # the list narrows; the choice moves into it
    assert {k for _, k in explorer.model.options} == {"phi-4", "phi-4-mini", "phi-4-multimodal", "phi-4-reasoning",
                                                       "phi-4-reasoning-plus", "phi-4-mini-reasoning",
                                                       "phi-4-mini-flash-reasoning"}
    assert explorer.value == "phi-4" and explorer.has_chart  # Phi-4's MMLU, from its card
    explorer.model.value = "phi-4-mini-reasoning"
    assert explorer.has_chart  # the reasoning models' AIME 2024
    explorer.model.value = "phi-4-multimodal"
    assert not explorer.has_chart and "no published benchmark score" in explorer.text

    assert explorer.run("phi-3-mini") == "phi-3-mini"  # outside the filter: the filter opens
    assert explorer.generation.value == "all" and explorer.has_chart
