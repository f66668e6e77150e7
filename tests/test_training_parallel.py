"""make models: which model trains in which lane, and with what command."""

from pathlib import Path

import pytest

from phi_course.local.embedded import EMBEDDED
from phi_course.training.parallel import JOBS, Job, plan

SHIPPED = sorted([*EMBEDDED, "tiny-phi35-vision"])


def test_every_shipped_model_is_trained_exactly_once():
    assert sorted(j.model for j in JOBS) == SHIPPED
    for jobs in (1, 2, 3, 8):
        assert sorted(j.model for lane in plan(jobs) for j in lane) == SHIPPED


def test_two_lanes_start_with_the_longest_jobs_and_end_close_together():
    lanes = plan(2)
    assert {lane[0].model for lane in lanes} == {"tiny-phi35-mini", "tiny-phi35-moe"}
    lengths = [sum(j.minutes for j in lane) for lane in lanes]
    assert max(lengths) - min(lengths) <= min(j.minutes for j in JOBS)


def test_more_jobs_than_models_gives_one_lane_per_model():
    assert [len(lane) for lane in plan(10)] == [1] * len(JOBS)


def test_zero_jobs_is_refused_with_the_option_name():
    with pytest.raises(ValueError, match="--jobs"):
        plan(0)


def test_each_command_trains_one_model_on_one_thread(tmp_path: Path):
    text, vision = Job("tiny-phi3-mini", "phi_course.training", 1), Job("tiny-phi35-vision", "phi_course.vision", 1)
    assert text.command(tmp_path)[2:] == ["phi_course.training", "train", "--only", "tiny-phi3-mini",
                                          "--out", str(tmp_path), "--threads", "1"]
    # the vision trainer takes the model's own folder
    assert vision.command(tmp_path)[2:] == ["phi_course.vision", "train", "--out",
                                            str(tmp_path / "tiny-phi35-vision"), "--threads", "1"]
    assert "--out" not in text.command()
