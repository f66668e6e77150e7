"""The fault matrix: every remote route's real SDK client against a real local
server that fails on purpose, and the one clear message each failure gets."""

import time

import httpx
import ollama
import openai
import pytest
from azure.ai.inference.models import UserMessage

from phi_course import errors, routes, settings
from phi_course.fault_server import FaultServer

KEY = "canary-key-FAULTS-0123456789abcdef"
REFUSED = "http://127.0.0.1:9"  # the discard port: nothing listens there
UNRESOLVABLE = "http://no-such-host.invalid"

# fault -> words the explanation's title must contain
EXPECTED = {
    "401": "key was refused",
    "403": "may not use this model",
    "404": "retired",
    "429": "Rate limit",
    "429-no-retry-after": "Rate limit",
    "500": "service had a problem",
    "503": "service had a problem",
    "bad-json": "not valid JSON",
    "hang": "timed out",
    "refused": "Nothing is listening",
    "unresolvable": "cannot be resolved",
}
OPENAI_ROUTES = {  # route -> (variable that overrides its endpoint, suffix the SDK expects)
    "github": ("GITHUB_MODELS_ENDPOINT", "/inference"),
    "nim": ("NIM_BASE_URL", "/v1"),
    "custom": ("PHI_COURSE_BASE_URL", "/v1"),
}


@pytest.fixture(scope="module")
def server():
    with FaultServer(retry_after_s=1) as running:
        yield running


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for var in ("GITHUB_TOKEN", "NVIDIA_API_KEY", "PHI_COURSE_API_KEY", "AZURE_AI_API_KEY",
                "AZURE_AI_ENDPOINT", settings.OFFLINE_VAR, *[v for v, _ in OPENAI_ROUTES.values()]):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(settings.NO_DOTENV_VAR, "1")


def base_url(server, fault, suffix):
    if fault == "refused":
        return REFUSED + suffix
    if fault == "unresolvable":
        return UNRESOLVABLE + suffix
    return server.url(fault, suffix)


def openai_route(monkeypatch, name, url):
    var, _ = OPENAI_ROUTES[name]
    monkeypatch.setenv(var, url)
    monkeypatch.setenv({"github": "GITHUB_TOKEN", "nim": "NVIDIA_API_KEY", "custom": "PHI_COURSE_API_KEY"}[name], KEY)
    route = routes.resolve(name, "phi-3.5-mini")
    assert route.live and route.base_url == url
    return route


@pytest.mark.parametrize("name", list(OPENAI_ROUTES))
@pytest.mark.parametrize("fault", list(EXPECTED))
def test_openai_routes(server, monkeypatch, name, fault):
    route = openai_route(monkeypatch, name, base_url(server, fault, OPENAI_ROUTES[name][1]))
    client = route.openai_client().with_options(timeout=httpx.Timeout(1.0, connect=1.0), max_retries=1)
    with pytest.raises(Exception) as caught:
        client.chat.completions.create(model="microsoft/Phi-3.5-mini-instruct",
                                       messages=[{"role": "user", "content": "hi"}])
    problem = errors.explain(caught.value, route=name)
    assert problem is not None, f"no explanation for {caught.value!r}"
    assert EXPECTED[fault] in problem.title, str(problem)
    assert KEY not in str(problem) and KEY not in str(caught.value)


@pytest.mark.parametrize("fault", list(EXPECTED))
def test_azure_ai_inference(server, monkeypatch, fault):
    monkeypatch.setenv("AZURE_AI_ENDPOINT", base_url(server, fault, "/models"))
    monkeypatch.setenv("AZURE_AI_API_KEY", KEY)
    route = routes.resolve("azure", "phi-3.5-mini")
    client = route.azure_client()
    with pytest.raises(Exception) as caught:
        client.complete(model="microsoft/Phi-3.5-mini-instruct", messages=[UserMessage("hi")],
                        read_timeout=1.0, retry_total=1, retry_backoff_factor=0.01)
    problem = errors.explain(caught.value, route="azure")
    assert problem is not None, f"no explanation for {caught.value!r}"
    assert EXPECTED[fault] in problem.title, str(problem)
    assert KEY not in str(problem)


OLLAMA_EXPECTED = dict(EXPECTED, **{"404": "Ollama does not have this model",
                                    "refused": "No Ollama server is running"})


@pytest.mark.parametrize("fault", list(OLLAMA_EXPECTED))
def test_ollama_client(server, fault):
    client = ollama.Client(host=base_url(server, fault, ""), timeout=1.0)
    with pytest.raises(Exception) as caught:
        client.chat(model="phi3.5", messages=[{"role": "user", "content": "hi"}])
    problem = errors.explain(caught.value, route="ollama")
    assert problem is not None, f"no explanation for {caught.value!r}"
    assert OLLAMA_EXPECTED[fault] in problem.title, str(problem)
    if fault == "404":
        assert "ollama pull phi3.5" in problem.todo


def test_github_token_without_models_permission(server, monkeypatch):
    route = openai_route(monkeypatch, "github", server.url("401-models", "/inference"))
    with pytest.raises(openai.AuthenticationError) as caught:
        route.openai_client().chat.completions.create(model=route.model, messages=[{"role": "user", "content": "hi"}])
    problem = errors.explain(caught.value, route="github")
    assert "models:read" in problem.todo


def test_429_is_retried_after_the_servers_retry_after(monkeypatch):
    with FaultServer(retry_after_s=1) as server:
        route = openai_route(monkeypatch, "github", server.url("429", "/inference"))
        started = time.perf_counter()
        with pytest.raises(openai.RateLimitError) as caught:
            route.openai_client().chat.completions.create(model=route.model,
                                                          messages=[{"role": "user", "content": "hi"}])
        waited = time.perf_counter() - started
        assert server.hits["429"] == 1 + routes.MAX_RETRIES
    assert waited >= routes.MAX_RETRIES * 1.0  # it honoured Retry-After: 1 s before each retry
    assert "Wait 1 s" in errors.explain(caught.value).todo


def test_a_single_429_is_absorbed_by_the_retry(monkeypatch):
    with FaultServer(retry_after_s=1) as server:
        route = openai_route(monkeypatch, "github", server.url("429-then-ok", "/inference"))
        reply = route.openai_client().chat.completions.create(model=route.model,
                                                              messages=[{"role": "user", "content": "hi"}])
        assert server.hits["429-then-ok"] == 2
    assert reply.choices[0].message.content


def test_unknown_errors_are_left_alone():
    assert errors.explain(KeyError("x")) is None


def test_context_length_error_is_explained():
    from phi_course.generation import ContextLengthError

    problem = errors.explain(ContextLengthError(900, 512, "tiny-phi35-mini"))
    assert "longer than the model's context" in problem.title and "900" in problem.what
