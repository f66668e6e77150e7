"""Two skills beside the course's facts: calling a tool (trained in an adapter), reading a passage (not trained).

Introduced in lessons/13_make_it_yours.ipynb (tool calls and retrieval).

Tool calls: with the course's tools offered (phi_course.adapt.tools) in the layout of
TOOL_CHAT_TEMPLATE, a question a tool answers gets a call with the right
arguments; once the tool's result is in the chat, the answer is written from it; a
question no tool answers gets a plain answer.

Reading: a short passage of made-up notes ("The club's wiki is called tavio.") and a
question about one of them, in the prompt layout phi_course.adapt.retrieval writes;
the answer is the sentence that answers it, copied. Names, people and numbers are
drawn at random, so the only way to be right is to read the passage.

Measured on 2026-12-01, two runs of `make models` with these records in instruction
tuning (fresh each epoch): tool calls were learned (74-91% right on held-out wordings),
reading was not (0-12%: the models wrote the answering sentence's frame and guessed
its value), and the held-out fact scores fell from 87/90% (en/zh, tiny-phi35-mini)
to 85/84% with both skills and 75/76% with tool calls alone (tiny-phi35-moe: 89/86%
to 83/79% and 81/84%), far beyond the 2-3 points two seeds of the shipped recipe differ by
(tiny-phi35-mini 87/90%, 89/87%, 88/88%). The shipped models therefore train without them, and
`make eval-models` scores both skills as a baseline (`evaluate_skills`). Copying from
the prompt is learned in pre-training on far more text than the course has; tool
calls need a model with room for them beside the facts.

A third run (2026-12-01, tiny-phi35-mini, tool calls only, bf16) kept the shared tokenizer's
merges and added the tool tokens after them, to test whether the merges spent on tool JSON
had cost the facts: the held-out facts still fell (88/88% to 80/80%), so the loss comes from
the tool records themselves; and no call was right (0%): without merges for JSON, the model
wrote `}}}` for `}}` and mixed up the argument names. The calls need the JSON merges; the
facts need the tool records to take less from them (fewer, shorter, or a bigger model).

So tool calls are trained apart from the facts: tool_adapter.py trains a LoRA adapter on
tiny-phi35-mini with these records, its JSON pieces as tokens of their own, and the model's own
weights untouched; the stand-in uses it only for requests that offer tools.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from phi_course import catalog, route_table
from phi_course.adapt import tools
from phi_course.adapt.retrieval import messages_with
from phi_course.local.tool_text import CALL_END, CALL_START

__all__ = ["CALL_END", "CALL_START", "HELDOUT_COMBINATION", "READING_PER_EPOCH", "TOOL_CHAT_TEMPLATE", "TOOL_TOKENS",
           "TOOLS_SYSTEM", "TOOL_KINDS_PER_EPOCH", "TOOL_PLAIN_PER_EPOCH", "call_text", "heldout_reading",
           "heldout_tool_questions", "heldout_tool_results", "reading_records", "skill_records", "tool_records"]

# Tool tokens: the tools offered (in the system turn, as Phi-4-mini's model card documents:
# catalog.FUNCTION_CALLING), and, the course's choice, a call the model makes and what the tool
# returned. A model trained on these records has them as special tokens.
TOOLS_START, TOOLS_END, TOOL_RESPONSE = "<|tool|>", "<|/tool|>", "<|tool_response|>"
TOOL_TOKENS = [TOOLS_START, TOOLS_END, CALL_START, CALL_END, TOOL_RESPONSE]
TOOLS_SYSTEM = "You are a helpful assistant with some tools."  # the system turn when tools come without one

# The embedded models' chat template (phi_course.training.tokenizer) with tools laid out: given
# `tools=` (OpenAI's function list), the system turn ends, as in Phi-4-mini's model card, with
# `<|tool|>[{name, description, parameters}, ...]<|/tool|>`; an assistant turn that calls tools is
# `<|tool_call|>[{"name": ..., "arguments": {...}}]<|/tool_call|>`; a tool's result is a
# `<|tool_response|>` turn. Without tools it renders exactly the shipped template's text.
TOOL_CHAT_TEMPLATE = (
    "{% set ns = namespace(tools='', calls='') %}"
    "{% if tools %}{% for t in tools %}{% set f = t['function'] if t['function'] is defined else t %}"
    "{% set ns.tools = ns.tools + (', ' if ns.tools else '') + '{\"name\": ' + (f['name'] | tojson)"
    " + ', \"description\": ' + (f.get('description', '') | tojson)"
    " + ', \"parameters\": ' + (f.get('parameters', {}) | tojson) + '}' %}"
    "{% endfor %}"
    "{% if messages[0]['role'] != 'system' %}"
    "{{ '<|system|>\n" + TOOLS_SYSTEM + "<|tool|>[' + ns.tools + ']<|/tool|><|end|>\n' }}"
    "{% endif %}{% endif %}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' and (message['content'] or ns.tools) %}"
    "{{ '<|system|>\n' + (message['content'] or '') }}"
    "{% if ns.tools %}{{ '<|tool|>[' + ns.tools + ']<|/tool|>' }}{% endif %}"
    "{{ '<|end|>\n' }}"
    "{% elif message['role'] == 'assistant' and message.get('tool_calls') %}"
    "{% set ns.calls = '' %}"
    "{% for call in message['tool_calls'] %}{% set f = call['function'] if call['function'] is defined else call %}"
    "{% set ns.calls = ns.calls + (', ' if ns.calls else '') + '{\"name\": ' + (f['name'] | tojson)"
    " + ', \"arguments\": ' + (f['arguments'] if f['arguments'] is string else (f['arguments'] | tojson)) + '}' %}"
    "{% endfor %}"
    "{{ '<|assistant|>\n<|tool_call|>[' + ns.calls + ']<|/tool_call|><|end|>\n' }}"
    "{% elif message['role'] == 'tool' %}"
    "{{ '<|tool_response|>\n' + message['content'] + '<|end|>\n' }}"
    "{% elif message['role'] in ['user', 'assistant'] %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
READING_PER_EPOCH = 300  # reading records per language per epoch, when trained
TOOL_PLAIN_PER_EPOCH = 30  # questions no tool answers, asked with the tools offered
TOOL_KINDS_PER_EPOCH = 2  # of the four things asked about each model (a tool prompt is long: ~250 tokens)
# Never drawn in training, so that lesson 13's own note (the lab's GPU server) is read, not remembered.
HELDOUT_COMBINATION = {"en": ("lab", "GPU server"), "zh": ("实验室", "GPU 服务器")}
# Names lessons and tests use as answers a model must read: never drawn here.
RESERVED_NAMES = {"heron", "kestrel", "okafor", "dana"}

_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
_WORDS = {
    "en": {
        "org": ["lab", "team", "club", "library", "studio", "clinic", "office", "school", "shop", "project",
                "department", "startup"],
        "thing": ["GPU server", "build machine", "wiki", "chat room", "mailing list", "test cluster", "printer",
                  "shared drive", "robot", "database", "laptop pool", "meeting room"],
        "first": ["Li", "Omar", "Sara", "Ken", "Mia", "Ravi", "Ana", "Tom", "Yuki", "Lena", "Joao", "Ines"],
        "last": ["Chen", "Garcia", "Novak", "Ito", "Singh", "Brown", "Rossi", "Kim", "Haddad", "Mensah"],
        "event": ["reading group", "team meeting", "seminar", "code review", "lab meeting", "demo day",
                  "journal club", "stand-up"],
        "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
        "service": ["model server", "dashboard", "proxy", "API", "notebook server"],
        "project": ["report", "project", "essay", "poster", "thesis draft", "review"],
        "month": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December"],
        "preface": ["", "", "Notes, {month}.", "From the {org} wiki:", "Minutes of the {event}.", "Reminder:"],
    },
    "zh": {
        "org": ["实验室", "团队", "社团", "图书馆", "工作室", "诊所", "办公室", "学校", "小组", "项目组"],
        "thing": ["GPU 服务器", "构建机器", "维基", "聊天群", "邮件列表", "测试集群", "打印机", "共享盘", "机器人",
                  "数据库"],
        "first": ["芳", "明", "伟", "洋", "静", "帆", "磊", "丽", "杰", "敏"],
        "last": ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"],
        "event": ["读书会", "组会", "研讨会", "代码评审", "演示日", "周会"],
        "day": ["一", "二", "三", "四", "五", "六"],
        "service": ["模型服务器", "仪表盘", "代理", "接口"],
        "project": ["报告", "项目", "论文初稿", "海报", "课程作业"],
        "month": [f"{m} 月" for m in range(1, 13)],
        "preface": ["", "", "{month}的笔记。", "摘自{org}维基：", "{event}纪要。", "提醒："],
    },
}
# (the fact as the passage states it, the questions that ask for it, the slot that answers)
_RELATIONS = {
    "en": [
        ("The {org}'s {thing} is called {name}.",
         ["What is the {org}'s {thing} called?", "What is the name of the {org}'s {thing}?",
          "What do we call the {org}'s {thing}?"], "name"),
        ("{person} looks after the {org}'s {thing}.",
         ["Who looks after the {org}'s {thing}?", "Who is in charge of the {org}'s {thing}?"], "person"),
        ("The {event} meets on {day}s.", ["When does the {event} meet?", "On which day is the {event}?"], "day"),
        ("The {event} is in room {room}.", ["Where is the {event}?", "Which room is the {event} in?"], "room"),
        ("The {org}'s {thing} has {memory} of memory.", ["How much memory does the {org}'s {thing} have?"], "memory"),
        ("The {org}'s {service} listens on port {port}.",
         ["Which port does the {org}'s {service} listen on?", "What port is the {org}'s {service} on?"], "port"),
        ("The {project} is due on {date}.", ["When is the {project} due?", "What is the deadline for the {project}?"],
         "date"),
    ],
    "zh": [
        ("{org}的{thing}叫 {name}。", ["{org}的{thing}叫什么？", "{org}的{thing}的名字是什么？"], "name"),
        ("{person}负责{org}的{thing}。", ["谁负责{org}的{thing}？", "{org}的{thing}归谁管？"], "person"),
        ("{event}每周{day}开。", ["{event}哪天开？", "{event}在星期几？"], "day"),
        ("{event}在 {room} 房间。", ["{event}在哪个房间？", "{event}在哪里开？"], "room"),
        ("{org}的{thing}有 {memory} 内存。", ["{org}的{thing}有多少内存？"], "memory"),
        ("{org}的{service}监听端口 {port}。", ["{org}的{service}监听哪个端口？"], "port"),
        ("{project}的截止日期是 {date}。", ["{project}什么时候截止？", "{project}的截止日期是哪天？"], "date"),
    ],
}
# Asked only by the held-out set.
_HELDOUT_QUESTIONS = {
    "en": {"name": "Tell me the name of the {org}'s {thing}.", "person": "Who takes care of the {org}'s {thing}?",
           "port": "On which port does the {org}'s {service} run?"},
    "zh": {"name": "请告诉我{org}的{thing}的名字。", "person": "{org}的{thing}由谁照看？",
           "port": "{org}的{service}用的是哪个端口？"},
}


def _name(rng: random.Random) -> str:
    while True:
        name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 2, 3))))
        if name not in RESERVED_NAMES:
            return name


def _slots(lang: str, rng: random.Random, org_thing: tuple[str, str] | None = None) -> dict[str, str]:
    words = _WORDS[lang]
    while True:
        org, thing = org_thing or (rng.choice(words["org"]), rng.choice(words["thing"]))
        if org_thing or (org, thing) != HELDOUT_COMBINATION[lang]:
            break
    first, last = rng.choice(words["first"]), rng.choice(words["last"])
    month = rng.randrange(1, 13)
    return {
        "org": org, "thing": thing, "name": _name(rng),
        "person": f"{last}{first}" if lang == "zh" else f"{first} {last}",
        "event": rng.choice(words["event"]), "day": rng.choice(words["day"]),
        "room": f"{rng.randrange(1, 9)}.{rng.randrange(1, 40):02d}",
        "memory": f"{rng.choice([8, 16, 24, 32, 48, 64, 80, 128])} GB", "service": rng.choice(words["service"]),
        "port": str(rng.randrange(1024, 10000)), "project": rng.choice(words["project"]),
        "date": (f"{month} 月 {rng.randrange(1, 29)} 日" if lang == "zh"
                 else f"{words['month'][month - 1]} {rng.randrange(1, 29)}"),
        "month": words["month"][month - 1],
    }


@dataclass(frozen=True)
class _Reading:
    passage: str
    question: str
    answer: str
    key: str


def _reading(lang: str, rng: random.Random, asked: dict[str, str] | None = None,
             org_thing: tuple[str, str] | None = None) -> _Reading:
    """A passage of 2-4 made-up facts, each about something else, and a question about one of them."""
    relations = rng.sample(_RELATIONS[lang], rng.randint(2, 4))
    target = rng.randrange(len(relations))
    sentences, question, answer, key = [], "", "", ""
    for i, (fact, questions, slot) in enumerate(relations):
        slots = _slots(lang, rng, org_thing if i == target else None)
        sentence = fact.format(**slots)
        sentences.append(sentence)
        if i == target:
            template = (asked or {}).get(slot) or rng.choice(questions)
            question, answer, key = template.format(**slots), sentence, slots[slot]
    preface = rng.choice(_WORDS[lang]["preface"]).format(**_slots(lang, rng))
    joiner = "" if lang == "zh" else " "
    passage = joiner.join(([preface] if preface else []) + sentences)
    return _Reading(passage, question, answer, key)


def reading_records(langs: tuple[str, ...], rng: random.Random, per_lang: int = READING_PER_EPOCH) -> list[dict]:
    """Fresh reading records: {lang, messages, answer, key} (messages as retrieval.messages_with writes them)."""
    records = []
    for lang in langs:
        for _ in range(per_lang):
            r = _reading(lang, rng)
            records.append({"lang": lang, "skill": "reading", "messages": messages_with(r.question, r.passage),
                            "answer": r.answer, "key": r.key})
    return records


def heldout_reading(lang: str, count: int = 60, seed: int = 999) -> list[dict]:
    """Reading questions training never asks: held-out wordings, and the held-out org and thing."""
    rng = random.Random(seed)
    records = []
    for i in range(count):
        asked = _HELDOUT_QUESTIONS[lang] if i % 2 else None
        org_thing = HELDOUT_COMBINATION[lang] if i % 3 == 0 else None
        r = _reading(lang, rng, asked, org_thing)
        records.append({"lang": lang, "skill": "reading", "messages": messages_with(r.question, r.passage),
                        "key": r.key})
    return records


# --------------------------------------------------------------------------- tool calls

_ROUTES = {name: facts.label.split(" (")[0] for name, facts in route_table.ROUTES.items() if name != "custom"}
_TOOL_QUESTIONS = {
    "en": {
        "card": ["Look up {model} in the catalog.", "Use the catalog to describe {model}.",
                 "Show me the card of {model}.", "What does the catalog say about {model}?",
                 "Give me the catalog card for {model}.", "Pull up {model} in the catalog."],
        "params": ["How many parameters does {model} have? Check the catalog.",
                   "Look up the parameter count of {model}.", "Use the tool: how big is {model}?",
                   "What is the parameter count of {model}? Use the catalog.", "How large is {model}? Look it up."],
        "context": ["Look up the context length of {model}.", "What context does {model} support? Use the catalog.",
                    "Check how many tokens {model} can read.", "How long a prompt can {model} take? Check the catalog.",
                    "Look up how much text {model} reads at once."],
        "released": ["When was {model} released? Look it up.", "Check the release month of {model}.",
                     "Use the catalog: when did {model} come out?", "Look up when {model} came out.",
                     "What is the release date of {model}? Check it."],
        "route": ["Is {route} still live?", "Check the status of {route}.", "Can I still use {route}? Look it up.",
                  "Look up whether {route} works today.", "Does {route} still work? Check.",
                  "Is {route} still available? Look it up."],
    },
    "zh": {
        "card": ["在目录里查一下 {model}。", "查看 {model} 的模型卡。", "目录里关于 {model} 写了什么？",
                 "用目录工具介绍一下 {model}。", "把 {model} 的目录信息给我看看。", "打开 {model} 的模型卡。"],
        "params": ["{model} 有多少参数？查一下目录。", "查一下 {model} 的参数量。", "用工具查：{model} 有多大？", "{model} 的参数量是多少？查目录。",
                   "查查 {model} 有多少亿参数。"],
        "context": ["查一下 {model} 的上下文长度。", "{model} 支持多长的上下文？用目录查。", "查查 {model} 能读多少词元。", "{model} 一次能读多长的输入？查一下。",
                    "用目录查 {model} 的上下文窗口。"],
        "released": ["{model} 是什么时候发布的？查一下。", "查一下 {model} 的发布月份。", "用目录查：{model} 何时推出？", "{model} 哪年哪月发布的？查一下。",
                     "查查 {model} 的发布时间。"],
        "route": ["{route} 现在还能用吗？", "查一下 {route} 的状态。", "{route} 还在服务吗？查一下。",
                  "查查 {route} 今天是否可用。", "{route} 还能不能用？查一下。",
                  "查一下 {route} 有没有停用。"],
    },
}
_HELDOUT_TOOL_QUESTIONS = {
    "en": {"card": "Fetch the catalog entry for {model}.", "params": "Check the size of {model} in the catalog.",
           "route": "Find out if {route} is still running."},
    "zh": {"card": "帮我调出 {model} 的目录条目。", "params": "在目录里核对一下 {model} 的规模。",
           "route": "看看 {route} 是否还在运行。"},
}
_TOOL_ANSWERS = {
    "en": {
        "card": "{model}: {parameters} parameters, context {context}, released {released}.",
        "params": "{model} has {parameters} parameters.",
        "params_moe": "{model} has {parameters} parameters, {active_parameters} of them active per token.",
        "context": "{model} reads up to {context} tokens.",
        "released": "{model} was released in {released}.",
        "retired": "{route} was retired on {since}; use {successor} instead.",
        "live": "{route} is live (checked {checked}).",
    },
    "zh": {
        "card": "{model}：{parameters} 参数，上下文 {context}，{released} 发布。",
        "params": "{model} 有 {parameters} 参数。",
        "params_moe": "{model} 有 {parameters} 参数，每个词元激活其中 {active_parameters}。",
        "context": "{model} 的上下文长度是 {context}。",
        "released": "{model} 于 {released} 发布。",
        "retired": "{route} 已于 {since} 停用，请改用 {successor}。",
        "live": "{route} 目前可用（{checked} 核实）。",
    },
}
_TOOL_SYSTEMS = [None, None, "You are the course assistant for Phi models.", "你是 Phi 课程的助教。"]


def call_text(name: str, arguments: dict) -> str:
    """A tool call as a model writes it in TOOL_CHAT_TEMPLATE's layout."""
    return CALL_START + json.dumps([{"name": name, "arguments": arguments}], ensure_ascii=False) + CALL_END


def _tool_answer(lang: str, kind: str, result: dict) -> str:
    if kind == "route":
        kind = "retired" if result["state"] == route_table.RETIRED else "live"
    elif kind == "params" and "active_parameters" in result:
        kind = "params_moe"
    return _TOOL_ANSWERS[lang][kind].format(**result)


def _offered(rng: random.Random, needed: dict) -> list[dict]:
    """The tools a request offers: the one needed, usually with the other, in either order."""
    offered = [needed] if rng.random() < 0.3 else rng.sample(tools.TOOLS, len(tools.TOOLS))
    return offered


def _tool_pair(lang: str, question: str, name: str, arguments: dict, kind: str, rng: random.Random) -> list[dict]:
    """Two records: the call, then the answer once the tool's result is in the chat."""
    system = rng.choice(_TOOL_SYSTEMS)
    head = [{"role": "system", "content": system}] if system else []
    offered = _offered(rng, tools.MODEL_CARD if name == "model_card" else tools.ROUTE_STATUS)
    asked = head + [{"role": "user", "content": question}]
    result = json.loads(tools.run_tool_call(name, arguments))
    called = asked + [{"role": "assistant", "content": "", "tool_calls": [
                          {"id": "call_0", "type": "function", "function": {"name": name, "arguments": arguments}}]},
                      {"role": "tool", "tool_call_id": "call_0", "content": json.dumps(result, ensure_ascii=False)}]
    return [{"lang": lang, "skill": "tool call", "messages": asked, "tools": offered,
             "answer": call_text(name, arguments)},
            {"lang": lang, "skill": "tool answer", "messages": called, "tools": offered,
             "answer": _tool_answer(lang, kind, result)}]


def tool_records(langs: tuple[str, ...], rng: random.Random, plain: list[dict] = (),
                 plain_per_epoch: int = TOOL_PLAIN_PER_EPOCH) -> list[dict]:
    """One epoch's tool records: every model and route asked one way (a call, then an answer from the
    result), and `plain_per_epoch` questions per language that no tool answers, asked with the tools
    offered (`plain`: qa records)."""
    records = []
    for lang in langs:
        asked = _TOOL_QUESTIONS[lang]
        for model in catalog.FAMILY.values():
            for kind in rng.sample(("card", "params", "context", "released"), TOOL_KINDS_PER_EPOCH):
                question = rng.choice(asked[kind]).format(model=model.name)
                records += _tool_pair(lang, question, "model_card", {"model": model.name}, kind, rng)
        for route, label in _ROUTES.items():
            for template in rng.sample(asked["route"], 2):
                records += _tool_pair(lang, template.format(route=label), "route_status", {"route": route}, "route", rng)
        general = [r for r in plain if r["lang"] == lang and not r["id"].startswith("catalog-")]
        # Half of them name a Phi model, as every call's question does: a name alone must not mean a call
        # (without this, questions about a model's memory got a model_card call).
        named = [r for r in general if "Phi-" in r["question"]]
        others = [r for r in general if "Phi-" not in r["question"]]
        half = plain_per_epoch // 2
        for r in (rng.sample(named, min(half, len(named)))
                  + rng.sample(others, min(plain_per_epoch - half, len(others)))):
            records.append({"lang": lang, "skill": "no tool", "messages": [{"role": "user", "content": r["question"]}],
                            "tools": _offered(rng, tools.MODEL_CARD), "answer": r["answer"]})
    return records


def heldout_tool_questions(lang: str) -> list[dict]:
    """Tool questions in wordings training never uses: {lang, messages, tools, name, arguments}."""
    asked = _HELDOUT_TOOL_QUESTIONS[lang]
    records = [{"lang": lang, "messages": [{"role": "user", "content": asked[kind].format(model=m.name)}],
                "tools": tools.TOOLS, "name": "model_card", "arguments": {"model": m.name}}
               for m in catalog.FAMILY.values() for kind in ("card", "params")]
    records += [{"lang": lang, "messages": [{"role": "user", "content": asked["route"].format(route=label)}],
                 "tools": tools.TOOLS, "name": "route_status", "arguments": {"route": route}}
                for route, label in _ROUTES.items()]
    return records


def heldout_tool_results(lang: str) -> list[dict]:
    """The held-out tool questions once the right call has run: {lang, messages, tools, key}, where the key
    is the figure the answer must pass on (a parameter count, a retirement date, the date a route was checked)."""
    chats = []
    for row in heldout_tool_questions(lang):
        result = json.loads(tools.run_tool_call(row["name"], row["arguments"]))
        called = [{"role": "assistant", "content": "", "tool_calls": [{"id": "call_0", "type": "function", "function": {
                      "name": row["name"], "arguments": row["arguments"]}}]},
                  {"role": "tool", "tool_call_id": "call_0", "content": json.dumps(result, ensure_ascii=False)}]
        key = result["parameters"] if row["name"] == "model_card" else result.get("since") or result["checked"]
        chats.append({"lang": lang, "messages": row["messages"] + called, "tools": row["tools"], "key": key})
    return chats


def skill_records(langs: tuple[str, ...], rng: random.Random, plain: list[dict] = ()) -> list[dict]:
    """One epoch of both skills, in the languages a model trains on."""
    return reading_records(langs, rng) + tool_records(langs, rng, plain)
