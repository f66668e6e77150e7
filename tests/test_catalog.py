"""The catalog is the one place for ids and figures; check it is consistent."""

import pytest

from phi_course import catalog
from phi_course.embedded import EMBEDDED


def test_moe_figures_are_the_corrected_ones():
    moe = catalog.phi("phi-3.5-moe")
    assert moe.active_params_b == 6.6
    assert 41 <= moe.params_b <= 42  # 16 x 3.8B experts share attention: ~42B, not 60.8B


def test_every_route_row_names_a_known_model():
    for row in catalog.ROUTE_MODELS:
        assert row.model in catalog.FAMILY, row
        assert row.route in catalog.ROUTES, row


def test_retired_ids_have_a_live_successor_on_the_same_route():
    for row in catalog.ROUTE_MODELS:
        if row.retired:
            successor = catalog.phi(row.model).successor
            assert successor, row
            assert not catalog.model_id(row.route, successor).retired


def test_github_serves_no_phi3_any_more():
    live = {r.id for r in catalog.live_models("github")}
    assert "microsoft/Phi-4-mini-instruct" in live
    assert not any("Phi-3" in i for i in live)
    assert catalog.find_retired("microsoft/phi-3.5-mini-instruct").route == "github"


def test_unknown_names_list_the_known_ones():
    with pytest.raises(KeyError, match="phi-3.5-mini"):
        catalog.phi("phi-9")
    with pytest.raises(KeyError, match="Routes"):
        catalog.model_id("nowhere", "phi-3-mini")
    with pytest.raises(KeyError, match="serves"):
        catalog.model_id("ollama", "phi-3.5-moe")


def test_embedded_models_stand_in_for_catalog_entries():
    for tiny, key in EMBEDDED.items():
        assert catalog.phi(key).embedded == tiny


def test_benchmarks_name_their_source():
    for bench, scores in catalog.BENCHMARKS.items():
        assert catalog.BENCHMARK_SOURCES[bench]
        assert set(scores) <= set(catalog.FAMILY)
    assert catalog.REFERENCE_MODELS["GPT-4"]["params_b"] is None  # only an outside estimate exists
