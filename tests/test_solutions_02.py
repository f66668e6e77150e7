"""Every exercise solution of lesson 02 runs and gives a sensible answer."""

import pytest

from lessons.solutions import s02_phi_family as s02
from phi_course import catalog, route_table


def test_lesson02_level1_image_models_with_long_context():
    keys = s02.exercise_1()
    assert set(keys) == {"phi-3-vision", "phi-3.5-vision", "phi-4-multimodal"}
    assert all("image" in catalog.phi(k).modalities and "128K" in catalog.phi(k).context for k in keys)


def test_lesson02_level2_every_retired_foundry_id_has_a_served_successor():
    replacements = s02.exercise_2()
    retired = {r.id for r in route_table.ids_on("azure") if r.retired}
    assert set(replacements) == retired and len(retired) >= 6
    served = {r.id for r in route_table.ids_on("azure", include_retired=False)}
    assert set(replacements.values()) <= served
    assert replacements["Phi-3.5-mini-instruct"] == "Phi-4-mini-instruct"
    assert replacements["Phi-3-medium-4k-instruct"] == "Phi-4"


@pytest.mark.parametrize("key", ["phi-4-mini", "phi-3-mini", "phi-3.5-moe"])
def test_lesson02_level3_counted_parameters_match_the_published_size(key):
    counted, published = s02.exercise_3(key)
    assert counted == pytest.approx(published, rel=0.02)
