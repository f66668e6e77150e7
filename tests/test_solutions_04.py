"""Every exercise solution of lesson 04 runs and gives a sensible answer."""

import pytest

from lessons.solutions import s04_azure_ai_foundry as s04
from phi_course import routes

pytestmark = pytest.mark.usefixtures("keyless", "standin")  # no keys; the session's shared stand-in (conftest.py)


def test_lesson04_level1_the_old_sdk_still_gets_the_answer():
    assert "3.8B" in s04.exercise_1()


def test_lesson04_level2_streaming_gives_the_openai_sdks_answer():
    text, updates = s04.exercise_2()
    route = routes.resolve("azure", "phi-4-mini")
    whole = route.openai_client().chat.completions.create(
        model=route.model, messages=[{"role": "user", "content": "What is Phi-4-mini?"}],
        max_tokens=60, temperature=0)
    assert text == whole.choices[0].message.content and updates >= 2


def test_lesson04_level3_both_sdks_send_the_same_vision_message(tmp_path):
    image = tmp_path / "chart.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    ours = s04.vision_message("What is this?", image.read_bytes())
    assert ours == s04.azure_vision_message("What is this?", str(image), "png")
    assert ours["content"][1]["image_url"]["url"].startswith("data:image/png;base64,iVBORw0KGgo")
