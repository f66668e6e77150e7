"""route_choice measures every route for real: offline all of them serve the same embedded model,
so greedy answers agree, and the timings are consistent with each other."""

import matplotlib
import pytest

from phi_course import i18n, settings
from phi_course.concepts import route_choice
from phi_course.training.dataset import all_facts
from phi_course.training.facts import has_cjk, normalise
from tests.conftest import ROUTE_VARS

matplotlib.use("Agg")
PROMPT = "What is Phi-3.5-mini?"


pytestmark = pytest.mark.usefixtures("keyless", "no_ollama")  # conftest.py


@pytest.fixture(scope="module")
def every_route():
    with pytest.MonkeyPatch.context() as mp:
        for key in ROUTE_VARS:
            mp.delenv(key, raising=False)
        mp.setenv(settings.NO_DOTENV_VAR, "1")
        mp.setenv("OLLAMA_HOST", "127.0.0.1:9")
        settings.reload()
        return route_choice.measure_routes([PROMPT, "What is ONNX Runtime GenAI?"], max_tokens=24)


def test_every_route_answers_offline_and_says_it_is_a_stand_in(every_route):
    assert [m.route for m in every_route] == list(route_choice.ALL_ROUTES) * 2
    for m in every_route:
        assert m.error is None, m.error
        assert not m.live and m.notice
        assert m.text.strip()
        assert 0 < m.first_token_seconds <= m.total_seconds
        assert 1 <= m.completion_tokens <= 24


def test_the_same_model_gives_the_same_greedy_answer_on_every_http_route(every_route):
    first = [m for m in every_route if m.prompt == PROMPT]
    by_route = {m.route: m for m in first}
    reference = by_route["transformers"]
    for name in route_choice.REMOTE:
        assert by_route[name].text == reference.text, name
        assert by_route[name].completion_tokens == reference.completion_tokens, name


def test_summary_and_plot_have_one_entry_per_route(every_route):
    table = route_choice.summary(every_route)
    assert [row["route"] for row in table] == list(route_choice.ALL_ROUTES)
    assert all(row["errors"] == 0 and "(stand-in)" in row["answered by"] for row in table)
    fig = route_choice.plot_routes(every_route, "tokens_per_second")
    assert len(fig.axes[0].patches) == len(route_choice.ALL_ROUTES)
    with pytest.raises(ValueError, match="Unknown metric"):
        route_choice.plot_routes(every_route, "speed")


def test_a_server_that_is_down_is_reported_not_raised(monkeypatch):
    monkeypatch.setenv("PHI_COURSE_BASE_URL", "http://127.0.0.1:9/v1")
    m = route_choice.measure("custom", PROMPT, max_tokens=4)
    assert m.live and m.error and "127.0.0.1:9" in m.error
    assert m.tokens_per_second is None


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="Unknown route"):
        route_choice.measure("carrier-pigeon", PROMPT)
    with pytest.raises(ValueError, match="empty"):
        route_choice.measure("custom", "  ")
    with pytest.raises(ValueError, match="Unknown route"):
        route_choice.measure_routes([PROMPT], ["nim", "fax"])


def test_electricity_arithmetic():
    # 1 token/s for a million tokens is 1e6 s; at 3600 W that is 1000 kWh
    assert route_choice.electricity_per_million(1, 3600, 0.3) == pytest.approx(300)
    assert route_choice.electricity_per_million(10, 3600, 0.3) == pytest.approx(30)
    with pytest.raises(ValueError):
        route_choice.electricity_per_million(0, 30, 0.3)


def test_reference_tables_cover_every_route():
    assert {row["route"] for row in route_choice.costs_table()} >= set(route_choice.ALL_ROUTES)
    assert "github" not in route_choice.ALL_ROUTES  # retired: nothing to measure but the stand-in again
    assert all(row["pick"] for row in route_choice.decision_table())


def test_an_in_process_route_that_cannot_run_is_reported_not_raised():
    m = route_choice.measure("onnx", PROMPT, model="phi-3.5-moe")  # no ONNX build of the MoE exists
    assert m.error and "phi-3.5-moe" in m.error
    table = route_choice.summary([m])
    assert table[0]["errors"] == 1 and table[0]["latency (ms)"] == "–"


def test_the_prompts_follow_the_course_language(monkeypatch):
    monkeypatch.setenv(settings.QUICK_VAR, "")
    try:
        english = route_choice.prompts()
        assert english == list(route_choice.PROMPTS["en"]) and english[0] == PROMPT
        i18n.set_language("zh")
        chinese = route_choice.prompts()
    finally:
        i18n.set_language(None)
    # the same questions: one per English one, each in a phrasing the embedded model was trained on
    assert len(chinese) == len(english) and all(has_cjk(q) for q in chinese)
    trained = {normalise(q) for f in all_facts() for q in f.training_questions("zh")}
    assert {normalise(q) for q in chinese} <= trained


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_decision_table_names_what_foundry_serves_from_the_route_table(monkeypatch, lang):
    from phi_course import route_table

    monkeypatch.setenv(i18n.LANG_VAR, lang)
    served = [row.id for row in route_table.ids_on("azure", include_retired=False)]
    retired = [row.id for row in route_table.ids_on("azure") if row.id not in served]
    because = " ".join(row["because"] for row in route_choice.decision_table())
    assert served and retired
    assert all(model_id in because for model_id in served)
    assert not any(model_id in because for model_id in retired)
    assert route_table.CHECKED in because
    assert "Azure AI Foundry" not in str(route_choice.decision_table()) + str(route_choice.costs_table())
