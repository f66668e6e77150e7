"""compare() streams real answers from the stand-in through the OpenAI SDK and times them;
the widget shows the same text in its columns. Rate limits and errors stay per column."""

import itertools

import matplotlib
import pytest

from phi_course import chat, compare, routes
from phi_course.standin import ensure_running
from phi_course.standin.faults import FaultServer
from phi_course.widgets import CompareWidget

matplotlib.use("Agg")

PROMPT = "What is Phi-3.5-mini?"
# No keys, no Ollama; the session's shared stand-in answers (conftest.py).
pytestmark = pytest.mark.usefixtures("keyless", "no_ollama", "standin")




def test_compare_streams_each_target_and_measures_it():
    seen: dict[int, list[str]] = {0: [], 1: []}
    started: list[int] = []
    results = compare.compare(PROMPT, [("github", "phi-3-mini"), "nim:phi-3.5-mini"], max_tokens=12,
                              on_start=lambda i, r: started.append(i),
                              on_piece=lambda i, text: seen[i].append(text))
    assert started == [0, 1]
    assert [r.model for r in results] == ["tiny-phi3-mini", "tiny-phi35-mini"]
    for i, result in enumerate(results):
        assert result.error is None and not result.live and "stand-in" in result.notice
        assert result.text and "".join(seen[i]) == result.text  # streamed pieces add up to the answer
        assert result.chunks == len(seen[i]) >= 1
        assert 0 < result.first_token_seconds <= result.total_seconds
        assert result.prompt_tokens > 0 and 1 <= result.completion_tokens <= 12  # usage chunk read
        assert result.finish_reason in ("stop", "length")


def test_a_greedy_answer_is_the_same_streamed_or_not():
    route = routes.resolve("github", "phi-3.5-mini")
    messages = [{"role": "user", "content": PROMPT}]
    streamed = chat.stream_answer(route, messages, max_tokens=16)
    whole = route.openai_client().chat.completions.create(
        model=route.model, messages=messages, max_tokens=16, temperature=0)
    assert streamed.text == whole.choices[0].message.content
    assert streamed.completion_tokens == whole.usage.completion_tokens


def test_the_target_count_and_prompt_are_checked():
    with pytest.raises(ValueError, match="2 to 4 targets"):
        compare.compare(PROMPT, [("github", "phi-3-mini")])
    with pytest.raises(ValueError, match="2 to 4 targets"):
        compare.compare(PROMPT, [("github", "phi-3-mini")] * 5)
    with pytest.raises(ValueError, match="prompt is empty"):
        compare.compare("  ", [("github", "phi-3-mini"), ("nim", "phi-3-mini")])
    with pytest.raises(ValueError, match="route:model"):
        compare.as_target("github")


def test_a_failing_target_keeps_its_error_and_the_others_still_answer(monkeypatch):
    standin = ensure_running()
    monkeypatch.setenv("PHI_COURSE_BASE_URL", standin.base_url)
    monkeypatch.setenv("PHI_COURSE_MODEL", "no-such-model")
    results = compare.compare(PROMPT, [("custom", "phi-3.5-mini"), ("github", "phi-3.5-mini")], max_tokens=6)
    assert results[0].live and results[0].error.startswith("HTTP 404")
    assert "no-such-model" in results[0].error and results[0].tokens_per_second is None
    assert results[1].error is None and results[1].text


def test_a_429_is_retried_after_retry_after_then_reported(monkeypatch):
    with FaultServer(retry_after_s=1) as limited:
        monkeypatch.setenv("PHI_COURSE_BASE_URL", limited.url("429"))
        route = routes.resolve("custom", "phi-4-mini")
        result = chat.stream_answer(route, [{"role": "user", "content": "hi"}], max_tokens=4)
        arrived = limited.arrived("429")
    assert len(arrived) == 1 + routes.MAX_RETRIES  # the SDK retried, as configured
    assert all(later - earlier >= 0.9 for earlier, later in itertools.pairwise(arrived))  # as Retry-After asked
    assert result.error.startswith("HTTP 429") and "Rate limit of 15 per 60s" in result.error


def test_table_and_plot_show_every_result():
    results = compare.compare(PROMPT, [("github", "phi-3-mini"), ("github", "phi-3.5-mini")], max_tokens=8)
    table = compare.results_table(results, title="t")
    assert [row["model id"] for row in table] == ["tiny-phi3-mini", "tiny-phi35-mini"]
    assert "tokens/s" in table.columns and "<table>" in table._repr_html_()
    fig = compare.plot_results(results, metric="first_token_seconds")
    bars = fig.axes[0].patches
    assert [b.get_height() for b in bars] == pytest.approx([r.first_token_seconds for r in results])
    with pytest.raises(ValueError, match="Unknown metric"):
        compare.plot_results(results, metric="speed")


def test_widget_run_button_streams_into_its_columns():
    widget = CompareWidget("", [("github", "phi-3-mini"), ("github", "phi-3.5-mini")], max_tokens=8)
    widget.prompt = PROMPT
    widget.pickers[1][0].value = "nim"  # switch the second column's route
    assert widget.targets == [compare.Target("github", "phi-3-mini"), compare.Target("nim", "phi-3.5-mini")]
    widget.run_button.click()
    assert [r.label for r in widget.value] == [t.label for t in widget.targets]
    for i, result in enumerate(widget.value):
        assert result.text and widget.column_text(i) == result.text
        assert result.model in widget.headers[i].value and "stand-in" in widget.headers[i].value
    assert widget.status.value == "done" and not widget.run_button.disabled
    table_html = widget.table.outputs[0]["data"]["text/html"]
    assert "tiny-phi3-mini" in table_html and "tiny-phi35-mini" in table_html
    widget.prompt = "   "
    widget.run()  # an empty prompt shows its error and keeps the last results
    assert "prompt is empty" in widget.status.value and len(widget.value) == 2


def test_picking_a_route_offers_only_its_models():
    widget = CompareWidget(PROMPT, [("ollama", "phi-3-medium"), ("github", "phi-4")])
    route, model = widget.pickers[0]
    assert "phi-3-medium" in model.options
    route.value = "nim"  # NIM has no Phi-3-medium id
    assert "phi-3-medium" not in model.options and model.value in model.options
