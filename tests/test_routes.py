"""Routes fall back to the stand-in without keys, use the real endpoint with them, say what is
retired and what replaces it, and honour every override. Requests go through the real SDK clients."""

import pytest

from phi_course import route_table, routes, settings
from phi_course.standin.faults import FaultServer
from tests.recording_server import recording_server

TOKEN = "ghp_canaryROUTES0123456789abcdef"
AZURE_KEY = "azure-canary-key-0123456789"


@pytest.fixture(autouse=True)
def no_keys(keyless):  # conftest.py; and no NIM listing remembered from another test
    routes.forget_listings()


def ask(route, text="hi"):
    reply = route.openai_client().chat.completions.create(
        model=route.model, messages=[{"role": "user", "content": text}], max_tokens=8)
    return reply.choices[0].message.content


@pytest.mark.parametrize("name", ["github", "azure", "nim", "custom"])
def test_without_keys_every_openai_route_answers_through_the_standin(name):
    route = routes.resolve(name, "phi-3.5-mini")
    assert not route.live
    assert route.base_url.startswith("http://127.0.0.1:")
    assert route.model == "tiny-phi35-mini"
    assert "stand-in" in route.notice and "not Phi" in route.notice
    assert ask(route, "What is an SLM?").strip()


def test_ollama_without_a_server_uses_the_standin_over_ollamas_api(monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")  # nothing listens on the discard port
    route = routes.resolve("ollama", "phi-3-mini")
    assert not route.live and route.model == "tiny-phi3-mini"
    assert "no Ollama server answers at http://127.0.0.1:9" in route.notice
    reply = route.ollama_client().chat(model=route.model, messages=[{"role": "user", "content": "hi"}],
                                       options={"num_predict": 4})
    assert reply.message.content


# --- GitHub Models: retired ----------------------------------------------------------------


def test_a_github_token_no_longer_calls_the_retired_service(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    route = routes.resolve("github", "phi-4-mini")
    assert not route.live and route.base_url.startswith("http://127.0.0.1:")
    assert "retired on 2026-07-30" in route.notice and "GITHUB_TOKEN is not used" in route.notice
    assert "Microsoft Foundry" in route.notice  # what to use instead
    assert TOKEN not in repr(route) and TOKEN not in route.notice
    assert ask(route).strip()  # the seed's code still runs, against the stand-in


@pytest.mark.parametrize("dead", ["https://models.github.ai/inference", "https://models.inference.ai.azure.com"])
def test_a_retired_github_address_is_not_called(monkeypatch, dead):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_MODELS_ENDPOINT", dead)
    route = routes.resolve("github")
    since = route_table.retired_endpoint(dead)[1].since
    assert not route.live and f"which was retired on {since}" in route.notice


def test_the_github_endpoint_variable_moves_the_seeds_code_to_any_server(monkeypatch):
    with recording_server("hello from the override") as (url, seen):
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_MODELS_ENDPOINT", url)
        route = routes.resolve("github", "phi-3.5-mini")
        assert route.live and "GitHub Models itself was retired on 2026-07-30" in route.notice
        assert ask(route) == "hello from the override"
    method, path, headers, body = seen[-1]
    assert (method, path) == ("POST", "/chat/completions")
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert body["model"] == route_table.model_id("github", "phi-3.5-mini").id  # what the seed's code sent


# --- Microsoft Foundry ---------------------------------------------------------------------


def test_a_retired_foundry_model_resolves_to_its_successor(monkeypatch):
    with recording_server("from foundry") as (url, seen):
        monkeypatch.setenv("AZURE_AI_ENDPOINT", url + "/models")
        monkeypatch.setenv("AZURE_AI_API_KEY", AZURE_KEY)
        route = routes.resolve("azure", "phi-3.5-moe")
        assert route.live and route.model == "Phi-4-mini-instruct"
        assert "Phi-3.5-MoE-instruct was retired on Microsoft Foundry (Azure AI Foundry) on 2025-08-30" in route.notice
        assert ask(route) == "from foundry"
    assert seen[-1][1] == "/openai/v1/chat/completions"  # the OpenAI SDK on the OpenAI/v1 endpoint
    assert seen[-1][2]["authorization"] == f"Bearer {AZURE_KEY}"


def test_the_retired_azure_ai_inference_sdk_still_reaches_the_models_endpoint(monkeypatch):
    from azure.ai.inference.models import UserMessage

    with recording_server("from azure") as (url, seen):
        monkeypatch.setenv("AZURE_AI_ENDPOINT", url + "/openai/v1/")  # either form may be given
        monkeypatch.setenv("AZURE_AI_API_KEY", AZURE_KEY)
        route = routes.resolve("azure", "phi-4")
        with pytest.warns(FutureWarning, match="azure-ai-inference was retired on 2026-08-26"):
            client = route.azure_client()
        reply = client.complete(model=route.model, messages=[UserMessage("hi")])
    assert reply.choices[0].message.content == "from azure"
    assert seen[-1][1].startswith("/models/chat/completions") and seen[-1][3]["model"] == "Phi-4"


def test_a_vision_model_is_replaced_by_one_that_reads_images(monkeypatch):
    monkeypatch.setenv("AZURE_AI_ENDPOINT", "https://res.services.ai.azure.com/models")
    monkeypatch.setenv("AZURE_AI_API_KEY", AZURE_KEY)
    route = routes.resolve("azure", "phi-3.5-vision")
    # Microsoft names Phi-4-mini-instruct, which reads text only: a picture needs the multimodal model.
    assert route.model == "Phi-4-multimodal-instruct"
    assert "Phi-4-mini-instruct, reads text only" in route.notice


def test_each_kind_of_deployment_has_its_own_name(monkeypatch):
    monkeypatch.setenv("AZURE_AI_ENDPOINT", "https://res.services.ai.azure.com/models")
    monkeypatch.setenv("AZURE_AI_API_KEY", AZURE_KEY)
    monkeypatch.setenv("AZURE_AI_MODEL", "my-mini")
    monkeypatch.setenv("AZURE_AI_REASONING_MODEL", "my-thinker")
    assert routes.resolve("azure", "phi-3.5-mini").model == "my-mini"
    assert routes.resolve("azure", "phi-4-mini-reasoning").model == "my-thinker"
    vision = routes.resolve("azure", "phi-4-multimodal")
    assert vision.model == "Phi-4-multimodal-instruct"  # AZURE_AI_MULTIMODAL_MODEL is unset


def test_both_foundry_endpoint_forms(monkeypatch):
    monkeypatch.setenv("AZURE_AI_API_KEY", AZURE_KEY)
    for given in ("https://res.services.ai.azure.com/models", "https://res.services.ai.azure.com/openai/v1/",
                  "https://res.openai.azure.com/openai/v1"):
        monkeypatch.setenv("AZURE_AI_ENDPOINT", given)
        route = routes.resolve("azure", "phi-4")
        assert route.openai_base_url.endswith("azure.com/openai/v1/"), given
        assert route.azure_inference_endpoint == "https://res.services.ai.azure.com/models", given


# --- NVIDIA NIM ----------------------------------------------------------------------------


def test_nim_asks_the_service_which_ids_it_serves_and_says_what_it_picked(monkeypatch):
    with FaultServer() as server:
        monkeypatch.setenv("NVIDIA_API_KEY", "nvapi-canary-0123456789")
        monkeypatch.setenv("NIM_BASE_URL", server.url("nim"))
        listed = routes.served_ids(server.url("nim"))
        moe = routes.resolve("nim", "phi-3.5-moe")
        assert moe.model == route_table.model_id("nim", "phi-3.5-moe").id and moe.model in listed
        mini = routes.resolve("nim", "phi-3.5-mini")  # not in today's listing
        assert mini.model in listed and mini.model != route_table.model_id("nim", "phi-3.5-mini").id
        assert "is not in the list the service gives today" in mini.notice
        assert server.hits["nim"] == 2  # one listing per kernel, plus the served_ids call above


def test_nim_falls_back_to_the_table_when_the_list_cannot_be_read(monkeypatch):
    monkeypatch.setenv("NIM_BASE_URL", "http://127.0.0.1:9/v1")
    route = routes.resolve("nim", "phi-4-mini")
    assert route.model == route_table.model_id("nim", "phi-4-mini").id
    assert "could not be read" in route.notice and "checked 2026-12-01" in route.notice


def test_self_hosted_nim_needs_no_key(monkeypatch):
    with recording_server("from my NIM") as (url, seen):
        monkeypatch.setenv("NIM_BASE_URL", url + "/v1")
        route = routes.resolve("nim", "phi-3.5-mini")
        assert route.live and route.model == route_table.model_id("nim", "phi-3.5-mini").id
        assert ask(route) == "from my NIM"
    assert seen[0][1] == "/v1/models" and seen[-1][1] == "/v1/chat/completions"
    assert "authorization" not in seen[0][2] or "nvapi" not in seen[0][2]["authorization"]


# --- Ollama, custom, and what every route shares ----------------------------------------------


def test_a_running_ollama_is_used(monkeypatch):
    with recording_server() as (url, _):
        monkeypatch.setenv("OLLAMA_HOST", url)
        route = routes.resolve("ollama", "phi-3.5-mini")
        assert route.live and route.model == route_table.model_id("ollama", "phi-3.5-mini").id
        with pytest.raises(ValueError, match="Ollama has no id for Phi-3.5-MoE.*phi-4-mini"):
            routes.resolve("ollama", "phi-3.5-moe")


def test_custom_route_for_a_classroom_server(monkeypatch):
    with recording_server("class server") as (url, seen):
        monkeypatch.setenv("PHI_COURSE_BASE_URL", url + "/v1")
        monkeypatch.setenv("PHI_COURSE_MODEL", "phi-4-mini-q4")
        route = routes.resolve("custom")
        assert route.live and ask(route) == "class server"
    assert seen[-1][3]["model"] == "phi-4-mini-q4"


def test_a_key_pasted_into_a_url_is_masked(monkeypatch):
    secret = "sk-pastedIntoTheUrl0123456789"
    monkeypatch.setenv("PHI_COURSE_BASE_URL", f"http://teacher:{secret}@127.0.0.1:9/v1?api-key={secret}")
    route = routes.resolve("custom")
    assert secret not in repr(route) and secret not in route.notice
    assert "teacher:" in route.notice


def test_offline_switch_forces_the_standin_even_with_a_key(monkeypatch):
    monkeypatch.setenv("NVIDIA_API_KEY", "nvapi-canary-0123456789")
    monkeypatch.setenv(settings.OFFLINE_VAR, "1")
    assert not routes.resolve("nim").live


@pytest.mark.parametrize("name, model, match", [
    ("gihtub", "phi-3.5-mini", "Unknown route 'gihtub'. Choose one of"),
    ("github", "phi-9", "Unknown model 'phi-9'"),
])
def test_bad_names_get_a_clear_error(name, model, match):
    with pytest.raises(ValueError, match=match):
        routes.resolve(name, model)


def test_ollama_openai_base_url(monkeypatch):
    with recording_server() as (url, _):
        monkeypatch.setenv("OLLAMA_HOST", url)
        assert routes.resolve("ollama").openai_base_url == url + "/v1"
