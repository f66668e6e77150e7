"""The pictures and questions the vision model learns from: reproducible, right, and apart from the test set."""

import numpy as np
import pytest

from phi_course.vision import draw, instruct, tasks


def pixels(image):
    return np.asarray(image).astype(int)


def test_same_seed_same_picture_other_seed_other_picture():
    for kind in tasks.KINDS:
        a, b, c = tasks.scene(kind, 11), tasks.scene(kind, 11), tasks.scene(kind, 12)
        assert all((pixels(x) == pixels(y)).all() for x, y in zip(a.images, b.images, strict=True))
        assert a.facts == b.facts and a.facts != c.facts


def test_training_and_evaluation_seeds_never_meet():
    assert tasks.TRAIN_SEEDS.stop <= tasks.EVAL_SEEDS.start


def coloured_columns(image, y):
    """How many separate runs of non-white, non-grey pixels cross row y."""
    row = pixels(image)[y]
    coloured = (row.max(axis=1) - row.min(axis=1)) > 60  # saturated, unlike ink, grid and white
    return int(np.sum(coloured[1:] & ~coloured[:-1]) + coloured[0])


@pytest.mark.parametrize("seed", range(20))
def test_bar_count_in_the_answer_is_the_number_of_bars_drawn(seed):
    shown = tasks.scene("bar", seed)
    area = draw.PlotArea.for_size(draw.SIZE)
    assert coloured_columns(shown.images[0], int(area.bottom) - 3) == shown.facts["n"]
    sample = tasks.make("bar_count", seed)
    assert f" {shown.facts['n']} " in sample.answer


@pytest.mark.parametrize("seed", range(20))
def test_tallest_bar_is_the_one_drawn_highest(seed):
    shown = tasks.scene("bar", seed)
    area = draw.PlotArea.for_size(draw.SIZE)
    image = pixels(shown.images[0])
    tops = []
    for x in area.slot_centres(shown.facts["n"]):
        column = image[:, int(x)]
        coloured = np.nonzero((column.max(axis=1) - column.min(axis=1)) > 60)[0]
        tops.append(coloured.min())
    assert draw.LETTERS[int(np.argmin(tops))] == shown.facts["tallest"]
    assert tasks.make("bar_tallest", seed, "zh").answer == f"最高的柱子是 {shown.facts['tallest']}。"


def test_clip_object_is_absent_before_its_first_frame_and_then_moves_its_way():
    for seed in range(20):
        shown = tasks.scene("clip", seed)
        first = shown.facts["first"]
        centres = []
        for t, image in enumerate(shown.images):
            p = pixels(image)
            coloured = np.argwhere((p.max(axis=2) - p.min(axis=2)) > 60)
            if t + 1 < first:
                assert len(coloured) == 0
            else:
                assert len(coloured) > 0
                centres.append(coloured.mean(axis=0))  # (row, column)
        dx, dy, _, _ = tasks.DIRECTIONS[shown.facts["direction"]]
        moved = centres[-1] - centres[0]
        assert np.sign(round(moved[1])) == dx and np.sign(round(moved[0])) == dy


def test_every_task_asks_and_answers_in_both_languages():
    for name, task in tasks.TASKS.items():
        en, zh = tasks.make(name, 3, "en"), tasks.make(name, 3, "zh")
        assert en.question == task.questions["en"][0] and zh.question == task.questions["zh"][0]
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in en.answer)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.answer)
        assert len(en.images) == (tasks.FRAMES if task.kind == "clip" else 1)


def test_table_answers_read_the_drawn_table():
    for seed in range(20):
        shown = tasks.scene("table", seed)
        r, c = shown.facts["highlight"]
        image = pixels(shown.images[0])
        size = image.shape[0]
        corner = image[int((r + 0.1) * size / 2), int((c + 0.1) * size / 2)]  # inside the cell, off the digit
        assert tuple(corner) == draw.HIGHLIGHT
        assert tasks.make("table_cell", seed, "zh").answer == f"这个数字是 {shown.facts['table'][r][c]}。"
        largest = max(max(row) for row in shown.facts["table"])
        assert tasks.make("table_max", seed).answer == f"The largest number is {largest}."


def test_english_articles_read_naturally():
    answers = {tasks.make("shape", seed).answer.split()[0] for seed in range(60)}
    assert answers == {"A", "An"}
    assert all(tasks.make("shape", s).answer.startswith("An orange") for s in range(60)
               if tasks.scene("shape", s).facts["colour"] == "orange")


def test_training_conversations_label_only_the_answers():
    from phi_course.vision import architecture

    processor = architecture.build_processor(architecture.base_tokenizer())
    convs = [instruct.conversation(kind, seed) for seed, kind in enumerate(tasks.KINDS)]
    batch = instruct.batch(processor, convs)
    tokenizer = processor.tokenizer
    for row, (_, messages) in enumerate(convs):
        learned = [t for t in batch["labels"][row].tolist() if t != instruct.IGNORE]
        answers = [m["content"] for m in messages if m["role"] == "assistant"]
        assert tokenizer.decode(learned) == "<|end|>".join(answers) + "<|end|>"
    assert batch["pixel_values"].shape[0] == sum(len(images) for images, _ in convs)


def test_a_task_asks_in_the_course_language_unless_told(monkeypatch):
    from phi_course import i18n

    monkeypatch.delenv(i18n.LANG_VAR, raising=False)
    try:
        i18n.set_language("zh")
        asked = tasks.make("bar_tallest", 5)
        told = tasks.make("bar_tallest", 5, "en")
    finally:
        i18n.set_language(None)
    assert asked.lang == "zh" and asked.question == tasks.TASKS["bar_tallest"].questions["zh"][0]
    assert told.lang == "en" and told.images[0].tobytes() == asked.images[0].tobytes()  # same picture
    assert tasks.make("bar_tallest", 5).lang == "en"  # outside a Chinese lesson: English
