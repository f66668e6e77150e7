"""Routes fall back to the stand-in without keys, use the real endpoint with them,
and honour every override. Requests go through the real SDK clients."""

import pytest

from phi_course import routes, settings
from tests.recording_server import recording_server

TOKEN = "ghp_canaryROUTES0123456789abcdef"
KEYS = ["GITHUB_TOKEN", "AZURE_AI_API_KEY", "AZURE_AI_ENDPOINT", "NVIDIA_API_KEY", "NIM_BASE_URL",
        "OLLAMA_HOST", "PHI_COURSE_BASE_URL", "PHI_COURSE_API_KEY", "PHI_COURSE_MODEL",
        "GITHUB_MODELS_ENDPOINT", settings.OFFLINE_VAR]


@pytest.fixture(autouse=True)
def no_keys(monkeypatch):
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv(settings.NO_DOTENV_VAR, "1")
    settings.reload()


@pytest.mark.parametrize("name", ["github", "azure", "nim", "custom"])
def test_without_keys_every_openai_route_answers_through_the_standin(name):
    route = routes.resolve(name, "phi-3.5-mini")
    assert not route.live
    assert route.base_url.startswith("http://127.0.0.1:")
    assert route.model == "tiny-phi35-mini"
    assert "stand-in" in route.notice and "not Phi" in route.notice
    reply = route.openai_client().chat.completions.create(
        model=route.model, messages=[{"role": "user", "content": "What is an SLM?"}], max_tokens=8)
    assert reply.choices[0].message.content.strip()


def test_ollama_without_a_server_uses_the_standin_over_ollamas_api(monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")  # nothing listens on the discard port
    route = routes.resolve("ollama", "phi-3-mini")
    assert not route.live and route.model == "tiny-phi3-mini"
    assert "no Ollama server answers at http://127.0.0.1:9" in route.notice
    reply = route.ollama_client().chat(model=route.model, messages=[{"role": "user", "content": "hi"}],
                                       options={"num_predict": 4})
    assert reply.message.content


def test_a_token_selects_the_real_service_and_stays_masked(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    route = routes.resolve("github", "phi-4-mini")
    assert route.live and route.base_url == "https://models.github.ai/inference"
    assert route.model == "microsoft/Phi-4-mini-instruct"
    assert TOKEN not in repr(route) and TOKEN not in route.notice and TOKEN not in str(route)


def test_a_retired_model_is_replaced_and_the_notice_says_so(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    route = routes.resolve("github", "phi-3.5-mini")
    assert route.model == "microsoft/Phi-4-mini-instruct"
    assert "retired" in route.notice and "Phi-3.5-mini-instruct" in route.notice


def test_an_overridden_endpoint_receives_the_request_and_the_key(monkeypatch):
    with recording_server("hello from the override") as (url, seen):
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_MODELS_ENDPOINT", url)
        route = routes.resolve("github", "phi-4-mini")
        reply = route.openai_client().chat.completions.create(
            model=route.model, messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "hello from the override"
    method, path, headers, body = seen[-1]
    assert (method, path) == ("POST", "/chat/completions")
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert body["model"] == "microsoft/Phi-4-mini-instruct"


def test_the_removed_github_endpoint_is_refused_with_the_new_one(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_MODELS_ENDPOINT", "https://models.inference.ai.azure.com")
    with pytest.raises(ValueError, match="models.github.ai/inference"):
        routes.resolve("github")


def test_offline_switch_forces_the_standin_even_with_a_key(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv(settings.OFFLINE_VAR, "1")
    assert not routes.resolve("github").live


def test_self_hosted_nim_needs_no_key(monkeypatch):
    with recording_server("from my NIM") as (url, seen):
        monkeypatch.setenv("NIM_BASE_URL", url + "/v1")
        route = routes.resolve("nim", "phi-3.5-mini")
        assert route.live and route.model == "microsoft/phi-3.5-mini-instruct"
        reply = route.openai_client().chat.completions.create(
            model=route.model, messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "from my NIM"
    assert seen[-1][1] == "/v1/chat/completions"


def test_azure_with_key_and_endpoint_uses_azure_ai_inference(monkeypatch):
    from azure.ai.inference.models import UserMessage

    with recording_server("from azure") as (url, seen):
        monkeypatch.setenv("AZURE_AI_ENDPOINT", url + "/models")
        monkeypatch.setenv("AZURE_AI_API_KEY", "azure-canary-key-0123456789")
        route = routes.resolve("azure", "phi-3.5-moe")
        assert route.live and route.model == "Phi-3.5-MoE-instruct"
        reply = route.azure_client().complete(model=route.model, messages=[UserMessage("hi")])
    assert reply.choices[0].message.content == "from azure"
    assert seen[-1][1].startswith("/models/chat/completions")


def test_a_running_ollama_is_used(monkeypatch):
    with recording_server() as (url, _):
        monkeypatch.setenv("OLLAMA_HOST", url)
        route = routes.resolve("ollama", "phi-3.5-mini")
    assert route.live and route.model == "phi3.5"


def test_custom_route_for_a_classroom_server(monkeypatch):
    with recording_server("class server") as (url, seen):
        monkeypatch.setenv("PHI_COURSE_BASE_URL", url + "/v1")
        monkeypatch.setenv("PHI_COURSE_MODEL", "phi-4-mini-q4")
        route = routes.resolve("custom")
        reply = route.openai_client().chat.completions.create(
            model=route.model, messages=[{"role": "user", "content": "hi"}])
    assert route.live and reply.choices[0].message.content == "class server"
    assert seen[-1][3]["model"] == "phi-4-mini-q4"


@pytest.mark.parametrize("name, model, match", [
    ("gihtub", "phi-3.5-mini", "Unknown route 'gihtub'. Choose one of"),
    ("github", "phi-9", "Unknown model 'phi-9'"),
])
def test_bad_names_get_a_clear_error(name, model, match):
    with pytest.raises(ValueError, match=match):
        routes.resolve(name, model)


def test_openai_base_url_for_azure_and_ollama(monkeypatch):
    monkeypatch.setenv("AZURE_AI_ENDPOINT", "https://res.services.ai.azure.com/models")
    monkeypatch.setenv("AZURE_AI_API_KEY", "azure-canary-key-0123456789")
    azure = routes.resolve("azure")
    assert azure.openai_base_url == "https://res.services.ai.azure.com/openai/v1/"
    with recording_server() as (url, _):
        monkeypatch.setenv("OLLAMA_HOST", url)
        assert routes.resolve("ollama").openai_base_url == url + "/v1"
