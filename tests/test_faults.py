"""The fault matrix: every remote route's real SDK client against a real local server that
fails on purpose, or answers as today's services answer, and the one clear message each gets."""

import struct
import time
import zlib

import httpx
import ollama
import openai
import pytest
from azure.ai.inference import ChatCompletionsClient
from azure.ai.inference.models import UserMessage
from azure.core.credentials import AzureKeyCredential

from phi_course import errors, route_check, route_table, routes, settings
from phi_course.standin.faults import FaultServer

KEY = "canary-key-FAULTS-0123456789abcdef"
REFUSED = "http://127.0.0.1:9"  # the discard port: nothing listens there
UNRESOLVABLE = "http://no-such-host.invalid"
HI = [{"role": "user", "content": "hi"}]

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
KEY_VARS = {"github": "GITHUB_TOKEN", "nim": "NVIDIA_API_KEY", "custom": "PHI_COURSE_API_KEY"}
explain = errors.explain


@pytest.fixture(scope="module")
def server():
    with FaultServer(retry_after_s=1) as running:
        yield running


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for var in [*route_table.key_variables(), settings.OFFLINE_VAR]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(settings.NO_DOTENV_VAR, "1")
    settings.reload()
    routes.forget_listings()


def base_url(server, fault, suffix):
    if fault == "refused":
        return REFUSED + suffix
    if fault == "unresolvable":
        return UNRESOLVABLE + suffix
    return server.url(fault, suffix)


def openai_route(monkeypatch, name, url, model="phi-3.5-mini"):
    monkeypatch.setenv(OPENAI_ROUTES[name][0], url)
    monkeypatch.setenv(KEY_VARS[name], KEY)
    route = routes.resolve(name, model)
    assert route.live and route.base_url == url
    return route


def foundry(monkeypatch, url):
    monkeypatch.setenv("AZURE_AI_ENDPOINT", url)
    monkeypatch.setenv("AZURE_AI_API_KEY", KEY)


# --- every fault, every SDK ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(OPENAI_ROUTES))
@pytest.mark.parametrize("fault", list(EXPECTED))
def test_openai_routes(server, monkeypatch, name, fault):
    route = openai_route(monkeypatch, name, base_url(server, fault, OPENAI_ROUTES[name][1]))
    client = route.openai_client().with_options(timeout=httpx.Timeout(1.0, connect=1.0), max_retries=1)
    with pytest.raises(Exception) as caught:
        client.chat.completions.create(model=route_table.model_id("github", "phi-3.5-mini").id, messages=HI)
    problem = explain(caught.value)  # the route is worked out from the URL and the variables
    assert problem is not None, f"no explanation for {caught.value!r}"
    assert EXPECTED[fault] in problem.title, str(problem)
    assert KEY not in str(problem) and KEY not in str(caught.value)


@pytest.mark.parametrize("fault", list(EXPECTED))
def test_azure_ai_inference(server, monkeypatch, fault):
    foundry(monkeypatch, base_url(server, fault, "/models"))
    client = routes.resolve("azure", "phi-4-mini").azure_client()
    with pytest.raises(Exception) as caught:
        client.complete(model=route_table.model_id("azure", "phi-3.5-mini").id, messages=[UserMessage("hi")],
                        read_timeout=1.0, retry_total=1, retry_backoff_factor=0.01)
    problem = explain(caught.value, route="azure")
    assert problem is not None, f"no explanation for {caught.value!r}"
    assert EXPECTED[fault] in problem.title, str(problem)
    assert KEY not in str(problem)


OLLAMA_EXPECTED = dict(EXPECTED, **{"401": "in front of Ollama wants a key", "404": "Ollama does not have this model",
                                    "refused": "No Ollama server is running"})


@pytest.mark.parametrize("fault", list(OLLAMA_EXPECTED))
def test_ollama_client(server, fault):
    tag = route_table.model_id("ollama", "phi-3.5-mini").id
    client = ollama.Client(host=base_url(server, fault, ""), timeout=1.0)
    with pytest.raises(Exception) as caught:
        client.chat(model=tag, messages=HI)
    problem = explain(caught.value, route="ollama")
    assert problem is not None, f"no explanation for {caught.value!r}"
    assert OLLAMA_EXPECTED[fault] in problem.title, str(problem)
    if fault == "404":
        assert f"ollama pull {tag}" in problem.todo
    if fault == "401":  # Ollama has no key: nothing to check in .env
        assert ".env" not in problem.todo and "OLLAMA_HOST" in problem.todo


# --- what each SDK really does before it raises, and what the message says it did -----------


def _count(server, fault, call):
    server.hits.clear()
    with pytest.raises(Exception) as caught:
        call()
    return server.hits[fault], caught.value


@pytest.mark.parametrize("fault", ["429", "429-no-retry-after", "500", "503", "401"])
def test_the_message_says_how_often_each_sdk_really_tried(monkeypatch, fault):
    with FaultServer(retry_after_s=0) as server:
        foundry(monkeypatch, server.url(fault, "/models"))
        clients = {
            errors.OPENAI: lambda: openai_route(monkeypatch, "custom", server.url(fault)).openai_client()
            .chat.completions.create(model="m", messages=HI),
            errors.AZURE_INFERENCE: lambda: routes.resolve("azure", "phi-4").azure_client()
            .complete(model="m", messages=[UserMessage("hi")], retry_backoff_factor=0.01),
            errors.OLLAMA: lambda: ollama.Client(host=server.url(fault, "")).chat(model="m", messages=HI),
        }
        for sdk, call in clients.items():
            sent, error = _count(server, fault, call)
            status = int(fault[:3])
            assert sent == errors.attempts(sdk, status, retry_after=fault == "429"), (sdk, fault)
            problem = explain(error)
            if sent > 1:
                assert f"already sent the request {sent} times" in problem.todo, (sdk, str(problem))
            elif status in (429, 500, 503):
                assert "sent it once" in problem.todo and "already" not in problem.todo, (sdk, str(problem))


def test_429_is_retried_after_the_servers_retry_after(monkeypatch):
    with FaultServer(retry_after_s=1) as server:
        route = openai_route(monkeypatch, "custom", server.url("429", "/v1"))
        started = time.perf_counter()
        with pytest.raises(openai.RateLimitError) as caught:
            route.openai_client().chat.completions.create(model=route.model, messages=HI)
        waited = time.perf_counter() - started
        assert server.hits["429"] == 1 + routes.MAX_RETRIES
    assert waited >= routes.MAX_RETRIES * 1.0  # it honoured Retry-After: 1 s before each retry
    assert "Wait 1 s" in explain(caught.value).todo


def test_a_single_429_is_absorbed_by_the_retry(monkeypatch):
    with FaultServer(retry_after_s=1) as server:
        route = openai_route(monkeypatch, "custom", server.url("429-then-ok", "/v1"))
        reply = route.openai_client().chat.completions.create(model=route.model, messages=HI)
        assert server.hits["429-then-ok"] == 2
    assert reply.choices[0].message.content


# --- the services as they answer today (phi_course.route_table) -------------------------------


@pytest.mark.parametrize("sdk", [errors.OPENAI, errors.AZURE_INFERENCE])
def test_github_models_410_says_retired_for_good(server, monkeypatch, sdk):
    url = server.url("github-retired", "/inference")
    monkeypatch.setenv("GITHUB_MODELS_ENDPOINT", url)
    monkeypatch.setenv("GITHUB_TOKEN", KEY)
    route = routes.resolve("github", "phi-3.5-mini")
    with pytest.raises(Exception) as caught:
        if sdk == errors.OPENAI:
            route.openai_client().chat.completions.create(model=route.model, messages=HI)
        else:  # the seed's other SDK, against the same endpoint
            ChatCompletionsClient(endpoint=url, credential=AzureKeyCredential(KEY)).complete(
                model=route.model, messages=[UserMessage("hi")])
    problem = explain(caught.value)
    assert problem.title == "GitHub Models has been retired" and problem.status == 410
    assert "2026-07-30" in problem.what and route_table.GITHUB_RETIRED in problem.what
    assert "temporarily" not in str(problem)  # the body's stale word is not repeated
    assert "Microsoft Foundry" in problem.todo
    assert KEY not in str(problem)


@pytest.mark.parametrize("row", [r for r in route_table.ids_on("azure") if r.retired], ids=lambda r: r.id)
def test_a_retired_foundry_model_410_names_its_date_and_successor(server, monkeypatch, row):
    foundry(monkeypatch, server.url("foundry", "/models"))
    route = routes.resolve("azure", row.model)
    assert route.model != row.id and row.status.since in route.notice
    assert route.openai_client().chat.completions.create(model=route.model, messages=HI).choices  # it answers
    for call in (lambda: route.openai_client().chat.completions.create(model=row.id, messages=HI),
                 lambda: route.azure_client().complete(model=row.id, messages=[UserMessage("hi")])):
        with pytest.raises(Exception) as caught:
            call()
        problem = explain(caught.value, route="azure")
        assert problem.status == 410 and "retired" in problem.title, str(problem)
        assert row.status.since in problem.what and route_table.successor(row).id in problem.todo


def test_a_foundry_deployment_that_does_not_exist(server, monkeypatch):
    foundry(monkeypatch, server.url("foundry", "/models"))
    with pytest.raises(openai.NotFoundError) as caught:
        routes.resolve("azure", "phi-4").openai_client().chat.completions.create(model="my-typo", messages=HI)
    problem = explain(caught.value)
    assert problem.title == "No deployment by that name" and "AZURE_AI_MODEL" in problem.todo


def test_nim_404_for_an_id_it_no_longer_lists(server, monkeypatch):
    route = openai_route(monkeypatch, "nim", server.url("nim"), "phi-3.5-mini")
    unlisted = route_table.model_id("nim", "phi-3.5-mini").id
    assert route.model != unlisted  # resolve already moved to a listed id
    with pytest.raises(openai.NotFoundError) as caught:
        route.openai_client().chat.completions.create(model=unlisted, messages=HI)
    assert "Unknown model" in explain(caught.value).title


@pytest.mark.parametrize("route_name", ["custom", "nim"])
def test_a_401_from_your_own_server_names_the_variable(server, monkeypatch, route_name):
    route = openai_route(monkeypatch, route_name, server.url("401"))
    with pytest.raises(openai.AuthenticationError) as caught:
        route.openai_client().chat.completions.create(model="m", messages=HI)
    assert KEY_VARS[route_name] in explain(caught.value).todo  # worked out from the URL alone


def test_an_unknown_401_names_every_key_variable():
    with FaultServer() as server:
        client = openai.OpenAI(base_url=server.url("401"), api_key=KEY, max_retries=0)
        with pytest.raises(openai.AuthenticationError) as caught:
            client.chat.completions.create(model="m", messages=HI)
    todo = explain(caught.value).todo
    assert all(var in todo for var in ("AZURE_AI_API_KEY", "NVIDIA_API_KEY", "PHI_COURSE_API_KEY"))


def test_the_table_matrix_for_resolve_doctor_and_explain(server, monkeypatch):
    """Fake keys for every route, each pointed at the fault server playing the service as it is today."""
    monkeypatch.setenv("GITHUB_TOKEN", KEY)
    monkeypatch.setenv("GITHUB_MODELS_ENDPOINT", server.url("github-retired", "/inference"))
    foundry(monkeypatch, server.url("foundry", "/models"))
    monkeypatch.setenv("NVIDIA_API_KEY", KEY)
    monkeypatch.setenv("NIM_BASE_URL", server.url("nim"))
    monkeypatch.setenv("OLLAMA_HOST", server.url("ok", ""))
    checked = 0
    for row in route_table.MODEL_IDS:
        if row.route not in routes.REMOTE_ROUTES:
            continue
        route = routes.resolve(row.route, row.model)
        assert route.live, row
        if row.route == "github":
            with pytest.raises(openai.APIStatusError) as caught:
                route.openai_client().chat.completions.create(model=route.model, messages=HI)
            assert "retired" in explain(caught.value).title and "2026-07-30" in explain(caught.value).what
        elif row.route == "ollama":
            assert route.model == row.id
        else:
            reply = route.openai_client().chat.completions.create(model=route.model, messages=HI)
            assert reply.choices[0].message.content, row  # resolve picked an id the service serves
            if row.retired or route.model != row.id:
                assert route.model in route.notice and (row.id in route.notice), route.notice
        checked += 1
    assert checked == len([r for r in route_table.MODEL_IDS if r.route in routes.REMOTE_ROUTES])
    report = {c.name: c for c in route_check.doctor(probe=True)}
    assert report["github"].status == "retired" and "2026-07-30" in report["github"].detail
    assert report["azure"].status == "live" and report["nim"].status == "live"
    listed = [r.id for r in route_table.ids_on("nim") if r.status.since]
    assert all(i in report["nim"].detail for i in listed)
    assert KEY not in str(route_check.doctor(probe=False))


# --- bad input and local faults -------------------------------------------------------------


def _png_claiming(width, height) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_a_decompression_bomb_is_the_pictures_fault_not_the_services(standin, keyless):
    import base64

    route = routes.resolve("nim", "phi-3.5-vision")
    data_url = "data:image/png;base64," + base64.b64encode(_png_claiming(100_000, 100_000)).decode()
    message = {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                           {"type": "image_url", "image_url": {"url": data_url}}]}
    with pytest.raises(openai.BadRequestError) as caught:
        route.openai_client().chat.completions.create(model=route.model, messages=[message], max_tokens=4)
    problem = explain(caught.value)
    assert problem.title == "The picture could not be used" and "thumbnail" in problem.todo


@pytest.mark.parametrize("content, words", [
    ("GITHUB_TOKEN=abc\n".encode("utf-16"), "UTF-16"),
    ("PHI_COURSE_MODEL=café\n".encode("latin-1"), "byte 0xe9 on line 1"),
])
def test_an_unreadable_env_file_is_explained(tmp_path, monkeypatch, content, words):
    (tmp_path / ".env").write_bytes(content)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(settings.NO_DOTENV_VAR)
    settings.reload()
    with pytest.raises(settings.DotenvError) as caught:
        settings.get_secret("GITHUB_TOKEN")
    problem = explain(caught.value)
    assert words in problem.what and str(tmp_path / ".env") in problem.what and "UTF-8" in problem.todo
    settings.reload()


def test_a_key_in_a_url_never_reaches_the_message():
    secret = "sk-inTheUrl0123456789abcdef"
    client = openai.OpenAI(base_url=f"http://user:{secret}@127.0.0.1:9/v1?api-key={secret}", api_key="x",
                           max_retries=0)
    with pytest.raises(openai.APIConnectionError) as caught:
        client.chat.completions.create(model="m", messages=HI)
    problem = explain(caught.value)
    assert "Nothing is listening" in problem.title and secret not in str(problem)


def test_unknown_errors_are_left_alone():
    assert errors.explain(KeyError("x")) is None


def test_context_length_error_is_explained():
    from phi_course.local.generation import ContextLengthError

    problem = explain(ContextLengthError(900, 512, "tiny-phi35-mini"))
    assert "longer than the model's context" in problem.title and "900" in problem.what
