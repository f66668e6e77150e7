"""Lesson text about services stays true: dates come from the route table, never typed,
and claims that stopped being true do not come back."""

import json
import re
from datetime import date
from pathlib import Path

import pytest

from phi_course import route_table

LESSONS = sorted((Path(__file__).resolve().parents[1] / "lessons").glob("**/[0-9][0-9]_*.ipynb"))
# Sentences that were true once and are not any more (each was in a lesson before 2026-12-01).
NO_LONGER_TRUE = [
    r"GitHub Models serves", r"a GitHub token is all", r"free within (?:the )?rate limits, and",
    r"announced the retirement", r"retirement (?:is|was) announced", r"16 experts of 3\.8B",
    r"You will see Phi-3-mini, Phi-3\.5-mini", r"through Azure or NIM", r"Phi-3\.5-MoE through Azure",
]


def _markdown(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def _table_dates() -> set[str]:
    statuses = [f.status for f in route_table.ROUTES.values()]
    statuses += [s for f in route_table.ROUTES.values() for s in f.retired_endpoints.values()]
    statuses += [r.status for r in route_table.MODEL_IDS] + [route_table.AZURE_AI_INFERENCE]
    return {s.since for s in statuses if s.since}


def _spellings(iso: str) -> list[str]:
    d = date.fromisoformat(iso)
    month = d.strftime("%B")
    return [iso, f"{d.day} {month} {d.year}", f"{month} {d.day}, {d.year}", f"{d.year} 年 {d.month} 月 {d.day} 日",
            f"{d.year}年{d.month}月{d.day}日"]


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_service_dates_come_from_the_route_table(lesson):
    text = _markdown(lesson)
    typed = [s for iso in _table_dates() for s in _spellings(iso) if s in text]
    assert typed == [], f"{lesson.name} types these route-table dates; print them from phi_course.route_table"


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_no_claim_that_stopped_being_true(lesson):
    text = _markdown(lesson)
    found = [p for p in NO_LONGER_TRUE if re.search(p, text)]
    assert found == [], f"{lesson.name}: {found}"


def test_the_checks_catch_a_typed_date():
    assert "30 July 2026" in _spellings("2026-07-30") and "2026-07-30" in _table_dates()
