"""Tool calls through the stand-in: the tools API of both protocols, with the real openai and ollama clients.

A model that writes a call in the course's layout (`<|tool_call|>[...]<|/tool_call|>`) gets `tool_calls` back.
Over HTTP: tiny-phi35-mini calls the course's tools through its tool-calling adapter
(phi_course/training/tool_adapter.py), and a whole loop runs (call, tool result, answer from it);
tiny-phi35-moe has no adapter, so it shows what a model never trained to call shows (tools accepted,
answers in text, no call forced, Ollama refuses them); every mistake is a 400 naming the field.
The call path itself is also tested on written answers: the reader (phi_course.local.tool_text), the
answer's token side (generation.AnswerText, with a tokenizer that has the call markers) and the
response shapes, which the SDKs' own types must accept.
"""

import json

import httpx
import ollama
import openai
import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from phi_course.adapt import tools
from phi_course.local import embedded, generation
from phi_course.local.tool_text import CALL_END, CALL_START, ToolCall, parse_calls
from phi_course.standin import engine, tools_api
from phi_course.standin.body import InvalidField
from phi_course.training import skills
from phi_course.training.tokenizer import train_tokenizer
from phi_course.vision import NAME as VISION

MODEL = embedded.DEFAULT_MODEL  # has a tool-calling adapter
NO_TOOLS = "tiny-phi35-moe"  # has none: it answers in text
NAMES = ["model_card", "route_status"]
# Phrasings the models were trained on (phi_course.training.skills), as lesson 13 asks them.
CARD_QUESTION = [{"role": "user", "content": "Look up Phi-4-mini in the catalog."}]
ROUTE_QUESTION = [{"role": "user", "content": "Is GitHub Models still live?"}]
PLAIN_QUESTION = [{"role": "user", "content": "What is a small language model?"}]


def call(name: str, arguments: dict) -> str:
    return CALL_START + json.dumps([{"name": name, "arguments": arguments}]) + CALL_END


# --- reading a call out of the model's text (pure) ---

@pytest.mark.parametrize(("text", "expected"), [
    (call("model_card", {"model": "Phi-4-mini"}), [ToolCall("model_card", {"model": "Phi-4-mini"})]),
    (CALL_START + '[{"name": "model_card", "arguments": {"model": "Phi-3-mini"}}, '
     '{"name": "route_status", "arguments": {"route": "github"}}]' + CALL_END + "\n",
     [ToolCall("model_card", {"model": "Phi-3-mini"}), ToolCall("route_status", {"route": "github"})]),
    (CALL_START + '{"name": "route_status", "arguments": {"route": "nim"}}' + CALL_END,  # one call, no list
     [ToolCall("route_status", {"route": "nim"})]),
    (CALL_START + '[{"name": "route_status", "arguments": "{\\"route\\": \\"nim\\"}"}]' + CALL_END,  # as a string
     [ToolCall("route_status", {"route": "nim"})]),
    (CALL_START + '[{"name": "route_status"}]' + CALL_END, [ToolCall("route_status", {})]),
])
def test_a_well_formed_call_is_read(text, expected):
    assert parse_calls(text, NAMES) == expected


@pytest.mark.parametrize("text", [
    "Phi-4-mini has 3.8B parameters.",  # text, not a call
    call("model_card", {"model": "Phi-4-mini"})[:-len(CALL_END)],  # cut off by the token limit
    CALL_START + '[{"name": "model_card", "arguments": {"model": "Phi-4-mini"]' + CALL_END,  # broken JSON
    call("weather", {"city": "Paris"}),  # a tool nobody offered
    CALL_START + '[{"name": ["model_card"], "arguments": {}}]' + CALL_END,  # a name that is not a string
    CALL_START + '[{"name": "model_card", "arguments": ["Phi-4-mini"]}]' + CALL_END,  # arguments not an object
    CALL_START + '[{"name": "model_card", "arguments": "{model: Phi}"}]' + CALL_END,  # string that is not JSON
    CALL_START + "[]" + CALL_END,  # no call at all
    CALL_START + '["model_card"]' + CALL_END,
    call("model_card", {"model": "Phi-4-mini"}) + " Let me check.",  # text after the call
    "Sure: " + call("model_card", {"model": "Phi-4-mini"}),  # the call must come first
])
def test_anything_else_is_not_a_call(text):
    assert parse_calls(text, NAMES) is None


# --- the request checks (pure) ---

def _tool_turns(content="{}", call_id="call_1", answered="call_1"):
    result = {"role": "tool", "tool_call_id": answered}
    if content is not None:
        result["content"] = content
    if answered is None:
        del result["tool_call_id"]
    return [*CARD_QUESTION, {"role": "assistant", "content": None, "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": "model_card", "arguments": "{}"}}]}, result]


@pytest.mark.parametrize(("messages", "field"), [
    (_tool_turns(content=None), "messages.2.content"),
    (_tool_turns(answered=None), "messages.2.tool_call_id"),
    (_tool_turns(answered="call_2"), "messages.2.tool_call_id"),
    ([*CARD_QUESTION, {"role": "tool", "tool_call_id": "call_1", "content": "{}"}], "messages.1.tool_call_id"),
    (_tool_turns()[:2] + [*CARD_QUESTION, _tool_turns()[2]], "messages.3.tool_call_id"),  # a turn between
    ([{"role": "user", "content": "hi", "tool_calls": _tool_turns()[1]["tool_calls"]}], "messages.0.tool_calls"),
])
def test_a_tool_result_the_model_cannot_follow_is_refused_naming_the_field(messages, field):
    with pytest.raises(InvalidField) as error:
        tools_api.check_messages(messages, ids=True)
    assert error.value.field == field


def test_a_whole_tool_exchange_passes_the_checks_in_both_apis():
    tools_api.check_messages(_tool_turns(), ids=True)
    tools_api.check_messages([*CARD_QUESTION, {"role": "tool", "content": "{}"}], ids=False)  # Ollama: no ids


def test_tool_choice_forces_the_opening_of_a_call_or_is_refused():
    assert tools_api.begin_for("auto", tools.TOOLS) == tools_api.begin_for("none", tools.TOOLS) == ""
    assert tools_api.begin_for("required", tools.TOOLS) == CALL_START
    named = tools_api.begin_for({"type": "function", "function": {"name": "route_status"}}, tools.TOOLS)
    assert named == CALL_START + '[{"name": "route_status' and call("route_status", {}).startswith(named)
    with pytest.raises(InvalidField) as error:
        tools_api.begin_for({"type": "function", "function": {"name": "weather"}}, tools.TOOLS)
    assert error.value.field == "tool_choice.function.name"
    with pytest.raises(InvalidField) as error:
        tools_api.begin_for("required", None)
    assert error.value.field == "tool_choice"


# --- the answer's token side: a call is held back whole, text is cut as before ---

@pytest.fixture(scope="module")
def tokenizer():
    """A tokenizer with the call markers as special tokens, as a tool-trained model's would have them."""
    tokenizer = train_tokenizer([call("model_card", {"model": "Phi-4-mini"}), "Phi-4-mini has 3.8B parameters."],
                                vocab_size=400)
    tokenizer.add_special_tokens({"extra_special_tokens": skills.TOOL_TOKENS}, replace_extra_special_tokens=False)
    return tokenizer


def _answer(tokenizer, text: str, calls: bool, stops=(), budget=100) -> generation.ChatResult:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    plan = generation.Plan(prompt_ids=[0], budget=budget, pick=int, bias=None, end_ids={tokenizer.eos_token_id},
                           stops=list(stops), greedy=True)
    answer = generation.AnswerText(tokenizer, plan, calls=calls)
    shown = ""
    for token in ids:
        shown += answer.push(token)
        if answer.finish:
            break
    assert shown == answer.shown
    return answer.result(0, 0)


def test_a_call_is_held_back_whole_and_a_text_answer_is_cut_as_before(tokenizer):
    written = call("model_card", {"model": "Phi-4-mini"})
    result = _answer(tokenizer, written, calls=True, stops=["model"])  # stop strings do not cut a call
    assert (result.text, result.call, result.finish_reason) == ("", written, "stop")
    without_tools = _answer(tokenizer, written, calls=False)  # the markers are special: never shown as text
    assert without_tools.call is None and CALL_START not in without_tools.text and "Phi-4-mini" in without_tools.text
    text = _answer(tokenizer, "Phi-4-mini has 3.8B parameters.", calls=True, stops=["3.8"])
    assert (text.text, text.call, text.finish_reason) == ("Phi-4-mini has ", None, "stop")
    cut = _answer(tokenizer, written, calls=True, budget=4)
    assert cut.finish_reason == "length" and written.startswith(cut.call) and parse_calls(cut.call, NAMES) is None


def test_a_forced_opening_tokenizes_as_the_start_of_the_call(tokenizer):
    from phi_course.training.tool_adapter import build_tokenizer

    adapter = build_tokenizer(embedded.model_path(MODEL))  # the tokenizer that really writes calls
    for name, arguments in (("model_card", {"model": "Phi-4-mini"}), ("route_status", {"route": "nim"})):
        named = tools_api.begin_for({"type": "function", "function": {"name": name}}, tools.TOOLS)
        for reader in (tokenizer, adapter):
            opening = reader(named, add_special_tokens=False)["input_ids"]
            whole = reader(skills.call_text(name, arguments), add_special_tokens=False)["input_ids"]
            assert whole[:len(opening)] == opening, (name, reader.convert_ids_to_tokens(opening))


# --- the response shapes, read by the SDKs' own types ---

CARD_CALL = call("model_card", {"model": "Phi-4-mini"})


def completion(message: dict, finish: str) -> ChatCompletion:
    return ChatCompletion.model_validate({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}]})


def test_a_call_is_an_openai_message_with_tool_calls_and_a_broken_one_is_text():
    message, finish = tools_api.openai_message("", CARD_CALL, "stop", tools.TOOLS)
    choice = completion(message, finish).choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    (made,) = choice.message.tool_calls
    assert made.id.startswith("call_") and made.type == "function"
    assert (made.function.name, json.loads(made.function.arguments)) == ("model_card", {"model": "Phi-4-mini"})
    for broken, finish in [(CARD_CALL[:-len(CALL_END)], "length"), (call("weather", {}), "stop")]:
        message, reason = tools_api.openai_message("", broken, finish, tools.TOOLS)
        choice = completion(message, reason).choices[0]
        assert (choice.message.content, choice.message.tool_calls, choice.finish_reason) == (broken, None, finish)
    message, reason = tools_api.openai_message("Phi-4-mini has 3.8B parameters.", None, "stop", tools.TOOLS)
    assert completion(message, reason).choices[0].message.content == "Phi-4-mini has 3.8B parameters."
    message, reason = tools_api.openai_message("", CARD_CALL, "stop", None)  # tool_choice "none": nothing offered
    assert (completion(message, reason).choices[0].message.content, reason) == (CARD_CALL, "stop")


def stream_of(call_text: str | None, finish: str, offered) -> ChatCompletion:
    """The chunks the stand-in sends for an answer held back as a call, accumulated by the SDK's stream state."""
    state = ChatCompletionStreamState(input_tools=offered)
    deltas, reason = tools_api.openai_deltas(call_text, finish, offered, opened=False)  # as the stand-in streams it
    chunks = [*deltas, {}]
    for i, delta in enumerate(chunks):
        state.handle_chunk(ChatCompletionChunk.model_validate({
            "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": reason if i == len(chunks) - 1 else None}]}))
    return state.get_final_completion()


def test_a_streamed_call_is_accumulated_by_the_openai_sdk():
    choice = stream_of(CARD_CALL, "stop", tools.TOOLS).choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None  # as OpenAI's calls
    (made,) = choice.message.tool_calls
    assert (made.function.name, json.loads(made.function.arguments)) == ("model_card", {"model": "Phi-4-mini"})
    two = CALL_START + json.dumps([{"name": "model_card", "arguments": {"model": "Phi-3-mini"}},
                                   {"name": "route_status", "arguments": {"route": "nim"}}]) + CALL_END
    calls = stream_of(two, "stop", tools.TOOLS).choices[0].message.tool_calls
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("model_card", {"model": "Phi-3-mini"}), ("route_status", {"route": "nim"})]
    assert len({c.id for c in calls}) == 2
    unknown = call("weather", {"city": "Paris"})  # (the SDK refuses to finish a stream cut by the length limit)
    broken = stream_of(unknown, "stop", tools.TOOLS).choices[0]
    assert (broken.message.content, broken.message.tool_calls, broken.finish_reason) == (unknown, None, "stop")


def test_a_call_is_an_ollama_message_with_object_arguments():
    reply = ollama.ChatResponse.model_validate({"model": MODEL, "done": True, "done_reason": "stop",
                                                "message": tools_api.ollama_message("", CARD_CALL, tools.TOOLS)})
    (made,) = reply.message.tool_calls
    assert (made.function.name, dict(made.function.arguments)) == ("model_card", {"model": "Phi-4-mini"})
    assert reply.message.content == ""
    assert tools_api.ollama_message("", call("weather", {}), tools.TOOLS)["content"] == call("weather", {})


# --- over HTTP: tiny-phi35-mini calls through its adapter, tiny-phi35-moe answers in text ---

@pytest.fixture(scope="module")
def client(standin):
    return openai.OpenAI(base_url=standin.base_url, api_key="not-needed", timeout=120, max_retries=0)


def ask(client, messages, model=MODEL, **extra):
    return client.chat.completions.create(model=model, messages=messages, **{"temperature": 0, "max_tokens": 40,
                                                                              **extra})


def test_the_adapter_is_where_the_tools_template_comes_from():
    assert embedded.tools_adapter(MODEL) is not None and embedded.tools_adapter(NO_TOOLS) is None
    assert tools_api.lays_out_tools(engine.model_card(MODEL).chat_template)
    assert not tools_api.lays_out_tools(engine.model_card(NO_TOOLS).chat_template)


def test_tiny_phi35_mini_calls_a_tool_and_answers_from_its_result_in_a_whole_loop(client):
    """Lesson 13's loop, keyless: the call, the tool run by our code, the answer from its result."""
    messages = list(CARD_QUESTION)
    reply = ask(client, messages, tools=tools.TOOLS).choices[0]
    assert reply.finish_reason == "tool_calls" and reply.message.content is None
    (made,) = reply.message.tool_calls
    assert made.id and made.type == "function" and made.function.name == "model_card"
    assert json.loads(made.function.arguments) == {"model": "Phi-4-mini"}  # a JSON string, as the API sends it
    result = tools.run_tool_call(made.function.name, made.function.arguments)
    messages += [reply.message, {"role": "tool", "tool_call_id": made.id, "content": result}]
    answer = ask(client, messages, tools=tools.TOOLS).choices[0]
    assert answer.finish_reason == "stop" and not answer.message.tool_calls
    assert json.loads(result)["parameters"] in answer.message.content  # the figure came from our code


def test_a_streamed_call_accumulates_in_the_sdk_as_the_whole_one(client):
    whole = ask(client, ROUTE_QUESTION, tools=tools.TOOLS).choices[0].message.tool_calls
    state = ChatCompletionStreamState(input_tools=tools.TOOLS)
    for chunk in ask(client, ROUTE_QUESTION, tools=tools.TOOLS, stream=True):
        state.handle_chunk(chunk)
    streamed = state.get_final_completion().choices[0]
    assert streamed.finish_reason == "tool_calls"
    assert [(c.function.name, json.loads(c.function.arguments)) for c in streamed.message.tool_calls] == \
        [(c.function.name, json.loads(c.function.arguments)) for c in whole] == [("route_status", {"route": "github"})]


def test_tool_choice_makes_the_adapter_call_even_for_a_question_no_tool_answers(client):
    free = ask(client, PLAIN_QUESTION, tools=tools.TOOLS).choices[0]
    assert free.finish_reason == "stop" and free.message.content and not free.message.tool_calls
    for choice, name in (("required", None), ({"type": "function", "function": {"name": "route_status"}},
                                              "route_status")):
        forced = ask(client, PLAIN_QUESTION, tools=tools.TOOLS, tool_choice=choice).choices[0]
        assert forced.finish_reason == "tool_calls" and forced.message.tool_calls, forced
        assert name in (None, forced.message.tool_calls[0].function.name)
    none = ask(client, CARD_QUESTION, tools=tools.TOOLS, tool_choice="none").choices[0]
    assert none.finish_reason in ("stop", "length") and none.message.content and not none.message.tool_calls


def test_a_model_without_an_adapter_answers_in_text_with_tools_offered(client):
    plain = ask(client, CARD_QUESTION, NO_TOOLS).choices[0]
    offered = ask(client, CARD_QUESTION, NO_TOOLS, tools=tools.TOOLS).choices[0]
    assert offered.finish_reason == plain.finish_reason and offered.message.tool_calls is None
    assert offered.message.content == plain.message.content and plain.message.content
    streamed = ask(client, CARD_QUESTION, NO_TOOLS, tools=tools.TOOLS, tool_choice="auto", stream=True)
    chunks = [c.choices[0] for c in streamed if c.choices]
    assert "".join(c.delta.content or "" for c in chunks) == plain.message.content
    assert chunks[-1].finish_reason == plain.finish_reason and not any(c.delta.tool_calls for c in chunks)
    assert [c.delta.role for c in chunks].count("assistant") == 1 and chunks[0].delta.role == "assistant"


def test_stop_strings_and_the_budget_apply_to_a_text_answer_with_tools_offered(client):
    whole = ask(client, PLAIN_QUESTION, tools=tools.TOOLS).choices[0].message.content
    words = whole.split()
    assert len(words) >= 4, whole
    stop = words[len(words) // 2]
    cut = ask(client, PLAIN_QUESTION, tools=tools.TOOLS, stop=[stop]).choices[0]
    assert (cut.message.content, cut.finish_reason) == (whole[:whole.index(stop)], "stop")
    short = ask(client, PLAIN_QUESTION, tools=tools.TOOLS, max_tokens=2).choices[0]
    assert short.finish_reason == "length" and whole.startswith(short.message.content)


def test_a_tool_exchange_in_the_history_is_read_and_answered(client):
    made = {"id": "call_1", "type": "function",
            "function": {"name": "route_status", "arguments": json.dumps({"route": "github"})}}
    result = tools.run_tool_call("route_status", "{\"route\": \"github\"}")
    history = [*ROUTE_QUESTION, {"role": "assistant", "content": None, "tool_calls": [made]},
               {"role": "tool", "tool_call_id": "call_1", "content": result}]
    for model, offered in [(MODEL, {"tools": tools.TOOLS}), (MODEL, {"tools": tools.TOOLS, "tool_choice": "none"}),
                           (MODEL, {}), (NO_TOOLS, {"tools": tools.TOOLS})]:
        reply = ask(client, history, model, **offered).choices[0]
        assert reply.finish_reason in ("stop", "length") and reply.message.content and not reply.message.tool_calls
    answered = ask(client, history, tools=tools.TOOLS).choices[0].message.content
    assert json.loads(result)["since"] in answered  # the retirement date, read from the tool's result


def test_a_model_that_cannot_call_is_not_made_to(client):
    for choice in ("required", {"type": "function", "function": {"name": "model_card"}}):
        with pytest.raises(openai.BadRequestError) as error:
            ask(client, CARD_QUESTION, NO_TOOLS, tools=tools.TOOLS, tool_choice=choice)
        assert error.value.body["param"] == "tool_choice" and "never trained to call tools" in error.value.body["message"]


@pytest.mark.parametrize(("extra", "param"), [
    ({"tools": [{"type": "function", "function": {}}]}, "tools.0.function.name"),
    ({"tools": [{"type": "function", "function": {"name": "look up"}}]}, "tools.0.function.name"),
    ({"tools": [{"type": "retrieval", "function": {"name": "x"}}]}, "tools.0.type"),
    ({"tools": [{"type": "function"}]}, "tools.0.function"),
    ({"tools": [tools.MODEL_CARD, {"type": "function", "function": {"name": "x", "parameters": "none"}}]},
     "tools.1.function.parameters"),
    ({"tools": {"type": "function"}}, "tools"),
    ({"tools": tools.TOOLS, "tool_choice": "sometimes"}, "tool_choice"),
    ({"tool_choice": "required"}, "tool_choice"),
    ({"tools": tools.TOOLS, "tool_choice": {"type": "function", "function": {"name": "weather"}}},
     "tool_choice.function.name"),
])
def test_wrong_tools_are_a_400_naming_the_field(client, extra, param):
    with pytest.raises(openai.BadRequestError) as error:
        ask(client, CARD_QUESTION, **extra)
    assert error.value.body["param"] == param, error.value.body


def _sent_back(**changes):
    made = {"id": "call_1", "type": "function", "function": {"name": "model_card", "arguments": "{}"}}
    made.update(changes)
    return [*CARD_QUESTION, {"role": "assistant", "content": None, "tool_calls": [made]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{}"}]


@pytest.mark.parametrize(("messages", "param"), [
    (_tool_turns(content=None), "messages.2.content"),
    (_tool_turns(answered=None), "messages.2.tool_call_id"),
    (_tool_turns(answered="call_9"), "messages.2.tool_call_id"),
    (_sent_back(function={"name": "model_card", "arguments": {"model": "Phi-4-mini"}}),
     "messages.1.tool_calls.0.function.arguments"),
    (_sent_back(id=None), "messages.1.tool_calls.0.id"),
    (_sent_back(function={"arguments": "{}"}), "messages.1.tool_calls.0.function.name"),
    ([*CARD_QUESTION, {"role": "assistant", "tool_calls": "model_card"}], "messages.1.tool_calls"),
])
def test_a_malformed_tool_exchange_is_a_400_naming_the_field(client, messages, param):
    with pytest.raises(openai.BadRequestError) as error:
        ask(client, messages, tools=tools.TOOLS)
    assert error.value.body["param"] == param, error.value.body


def test_the_vision_model_refuses_tools(client):
    if not embedded.on_disk(VISION):
        pytest.skip("the vision model is not on disk")
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=VISION, messages=CARD_QUESTION, tools=tools.TOOLS)
    assert error.value.body["param"] == "tools"


# --- Ollama's API ---

@pytest.fixture(scope="module")
def ollama_client(standin):
    return ollama.Client(host=standin.url, timeout=120)


def test_ollama_lists_tools_only_where_the_template_lays_them_out_and_refuses_them_elsewhere(ollama_client):
    for model, calls in ((MODEL, True), (NO_TOOLS, False)):
        shown = ollama_client.show(model)
        assert ("tools" in shown.capabilities) == tools_api.lays_out_tools(shown.template) == calls
    with pytest.raises(ollama.ResponseError) as error:
        ollama_client.chat(model=NO_TOOLS, messages=CARD_QUESTION, tools=tools.TOOLS)
    assert error.value.status_code == 400 and "does not support tools" in error.value.error


def test_ollama_gets_the_call_with_its_arguments_as_an_object(ollama_client):
    reply = ollama_client.chat(model=MODEL, messages=CARD_QUESTION, tools=tools.TOOLS,
                               options={"temperature": 0, "num_predict": 40})
    assert reply.done and not reply.message.content
    (made,) = reply.message.tool_calls
    assert (made.function.name, dict(made.function.arguments)) == ("model_card", {"model": "Phi-4-mini"})


def test_ollama_reads_a_tool_exchange_in_the_history_and_refuses_a_malformed_one(standin, ollama_client):
    made = {"function": {"name": "route_status", "arguments": {"route": "github"}}}
    history = [*ROUTE_QUESTION, {"role": "assistant", "content": "", "tool_calls": [made]},
               {"role": "tool", "content": tools.run_tool_call("route_status", {"route": "github"}),
                "tool_name": "route_status"}]
    reply = ollama_client.chat(model=MODEL, messages=history, options={"temperature": 0, "num_predict": 30})
    assert reply.done and reply.message.content and not reply.message.tool_calls
    with pytest.raises(ollama.ResponseError) as error:
        ollama_client.chat(model=MODEL, messages=[*CARD_QUESTION, {"role": "tool"}])
    assert error.value.status_code == 400 and "messages.1.content" in error.value.error
    for body, field in [({"tools": [{"type": "function", "function": {"name": ""}}]}, "tools.0.function.name"),
                        ({"messages": [*CARD_QUESTION, {"role": "assistant", "tool_calls": [
                            {"function": {"name": "model_card", "arguments": "{}"}}]}]},
                         "messages.1.tool_calls.0.function.arguments")]:
        reply = httpx.post(f"{standin.url}/api/chat", timeout=30, json={"model": MODEL, "messages": CARD_QUESTION,
                                                                         **body})
        assert reply.status_code == 400 and field in reply.json()["error"], reply.text
