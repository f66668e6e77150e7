"""Every exercise solution of lesson 12 runs and gives a sensible answer."""

import pytest

from lessons.solutions import s12_choose_your_route as s12
from phi_course import settings
from phi_course.chat import Answer
from phi_course.concepts import route_choice


def _m(route, first, rate_tokens, total=1.0, error=None):
    return Answer(route, "m", prompt="p", client="test", text="x", first_token_seconds=first, total_seconds=total,
                  completion_tokens=rate_tokens, error=error)


def test_lesson12_level1_best_route_on_given_numbers():
    ms = [_m("a", 0.5, 11), _m("a", 0.7, 11), _m("b", 0.2, 3), _m("b", 0.9, 3), _m("b", 0.3, 3),
          _m("c", 0.01, 50, error="HTTP 500")]
    assert s12.best_route(ms, "first_token_seconds") == "b"  # median 0.3 < 0.6; c failed
    assert s12.best_route(ms, "tokens_per_second") == "a"  # medians: about 27 vs 2.9 tokens/s
    with pytest.raises(ValueError):
        s12.best_route([_m("c", None, None)])


def test_lesson12_level1_best_route_on_real_measurements(monkeypatch):
    monkeypatch.setenv(settings.NO_DOTENV_VAR, "1")
    for key in ["PHI_COURSE_BASE_URL", settings.OFFLINE_VAR]:
        monkeypatch.delenv(key, raising=False)
    settings.reload()
    ms = route_choice.measure_routes(["What is Phi-3.5-mini?"], ["custom", "transformers"], max_tokens=16)
    best = s12.best_route(ms, "first_token_seconds")
    assert best in {"custom", "transformers"}
    chosen = [m.first_token_seconds for m in ms if m.route == best]
    assert chosen[0] == min(m.first_token_seconds for m in ms)


def test_lesson12_level2_costs_are_equal_at_break_even():
    price, per_hour = 0.5, 2.0
    tokens = s12.break_even_tokens_per_day(price, per_hour)
    assert tokens * price / 1e6 == pytest.approx(24 * per_hour)
    assert s12.break_even_tokens_per_day(price, 2 * per_hour) == pytest.approx(2 * tokens)
    with pytest.raises(ValueError):
        s12.break_even_tokens_per_day(0, 1)


@pytest.mark.parametrize("needs, route", [
    ({"device": "phone"}, "onnx"),
    ({"model_gb": 84, "memory_gb": 16}, "azure"),
    ({"model_gb": 84, "memory_gb": 16, "private_data": True}, "custom"),
    ({"fine_tune": True}, "transformers"),
    ({"offline": True}, "ollama"),
    ({"own_hardware": False}, "azure"),
    ({}, "nim"),
])
def test_lesson12_level3_pick_route_follows_the_decision_table(needs, route):
    picked, reason = s12.pick_route(**needs)
    assert picked == route and reason
    assert picked in route_choice.ALL_ROUTES
