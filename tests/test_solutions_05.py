"""Every exercise solution of lesson 05 runs and gives a sensible answer."""

import base64
import os

import pytest

from lessons.solutions import s05_nvidia_nim as s05
from phi_course.standin import ensure_running

pytestmark = pytest.mark.usefixtures("keyless", "standin")  # no keys; the session's shared stand-in (conftest.py)


def test_lesson05_level1_lists_the_phi_models_the_route_serves():
    ids = s05.exercise_1()
    served = ensure_running().health()["models"]  # what the stand-in says it serves
    assert ids == sorted(m for m in served if "phi" in m.lower()) and ids


def test_lesson05_level2_inlines_small_images_and_refuses_big_ones():
    small = bytes(range(256)) * 4
    prompt = s05.inline_image_prompt("What is this?", small)
    assert prompt.startswith("What is this? <img src=\"data:image/png;base64,")
    assert base64.b64encode(small).decode() in prompt
    with pytest.raises(ValueError, match="assets API"):
        s05.inline_image_prompt("What is this?", os.urandom(140_000))  # about 187,000 base64 characters


def test_lesson05_level3_each_turn_sends_the_history():
    full = s05.exercise_3()
    assert full[0] < full[1] < full[2]
    window = s05.exercise_3(max_turns=1)
    assert window[0] == full[0] and window[2] < full[2]
