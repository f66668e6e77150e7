"""compare() streams real answers from the stand-in through the OpenAI SDK and times them;
the widget shows the same text in its columns. Rate limits and errors stay per column."""

import json
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

import matplotlib
import pytest

from phi_course import compare, routes, settings
from phi_course.standin import ensure_running
from tests.recording_server import loopback

matplotlib.use("Agg")

KEYS = ["GITHUB_TOKEN", "AZURE_AI_API_KEY", "AZURE_AI_ENDPOINT", "NVIDIA_API_KEY", "NIM_BASE_URL",
        "OLLAMA_HOST", "PHI_COURSE_BASE_URL", "PHI_COURSE_API_KEY", "PHI_COURSE_MODEL",
        "GITHUB_MODELS_ENDPOINT", settings.OFFLINE_VAR]
PROMPT = "What is Phi-3.5-mini?"


@pytest.fixture(autouse=True)
def no_keys(monkeypatch, standin):  # standin: the session's shared server (conftest.py)
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv(settings.NO_DOTENV_VAR, "1")
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")  # nothing listens on the discard port
    settings.reload()


@contextmanager
def always_rate_limited(retry_after: str = "0.2"):
    """A real server on 127.0.0.1 that answers every request with 429 and Retry-After."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (the stdlib's name)
            self.rfile.read(int(self.headers.get("content-length") or 0))
            hits.append(self.path)
            body = json.dumps({"error": {"code": "RateLimitReached",
                                         "message": "Rate limit of 15 per 60s exceeded."}}).encode()
            self.send_response(429)
            self.send_header("retry-after", retry_after)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with loopback(Handler) as url:
        yield url, hits


def test_compare_streams_each_target_and_measures_it():
    seen: dict[int, list[str]] = {0: [], 1: []}
    started: list[int] = []
    results = compare.compare(PROMPT, [("github", "phi-3-mini"), "nim:phi-3.5-mini"], max_tokens=12,
                              on_start=lambda i, r: started.append(i),
                              on_piece=lambda i, text: seen[i].append(text))
    assert started == [0, 1]
    assert [r.model_id for r in results] == ["tiny-phi3-mini", "tiny-phi35-mini"]
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
    streamed = compare.stream_answer(route, messages, max_tokens=16)
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
    with always_rate_limited("0.2") as (url, hits):
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_testtoken0123456789")
        monkeypatch.setenv("GITHUB_MODELS_ENDPOINT", url)
        route = routes.resolve("github", "phi-4-mini")
        result = compare.stream_answer(route, [{"role": "user", "content": "hi"}], max_tokens=4)
    assert len(hits) == 1 + routes.MAX_RETRIES  # the SDK retried, as configured
    assert result.total_seconds >= 0.2 * routes.MAX_RETRIES  # and waited as Retry-After asked
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


def test_openai_base_url_for_ollama_and_a_live_azure_endpoint():
    ollama = routes.Route("ollama", "http://127.0.0.1:11434", "phi3.5", "", True, "")
    azure = routes.Route("azure", "https://res.services.ai.azure.com/openai/v1/", "Phi-4-mini-instruct", "k", True, "",
                         inference_endpoint="https://res.services.ai.azure.com/models")
    assert compare.openai_base_url(ollama) == "http://127.0.0.1:11434/v1"
    assert compare.openai_base_url(azure) == azure.base_url  # resolve already gives Foundry's OpenAI/v1 form


def test_widget_run_button_streams_into_its_columns():
    widget = compare.CompareWidget("", [("github", "phi-3-mini"), ("github", "phi-3.5-mini")], max_tokens=8)
    widget.prompt = PROMPT
    widget._pickers[1][0].value = "nim"  # switch the second column's route
    assert widget.targets == [compare.Target("github", "phi-3-mini"), compare.Target("nim", "phi-3.5-mini")]
    widget._run_button.click()
    assert [r.target for r in widget.value] == widget.targets
    for i, result in enumerate(widget.value):
        assert result.text and widget.column_text(i) == result.text
        assert result.model_id in widget._headers[i].value and "stand-in" in widget._headers[i].value
    assert widget._status.value == "done" and not widget._run_button.disabled
    table_html = widget._table.outputs[0]["data"]["text/html"]
    assert "tiny-phi3-mini" in table_html and "tiny-phi35-mini" in table_html
    widget.prompt = "   "
    widget.run()  # an empty prompt shows its error and keeps the last results
    assert "prompt is empty" in widget._status.value and len(widget.value) == 2


def test_picking_a_route_offers_only_its_models():
    widget = compare.CompareWidget(PROMPT, [("ollama", "phi-3-medium"), ("github", "phi-4")])
    route, model = widget._pickers[0]
    assert "phi-3-medium" in model.options
    route.value = "nim"  # NIM has no Phi-3-medium id
    assert "phi-3-medium" not in model.options and model.value in model.options
