"""Every exercise solution of lesson 09 runs and gives a sensible answer."""

import random

import pytest
import torch
from PIL import Image

from lessons.solutions import s09_phi_vision as s09
from phi_course.vision import images, runtime, tasks

pytestmark = pytest.mark.usefixtures("keyless")  # a learner with no keys (conftest.py)


def test_lesson09_level1_by_hand_equals_the_helper():
    for kind in tasks.KINDS:
        picture = tasks.scene(kind, 3).images[0]
        url = s09.data_url_by_hand(picture)
        assert url == images.to_data_url(picture)
        assert images.from_data_url(url).tobytes() == picture.convert("RGB").tobytes()


def test_lesson09_level2_shrinks_until_it_fits_and_keeps_the_shape():
    nim = images.LIMITS["NVIDIA NIM (hosted)"]
    photo = Image.frombytes("RGB", (640, 320), random.Random(1).randbytes(640 * 320 * 3))
    url = s09.fit_for(photo, nim)
    assert len(url.split(",", 1)[1]) <= nim.max_base64_chars
    width, height = images.from_data_url(url).size
    assert width == 2 * height and width < 640
    small = tasks.scene("shape", 1).images[0]
    assert s09.fit_for(small, nim) == images.to_data_url(small)  # already fits: unchanged
    impossible = images.Limits("tiny service", None, None, 10, None, "test")
    with pytest.raises(images.ImageError, match="tiny service"):
        s09.fit_for(photo, impossible)


def test_lesson09_level3_quiz_through_the_standin_matches_the_model(standin):
    seeds = [tasks.EVAL_SEEDS[-100 - i] for i in range(10)]
    share = s09.quiz("table_cell", seeds)
    torch.set_num_threads(1)
    model, processor = runtime.load()
    in_process = 0
    for seed in seeds:  # the same messages, through the same generation loop, in this process
        sample = tasks.make("table_cell", seed)
        content = [images.image_part(p) for p in sample.images] + [{"type": "text", "text": sample.question}]
        reply = runtime.chat(model, processor, [{"role": "user", "content": content}], max_new_tokens=60)
        in_process += reply.text.strip() == sample.answer
    assert share == in_process / len(seeds)
    assert share >= 0.7
