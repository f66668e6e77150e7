"""The stand-in answers over the real protocols with a real model.

Every request goes through the real SDK client (openai, azure-ai-inference,
ollama) to a real server process on 127.0.0.1, and its answer is compared with
phi_course.local.generation run in this process on the same model.
"""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ollama
import openai
import pytest
import torch
from azure.ai.inference import ChatCompletionsClient
from azure.ai.inference.models import SystemMessage, UserMessage
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from phi_course import settings
from phi_course.local import embedded, generation
from phi_course.standin import HEADER, launcher
from phi_course.standin.engine import served_models

ROOT = Path(__file__).resolve().parents[1]
MODEL = embedded.DEFAULT_MODEL
QUESTION = [{"role": "system", "content": "You answer questions about this course."},
            {"role": "user", "content": "What is a small language model? 什么是小语言模型？"}]
TOKENS = 24


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Generate here with one torch thread, as the stand-in does: the same arithmetic on both
    sides, and (for models this small) several times faster than two threads."""
    with settings.torch_threads(1):
        yield


@pytest.fixture(scope="module")
def local():
    """The default model loaded in this process: the reference the server must match."""
    return embedded.load(MODEL)


@pytest.fixture
def client(standin):
    return openai.OpenAI(base_url=standin.base_url, api_key="sk-canary-never-logged", timeout=120,
                         max_retries=0)


@pytest.fixture
def azure_client(standin):
    return ChatCompletionsClient(endpoint=standin.base_url, credential=AzureKeyCredential("azure-canary"))


@pytest.fixture
def ollama_client(standin):
    return ollama.Client(host=standin.ollama_url, timeout=120)


def reference(messages=QUESTION, model=MODEL, **options):
    model_, tokenizer = embedded.load(model)
    options.setdefault("max_new_tokens", TOKENS)
    return generation.chat(model_, tokenizer, messages, **options)


# --- phi_course.local.generation: the in-process loop the server is checked against ---

def test_greedy_chat_gives_the_same_tokens_as_transformers_generate(local):
    model, tokenizer = local
    result = generation.chat(model, tokenizer, QUESTION, max_new_tokens=TOKENS)
    ids = generation.encode_chat(tokenizer, QUESTION)
    expected = model.generate(torch.tensor([ids]), max_new_tokens=TOKENS, do_sample=False)[0, len(ids):]
    assert result.token_ids == expected.tolist()
    assert result.prompt_tokens == len(ids)
    assert result.completion_tokens == len(result.token_ids)
    assert result.usage["total_tokens"] == len(ids) + len(result.token_ids)
    assert result.finish_reason == ("stop" if result.token_ids[-1] == tokenizer.eos_token_id else "length")


def test_streamed_pieces_join_to_the_answer_and_leave_grad_mode_alone(local):
    model, tokenizer = local
    stream = generation.chat_stream(model, tokenizer, QUESTION, max_new_tokens=TOKENS)
    pieces = []
    for piece in stream:
        assert not torch.is_inference_mode_enabled()  # the caller's code runs in normal mode
        pieces.append(piece)
    assert "".join(pieces) == stream.result.text == reference().text
    shown = tokenizer.decode([t for t in stream.result.token_ids if t != tokenizer.eos_token_id],
                             skip_special_tokens=True)
    assert stream.result.text == shown


def test_stop_string_ends_the_answer_before_it(local):
    model, tokenizer = local
    full = reference(max_new_tokens=40).text
    stop = full[len(full) // 2:len(full) // 2 + 2]
    result = reference(max_new_tokens=40, stop=["never-produced-stop", stop])
    assert result.text == full[:full.index(stop)]
    assert result.finish_reason == "stop"
    streamed = "".join(generation.chat_stream(model, tokenizer, QUESTION, max_new_tokens=40, stop=stop))
    assert streamed == result.text


def test_seeded_sampling_repeats_and_differs_by_seed(local):
    one = reference(temperature=1.0, top_p=0.9, top_k=50, seed=7)
    assert one.token_ids == reference(temperature=1.0, top_p=0.9, top_k=50, seed=7).token_ids
    others = {tuple(reference(temperature=1.0, seed=s).token_ids) for s in range(8, 12)}
    assert len(others) > 1
    assert reference(temperature=1.0, top_p=0, seed=7).token_ids == reference().token_ids  # top token only


def test_a_prompt_longer_than_the_context_is_refused_before_any_work(local):
    model, tokenizer = local
    limit = model.config.max_position_embeddings
    long = [{"role": "user", "content": "word " * limit}]
    with pytest.raises(generation.ContextLengthError) as error:
        generation.chat_stream(model, tokenizer, long)  # raised here, not on first iteration
    assert error.value.limit == limit and error.value.prompt_tokens >= limit
    assert str(limit) in str(error.value) and "Shorten" in str(error.value)


def test_logit_bias_bans_and_forces_tokens(local):
    model, tokenizer = local
    answer = reference()
    first = answer.token_ids[0]
    assert reference(logit_bias={first: -100}).token_ids[0] != first
    forced = tokenizer.convert_tokens_to_ids(tokenizer.tokenize("Phi")[0])
    assert set(reference(max_new_tokens=5, logit_bias={forced: 100}).token_ids) == {forced}


def test_the_answer_stops_at_the_context_end(local):
    model, tokenizer = local
    limit = model.config.max_position_embeddings
    prompt = [5] * (limit - 3)
    result = generation.generate_stream(model, tokenizer, prompt, max_new_tokens=50)
    list(result)
    assert result.result.completion_tokens <= 3
    if result.result.finish_reason == "length":
        assert result.result.completion_tokens == 3


def test_without_a_limit_the_models_generation_config_sets_it(local):
    model, tokenizer = local
    cap = model.generation_config.max_new_tokens or generation.DEFAULT_MAX_NEW_TOKENS
    result = generation.chat(model, tokenizer, QUESTION, temperature=2.0, seed=5)
    cap = min(cap, model.config.max_position_embeddings - result.prompt_tokens)  # the context ends first
    assert result.completion_tokens <= cap
    assert result.finish_reason == "stop" or result.completion_tokens == cap


def test_image_parts_are_refused_with_a_pointer(local):
    model, tokenizer = local
    message = {"role": "user", "content": [{"type": "text", "text": "hi"},
                                           {"type": "image_url", "image_url": {"url": "x"}}]}
    with pytest.raises(ValueError, match="text only"):
        generation.chat(model, tokenizer, [message])


# --- the server process ---

def test_it_says_it_is_the_course_standin(standin, client):
    import httpx

    health = httpx.get(f"{standin.url}/health", timeout=10)
    assert health.headers[HEADER] == "1"
    assert health.json()["standin"] == "phi_course" and "stand-in" in health.json()["service"]
    assert health.json()["models"] == [*served_models(), "tiny-phi35-vision"]  # the vision model too
    version = httpx.get(f"{standin.url}/api/version", timeout=10)
    assert "phi-course-standin" in version.json()["version"] and version.headers[HEADER] == "1"
    assert httpx.get(f"{standin.url}/", timeout=10).text == "Ollama is running"
    missing = httpx.get(f"{standin.url}/v1/nothing-here", timeout=10)
    assert missing.status_code == 404 and missing.headers[HEADER] == "1"
    assert "stand-in" in missing.json()["error"]["message"]


def test_it_listens_on_loopback_only(standin):
    port = int(standin.url.rsplit(":", 1)[1])
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                listening.append(address)
    if not listening:
        pytest.skip("no /proc/net/tcp to read listening sockets from")
    assert listening == ["0100007F"]  # 127.0.0.1, and nothing else


def test_openai_sdk_answer_matches_the_model_in_process(client):
    reply = client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=TOKENS, temperature=0)
    expected = reference()
    assert reply.choices[0].message.content == expected.text
    assert reply.choices[0].finish_reason == expected.finish_reason
    assert reply.usage.prompt_tokens == expected.prompt_tokens
    assert reply.usage.completion_tokens == expected.completion_tokens
    assert reply.model == MODEL


@pytest.mark.parametrize("name", served_models())
def test_every_served_model_answers_as_it_does_in_process(client, name):
    reply = client.chat.completions.create(model=name, messages=QUESTION, max_completion_tokens=12)
    expected = reference(model=name, max_new_tokens=12)
    assert reply.choices[0].message.content == expected.text
    assert reply.usage.completion_tokens == expected.completion_tokens


def test_openai_sdk_stream_joins_to_the_same_answer_with_usage(client):
    stream = client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=TOKENS, stream=True,
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    expected = reference()
    assert text == expected.text
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1  # really streamed
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == expected.finish_reason
    assert chunks[-1].usage.completion_tokens == expected.completion_tokens
    assert chunks[-1].usage.prompt_tokens == expected.prompt_tokens


def test_openai_sdk_stop_and_seed_reach_the_model(client):
    full = reference(max_new_tokens=40).text
    stop = full[len(full) // 2:len(full) // 2 + 2]
    reply = client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=40, stop=[stop])
    assert reply.choices[0].message.content == full[:full.index(stop)]
    assert reply.choices[0].finish_reason == "stop"
    sampled = client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=TOKENS,
                                             temperature=0.9, top_p=0.95, seed=11)
    assert sampled.choices[0].message.content == reference(temperature=0.9, top_p=0.95, seed=11).text


def test_unknown_model_is_a_not_found_naming_the_served_models(client):
    with pytest.raises(openai.NotFoundError) as error:
        client.chat.completions.create(model="microsoft/Phi-9", messages=QUESTION, max_tokens=4)
    assert error.value.code == "model_not_found"
    for name in served_models():
        assert name in error.value.message


def test_too_long_a_prompt_is_context_length_exceeded(client, local):
    limit = local[0].config.max_position_embeddings
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "word " * limit}])
    assert error.value.code == "context_length_exceeded"
    assert str(limit) in error.value.message


@pytest.mark.parametrize("body", [{"messages": []}, {"temperature": 7}, {"n": 3}])
def test_malformed_requests_are_bad_requests_in_openais_shape(client, body):
    request = {"model": MODEL, "messages": QUESTION, "max_tokens": 2, **body}
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(**request)
    assert error.value.body["message"].startswith("The request body is not valid")


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/api/chat"])
def test_a_body_that_is_not_json_is_a_bad_request_in_the_routes_shape(standin, path):
    import httpx

    reply = httpx.post(standin.url + path, content=b'{"model": "tiny', timeout=10,
                       headers={"Content-Type": "application/json"})
    assert reply.status_code == 400 and reply.headers[HEADER] == "1"
    error = reply.json()["error"]
    assert "not valid" in (error["message"] if path.startswith("/v1") else error)


def test_curl_style_bodies_are_read_as_json_like_ollama_does(standin):
    import json

    import httpx

    # `curl URL -d '{...}'`, as in Ollama's docs, labels the JSON as form data.
    body = json.dumps({"model": MODEL, "prompt": "Why is the sky blue?", "stream": False,
                       "options": {"num_predict": 4}})
    reply = httpx.post(f"{standin.url}/api/generate", content=body, timeout=60,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status_code == 200 and reply.json()["done"] and reply.json()["eval_count"] <= 4
    lines = httpx.post(f"{standin.url}/api/generate", content=body.replace('"stream": false', '"stream": true'),
                       timeout=60).text.splitlines()
    assert json.loads(lines[-1])["done"] and not any(json.loads(line)["done"] for line in lines[:-1])


def test_model_list_is_the_served_models(client):
    assert [m.id for m in client.models.list()] == [*served_models(), "tiny-phi35-vision"]  # the vision model too


def test_azure_ai_inference_answer_matches(azure_client):
    messages = [SystemMessage(QUESTION[0]["content"]), UserMessage(QUESTION[1]["content"])]
    reply = azure_client.complete(messages=messages, model=MODEL, max_tokens=TOKENS, temperature=0)
    expected = reference()
    assert reply.choices[0].message.content == expected.text
    assert reply.usage.completion_tokens == expected.completion_tokens
    stream = azure_client.complete(messages=messages, model=MODEL, max_tokens=TOKENS, stream=True)
    assert "".join(u.choices[0].delta.content or "" for u in stream if u.choices) == expected.text
    assert azure_client.get_model_info().model_name == MODEL
    # Like a serverless deployment, the endpoint answers without a model name.
    assert azure_client.complete(messages=messages, max_tokens=TOKENS).choices[0].message.content == expected.text


def test_azure_ai_inference_unknown_model(azure_client):
    with pytest.raises(ResourceNotFoundError) as error:
        azure_client.complete(messages=[UserMessage("hi")], model="Phi-9", max_tokens=4)
    assert all(name in str(error.value) for name in served_models())
    with pytest.raises(HttpResponseError) as error:
        azure_client.complete(messages=[UserMessage("x " * 5000)], model=MODEL)
    assert error.value.status_code == 400 and "context_length_exceeded" in str(error.value)


def test_ollama_chat_matches_streamed_or_not(ollama_client):
    options = {"temperature": 0, "num_predict": TOKENS}
    reply = ollama_client.chat(model=MODEL, messages=QUESTION, options=options, stream=False)
    expected = reference()
    assert reply.message.content == expected.text
    assert reply.done and reply.done_reason == expected.finish_reason
    assert reply.prompt_eval_count == expected.prompt_tokens and reply.eval_count == expected.completion_tokens
    parts = list(ollama_client.chat(model=f"{MODEL}:latest", messages=QUESTION, options=options, stream=True))
    assert "".join(p.message.content for p in parts) == expected.text
    assert parts[-1].done and not any(p.done for p in parts[:-1]) and len(parts) > 2
    sampled = {"temperature": 0.8, "top_p": 0.9, "top_k": 40, "seed": 3, "num_predict": TOKENS}
    reply = ollama_client.chat(model=MODEL, messages=QUESTION, options=sampled)
    assert reply.message.content == reference(temperature=0.8, top_p=0.9, top_k=40, seed=3).text
    stop = expected.text[len(expected.text) // 2:len(expected.text) // 2 + 2]
    reply = ollama_client.chat(model=MODEL, messages=QUESTION, options={**options, "stop": [stop]})
    assert reply.message.content == expected.text[:expected.text.index(stop)]


def test_ollama_generate_templated_and_raw(ollama_client, local):
    model, tokenizer = local
    options = {"num_predict": TOKENS}
    prompt = QUESTION[1]["content"]
    reply = ollama_client.generate(model=MODEL, prompt=prompt, system=QUESTION[0]["content"], options=options)
    assert reply.response == reference().text
    assert list(reply.context[:reply.prompt_eval_count]) == generation.encode_chat(tokenizer, QUESTION)
    streamed = ollama_client.generate(model=MODEL, prompt=prompt, system=QUESTION[0]["content"],
                                      options=options, stream=True)
    assert "".join(p.response for p in streamed) == reply.response
    raw = "The Phi-3 family"
    raw_reply = ollama_client.generate(model=MODEL, prompt=raw, raw=True, options=options)
    expected = generation.generate_stream(model, tokenizer, tokenizer(raw, add_special_tokens=False)["input_ids"],
                                          max_new_tokens=TOKENS)
    assert raw_reply.response == "".join(expected)
    loaded = ollama_client.generate(model=MODEL)  # an empty prompt only loads the model
    assert loaded.done_reason == "load" and loaded.response == ""


def test_ollama_list_show_and_unknown_model(ollama_client):
    names = [m.model for m in ollama_client.list().models]
    assert names == [f"{name}:latest" for name in [*served_models(), "tiny-phi35-vision"]]
    listed = ollama_client.list().models[0]
    assert listed.size > 0 and len(listed.digest) == 64
    shown = ollama_client.show(MODEL)
    config = embedded.load(MODEL)[0].config
    assert shown.details.family == config.model_type
    assert shown.modelinfo[f"{config.model_type}.context_length"] == config.max_position_embeddings
    assert shown.modelinfo["general.parameter_count"] == sum(p.numel() for p in embedded.load(MODEL)[0].parameters())
    assert "<|assistant|>" in shown.template
    with pytest.raises(ollama.ResponseError) as error:
        ollama_client.chat(model="phi9", messages=QUESTION)
    assert error.value.status_code == 404
    assert all(name in error.value.error for name in served_models())
    with pytest.raises(ollama.ResponseError) as error:
        ollama_client.show("phi9")
    assert error.value.status_code == 404


def test_concurrent_requests_from_both_clients_all_get_the_answer(client, ollama_client):
    expected = reference(max_new_tokens=12).text

    def ask(i):
        if i % 2:
            return ollama_client.chat(model=MODEL, messages=QUESTION, options={"num_predict": 12}).message.content
        reply = client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=12)
        return reply.choices[0].message.content

    with ThreadPoolExecutor(50) as pool:  # 50 at once, from both real clients
        answers = list(pool.map(ask, range(50)))
    assert answers == [expected] * 50


def test_a_client_that_leaves_mid_stream_stops_the_generation(standin, local):
    import httpx

    model, tokenizer = local
    limit = model.config.max_position_embeddings
    # Banning the end token (OpenAI's logit_bias) makes the full answer run to the context end.
    ban_end = {token: -100 for token in generation.end_token_ids(model, tokenizer)}
    request = {"model": MODEL, "messages": QUESTION, "max_tokens": limit, "logit_bias": ban_end}
    full = reference(max_new_tokens=limit, logit_bias=ban_end).completion_tokens
    assert full == limit - len(generation.encode_chat(tokenizer, QUESTION))

    def quiet():
        deadline = time.monotonic() + 30
        while (health := standin.health())["pending_requests"] and time.monotonic() < deadline:
            time.sleep(0.02)
        return health

    before = quiet()["generated_tokens"]
    with httpx.stream("POST", f"{standin.base_url}/chat/completions", json={**request, "stream": True},
                      timeout=60) as response:
        assert next(response.iter_lines()).startswith("data: ")
    after = quiet()
    assert after["pending_requests"] == 0
    assert 0 < after["generated_tokens"] - before < full


def test_api_key_is_never_written_to_the_server_log(standin, client):
    client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=2)
    assert "sk-canary" not in standin.log_path.read_text(errors="replace")


# --- the launcher ---

def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "\nState:\tZ" in status.read_text()  # exited, not yet reaped


def test_stop_leaves_no_process_behind(standin):
    own = launcher.start()
    assert own.owned and own.health()["instance"] != standin.health()["instance"]
    assert "pid" not in own.health()  # nothing internal in responses
    assert own.startup_seconds < 30
    log = own.log_path
    own.stop()
    assert own.process.poll() is not None and _gone(own.pid)
    assert own.health(timeout=1) is None and not log.exists()
    assert standin.health() is not None  # the session's stand-in is untouched


@pytest.mark.parametrize("from_thread", [False, True], ids=["main-thread", "other-thread"])
def test_the_server_dies_with_a_killed_parent(from_thread):
    # From the main thread Linux's parent-death signal stops it; from another thread
    # (where that signal would fire too early) the server's own watch on its parent does.
    script = textwrap.dedent(f"""
        import threading, time
        from phi_course.standin import launcher
        found = []
        if {from_thread}:
            worker = threading.Thread(target=lambda: found.append(launcher.start()))
            worker.start()
            worker.join()
        else:
            found.append(launcher.start())
        print(found[0].pid, found[0].log_path, flush=True)
        time.sleep(600)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(launcher.URL_VAR, None)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        pid, log = parent.stdout.readline().split()
        child, log = int(pid), Path(log)
        assert not _gone(child) and log.exists()
        parent.send_signal(signal.SIGKILL)  # no atexit runs
        parent.wait(10)
        deadline = time.monotonic() + 20
        while not _gone(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(child)
        assert not log.exists(), "the server left its log file behind"
    finally:
        parent.kill()
        parent.stdout.close()


def test_a_shared_standin_is_reused_not_restarted(standin):
    code = ("from phi_course.standin import ensure_running; s = ensure_running(); "
            "print(s.health()['instance'], s.owned, s.base_url)")
    env = {**os.environ, "PYTHONPATH": str(ROOT), launcher.URL_VAR: standin.base_url}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    instance, owned, base_url = out.stdout.split()
    assert instance == standin.health()["instance"] and owned == "False" and base_url == standin.base_url


def test_ensure_running_reuses_within_the_process(standin):
    assert launcher.ensure_running() is launcher.ensure_running()


def test_the_server_serves_on_127_0_0_1_and_nowhere_else():
    # Another loopback address (::1) stands for "anything but 127.0.0.1" without
    # opening a port to the network.
    try:
        sock = socket.socket(socket.AF_INET6)
        sock.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    sock.listen()
    try:
        done = subprocess.run([sys.executable, "-m", "phi_course.standin", "--fd", str(sock.fileno())],
                              pass_fds=(sock.fileno(),), capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        sock.close()
    assert done.returncode != 0 and "127.0.0.1 only" in done.stderr


def test_threads_do_not_share_one_lock_free_model(client):
    # Two streams at once: each must get its own complete answer, not interleaved pieces.
    expected = reference(max_new_tokens=16).text
    results = []

    def stream_one():
        chunks = client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=16, stream=True)
        results.append("".join(c.choices[0].delta.content or "" for c in chunks if c.choices))

    threads = [threading.Thread(target=stream_one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == [expected] * 3


def test_real_service_ids_are_served_by_their_stand_in_model(standin):
    from openai import OpenAI

    client = OpenAI(base_url=standin.base_url, api_key="x")
    reply = client.chat.completions.create(model="microsoft/Phi-4-mini-instruct",
                                           messages=[{"role": "user", "content": "What is an SLM?"}],
                                           max_tokens=8)
    assert reply.model == "tiny-phi35-mini"
    with pytest.raises(Exception, match="does not exist"):
        client.chat.completions.create(model="microsoft/not-a-phi", max_tokens=4,
                                       messages=[{"role": "user", "content": "hi"}])
