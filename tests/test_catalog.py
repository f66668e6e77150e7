"""The catalog holds the family's published figures; service facts live in the route table."""

import pytest

from phi_course import catalog
from phi_course.local.embedded import EMBEDDED


def test_moe_figures_are_the_corrected_ones():
    moe = catalog.phi("phi-3.5-moe")
    assert moe.active_params_b == 6.6
    assert 41 <= moe.params_b <= 42  # 16 x 3.8B experts share attention: ~42B, not 60.8B


def test_unknown_names_list_the_known_ones():
    with pytest.raises(KeyError, match="phi-3.5-mini"):
        catalog.phi("phi-9")


def test_each_model_has_one_kind_of_deployment():
    kinds = {key: m.kind for key, m in catalog.FAMILY.items()}
    assert kinds["phi-4-mini"] == "instruct" and kinds["phi-3.5-moe"] == "instruct"
    assert kinds["phi-4-reasoning"] == kinds["phi-4-mini-reasoning"] == "reasoning"
    assert kinds["phi-4-multimodal"] == kinds["phi-3.5-vision"] == "multimodal"


def test_successors_are_catalog_models():
    for m in catalog.FAMILY.values():
        assert m.successor is None or m.successor in catalog.FAMILY, m.key


def test_embedded_models_stand_in_for_catalog_entries():
    for tiny, key in EMBEDDED.items():
        assert catalog.phi(key).embedded == tiny


def test_benchmarks_name_their_source():
    for bench, scores in catalog.BENCHMARKS.items():
        assert catalog.BENCHMARK_SOURCES[bench]
        assert set(scores) <= set(catalog.FAMILY)
    assert catalog.REFERENCE_MODELS["GPT-4"]["params_b"] is None  # only an outside estimate exists
