"""Facts generated from phi_course.catalog, so the models learn the catalog's own figures.

Introduced in lessons/11_build_a_tiny_slm.ipynb.

Numbers are never retyped here: change catalog.py and regenerate the dataset
(`python -m phi_course.training dataset`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from phi_course import catalog, route_table
from phi_course.local.embedded import EMBEDDED
from phi_course.training.facts import Fact

__all__ = ["ASK", "BYTES_PER_WEIGHT", "ROUTE_NAMES", "SUMMARY_ZH", "billions", "catalog_facts", "gigabytes"]

# Short route names for questions (the route table's labels, without their asides).
ROUTE_NAMES = {name: facts.label.split(" (")[0] for name, facts in route_table.ROUTES.items()}
# Bytes each weight takes in memory, per storage type.
BYTES_PER_WEIGHT = {"fp32": 4, "fp16": 2, "int8": 1, "int4": 0.5}


def billions(value: float) -> str:
    """3.8 -> '3.8B', 14.0 -> '14B'."""
    return f"{value:g}B"


def gigabytes(params_b: float, bytes_per_weight: float) -> str:
    """Weight memory in GB (10^9 bytes), rounded half-up to one decimal: '1.9 GB', '21 GB'."""
    exact = Decimal(str(params_b)) * Decimal(str(bytes_per_weight))
    rounded = exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP).normalize()
    return f"{rounded:f} GB"


def _fact(id_: str, topic: str, key, en_q: list[str], en_a: str, zh_q: list[str], zh_a: str, *,
          en_held: tuple[str, ...] = (), zh_held: tuple[str, ...] = (),
          en_alt: tuple[str, ...] = (), zh_alt: tuple[str, ...] = ()) -> Fact:
    """A fact from templates: the first four phrasings are its main ones, the rest extra ones."""
    en_key, zh_key = (key, None) if isinstance(key, str) else key
    return Fact(id_, topic, en_key, tuple(en_q[:4]), en_a, tuple(zh_q[:4]), zh_a, zh_key,
                en_extra=tuple(en_q[4:]), zh_extra=tuple(zh_q[4:]), en_heldout=tuple(en_held),
                zh_heldout=tuple(zh_held), en_alternatives=tuple(en_alt), zh_alternatives=tuple(zh_alt))


# The catalog's one-line summaries, in Chinese (figures stay in the English catalog).
SUMMARY_ZH = {
    "phi-3-mini": "稠密解码器，量化到 4 位后能在手机上运行。",
    "phi-3-small": "稠密解码器，在许多基准上胜过 GPT-3.5-Turbo。",
    "phi-3-medium": "稠密解码器，是最大的 Phi-3。",
    "phi-3.5-mini": "大小与 Phi-3-mini 相同，多语言和长上下文能力更强。",
    "phi-3-vision": "图像编码器加 Phi-3-mini 解码器，能读图表、表格和文字。",
    "phi-3.5-vision": "Phi-3-vision 的升级版，能同时看多张图像或视频帧。",
    "phi-3.5-moe": "混合专家模型，每个 token 只用两个专家。",
    "phi-4": "稠密解码器，大量使用合成推理数据训练。",
    "phi-4-mini": "拥有 20 万词表和分组查询注意力。",
    "phi-4-multimodal": "一个模型同时处理文本、图像和语音。",
    "phi-4-reasoning": "在 Phi-4 基础上微调，先逐步推理再作答（数学、科学、代码）。",
    "phi-4-reasoning-plus": "在 Phi-4-reasoning 基础上再用强化学习训练，推理更长、更准确。",
    "phi-4-mini-reasoning": "在 Phi-4-mini 基础上用逐步解答的数学题微调。",
    "phi-4-mini-flash-reasoning": "采用新的混合架构（SambaY），长推理的解码比 Phi-4-mini-reasoning 更快。",
}


# How learners ask for each attribute of a model: training phrasings, then held-out ones that
# are never trained on (written in other words, to test that the models answer however asked).
ASK: dict[str, dict[str, list[str]]] = {
    "about": {
        "en": ["What is {n}?", "Tell me about {n}.", "Introduce {n}.", "What kind of model is {n}?",
               "Describe {n}.", "Give me an overview of {n}.", "What do you know about {n}?", "{n}: what is it?"],
        "zh": ["什么是 {n}？", "介绍一下 {n}。", "请介绍一下 {n}。", "{n} 是什么模型？", "说说 {n}。",
               "{n} 是什么？", "简单介绍 {n}。"],
        "en_held": ["Tell me what {n} is."],
        "zh_held": ["能介绍一下 {n} 吗？"],
    },
    "params": {
        "en": ["How many parameters does {n} have?", "What is the size of {n} in parameters?", "How big is {n}?",
               "{n} parameter count?", "How large is {n}?", "What's the parameter count of {n}?",
               "Number of parameters in {n}?", "Give me the size of {n}."],
        "zh": ["{n} 有多少参数？", "{n} 的参数规模是多少？", "{n} 参数量？", "{n} 有多大？",
               "{n} 的模型大小是多少？", "请问 {n} 有多少个参数？", "{n} 的参数量是多少？"],
        "en_held": ["Tell me the number of parameters in {n}."],
        "zh_held": ["{n} 的参数有多少个？"],
    },
    "total": {
        "en": ["How many parameters does {n} have in total?", "What is the total size of {n}?",
               "How big is {n} in total?", "Total parameter count of {n}?", "How many parameters does {n} hold altogether?",
               "What is {n}'s total number of parameters?"],
        "zh": ["{n} 总共有多少参数？", "{n} 的总参数规模是多少？", "{n} 总参数量？", "{n} 一共有多少参数？",
               "请问 {n} 的总参数是多少？"],
        "en_held": ["In total, how many parameters are in {n}?"],
        "zh_held": ["{n} 全部参数加起来有多少？"],
    },
    "active": {
        "en": ["How many parameters does {n} use per token?", "How many active parameters does {n} have?",
               "How many parameters of {n} are active per token?", "Active parameters of {n}?",
               "How many of {n}'s parameters work on each token?", "What is the active parameter count of {n}?"],
        "zh": ["{n} 每个 token 用多少参数？", "{n} 的激活参数有多少？", "{n} 每个 token 激活多少参数？",
               "{n} 激活参数量？", "{n} 推理时每个 token 用到多少参数？"],
        "en_held": ["For each token, how many parameters of {n} are active?"],
        "zh_held": ["{n} 的活动参数是多少？"],
    },
    "context": {
        "en": ["What context length does {n} support?", "How long a context window does {n} have?",
               "How long a context does {n} support?", "Context length of {n}?", "What is the context window of {n}?",
               "How many tokens of context can {n} take?", "{n} max context?", "How much context does {n} handle?"],
        "zh": ["{n} 支持多长的上下文？", "{n} 的上下文窗口有多大？", "{n} 上下文长度？", "{n} 的上下文有多长？",
               "{n} 最多能读多少 token 的上下文？", "请问 {n} 的上下文窗口是多少？"],
        "en_held": ["Tell me the context length of {n}."],
        "zh_held": ["{n} 的上下文长度是多少？"],
    },
    "modalities": {
        "en": ["What kinds of input does {n} accept?", "Which modalities does {n} handle?",
               "What inputs can {n} take?", "Can {n} read images?", "What can {n} read: text, images or audio?",
               "Input types of {n}?"],
        "zh": ["{n} 能接受哪些输入？", "{n} 支持哪些模态？", "{n} 能读图像吗？", "{n} 的输入类型有哪些？",
               "{n} 能处理什么样的输入？"],
        "en_held": ["Which kinds of input can {n} read?"],
        "zh_held": ["{n} 可以接受什么输入？"],
    },
    "languages": {
        "en": ["Which languages does {n} support?", "Is {n} multilingual?", "What languages can {n} handle?",
               "Does {n} speak Chinese?", "Languages supported by {n}?", "How many languages does {n} support?"],
        "zh": ["{n} 支持哪些语言？", "{n} 是多语言模型吗？", "{n} 能用中文吗？", "{n} 支持几种语言？",
               "{n} 的语言支持情况如何？"],
        "en_held": ["What languages does {n} speak?"],
        "zh_held": ["{n} 能支持哪些语言？"],
    },
    "released": {
        "en": ["When was {n} released?", "In which month did {n} come out?", "Release date of {n}?",
               "When did {n} come out?", "When did Microsoft publish {n}?", "How old is {n}?"],
        "zh": ["{n} 是什么时候发布的？", "{n} 哪个月发布？", "{n} 的发布时间？", "微软什么时候推出了 {n}？",
               "{n} 是哪年哪月出的？"],
        "en_held": ["When did {n} get released?"],
        "zh_held": ["{n} 是哪个月发布的？"],
    },
    "successor": {
        "en": ["Which model replaces {n}?", "What is the successor of {n}?", "What should I use instead of {n}?",
               "What came after {n}?", "{n} successor?", "Which newer model took over from {n}?"],
        "zh": ["哪个模型取代了 {n}？", "{n} 的后继模型是什么？", "用什么代替 {n}？", "{n} 之后的新模型是哪个？",
               "{n} 下线后该换成哪个模型？"],
        "en_held": ["Which model is the successor to {n}?"],
        "zh_held": ["{n} 被哪个模型取代了？"],
    },
    "embedded": {
        "en": ["Which course model stands in for {n}?", "What is the embedded stand-in for {n}?",
               "Which tiny model plays {n} in this course?", "Offline, which model answers for {n}?",
               "What answers in place of {n} when I have no key?"],
        "zh": ["课程里哪个模型代替 {n}？", "{n} 的课程内置替身是哪个模型？", "没有密钥时谁代替 {n} 回答？",
               "离线时哪个小模型扮演 {n}？"],
        "en_held": ["In this course, which model stands in for {n} offline?"],
        "zh_held": ["这门课离线时用哪个模型代替 {n}？"],
    },
    "memory": {
        "en": ["How much memory do the weights of {n} need in {d}?", "How big are {n}'s weights at {d}?",
               "{n} weights in {d}: how many GB?", "How much RAM do {n}'s weights take in {d}?",
               "What is the weight memory of {n} in {d}?"],
        "zh": ["{n} 的权重用 {d} 要多少内存？", "用 {d} 存 {n} 的权重要多大？", "{n} 在 {d} 下权重占多少 GB？",
               "{n} 的权重以 {d} 保存需要多少显存？"],
        "en_held": ["How many GB do the {d} weights of {n} need?"],
        "zh_held": ["{n} 的 {d} 权重需要多少 GB？"],
    },
}


def _ask(attribute: str, lang: str, **names) -> list[str]:
    return [q.format(**names) for q in ASK[attribute][lang]]


def _asked(attribute: str, **names) -> dict:
    """The phrasings of one attribute as _fact arguments: en_q, zh_q, en_held, zh_held."""
    return {"en_q": _ask(attribute, "en", **names), "zh_q": _ask(attribute, "zh", **names),
            "en_held": tuple(_ask(attribute, "en_held", **names)), "zh_held": tuple(_ask(attribute, "zh_held", **names))}


def _model_facts(m: catalog.PhiModel) -> list[Fact]:
    n, k = m.name, m.key
    b, active = billions(m.params_b), billions(m.active_params_b)
    facts = [_fact(
        f"catalog-{k}-about", "phi_family", b, **_asked("about", n=n),
        en_a=f"{n} is a {b} model from Microsoft: {m.summary}",
        zh_a=f"{n} 是微软的 {b} 模型：{SUMMARY_ZH[k]}",
        en_alt=(f"{n} is Microsoft's {b} model. {m.summary}",),
        zh_alt=(f"{n} 是微软推出的 {b} 模型。{SUMMARY_ZH[k]}",))]
    if m.active_params_b == m.params_b:
        facts.append(_fact(
            f"catalog-{k}-params", "phi_family", b, **_asked("params", n=n),
            en_a=f"{n} has {b} parameters.", zh_a=f"{n} 有 {b} 参数。",
            en_alt=(f"It has {b} parameters.", f"{b} parameters."), zh_alt=(f"它有 {b} 参数。", f"{b} 参数。")))
    else:
        facts.append(_fact(
            f"catalog-{k}-params", "phi_family", b, **_asked("total", n=n),
            en_a=f"{n} has {b} parameters in total, {active} active per token.",
            zh_a=f"{n} 总共有 {b} 参数，每个 token 激活 {active}。",
            en_alt=(f"{b} in total, of which {active} work on each token.",),
            zh_alt=(f"总共 {b} 参数，其中每个 token 只用 {active}。",)))
        facts.append(_fact(
            f"catalog-{k}-active", "moe", active, **_asked("active", n=n),
            en_a=f"{n} uses {active} active parameters per token.",
            zh_a=f"{n} 每个 token 只激活 {active} 参数。",
            en_alt=(f"About {active} per token, out of {b} in total.", f"{active} of its parameters work on each token."),
            zh_alt=(f"每个 token 约用 {active}，总共 {b}。", f"每个 token 激活 {active} 参数。")))
    ctx_en, ctx_zh = " and ".join(m.context), " 和 ".join(m.context)
    facts.append(_fact(
        f"catalog-{k}-context", "phi_family", m.context[-1], **_asked("context", n=n),
        en_a=f"{n} has a context window of {ctx_en} tokens.",
        zh_a=f"{n} 的上下文窗口是 {ctx_zh} 个 token。",
        en_alt=(f"It supports a context of up to {m.context[-1]} tokens.", f"Up to {m.context[-1]} tokens."),
        zh_alt=(f"它最多支持 {m.context[-1]} 个 token 的上下文。", f"最多 {m.context[-1]} 个 token。")))
    modal_en = {"text": "text", "image": "images", "audio": "audio"}
    modal_zh = {"text": "文本", "image": "图像", "audio": "音频"}
    en = [modal_en[x] for x in m.modalities]
    zh = [modal_zh[x] for x in m.modalities]
    en_list = en[0] if len(en) == 1 else ", ".join(en[:-1]) + " and " + en[-1]
    key = ("text only", "只接受文本") if len(en) == 1 else (en[-1], zh[-1])
    facts.append(_fact(
        f"catalog-{k}-modalities", "phi_family", key, **_asked("modalities", n=n),
        en_a=f"{n} takes text only." if len(en) == 1 else f"{n} takes {en_list}.",
        zh_a=f"{n} 只接受文本。" if len(zh) == 1 else f"{n} 能处理{'、'.join(zh)}。"))
    if m.languages == "mainly English":
        lang = ("English", "英语"), f"{n} mainly supports English.", f"{n} 主要支持英语。"
    else:
        lang = "20+", f"{n} supports 20+ languages, Chinese among them.", f"{n} 支持 20+ 种语言，包括中文。"
    facts.append(_fact(f"catalog-{k}-languages", "phi_family", lang[0], **_asked("languages", n=n),
                       en_a=lang[1], zh_a=lang[2]))
    facts.append(_fact(
        f"catalog-{k}-released", "phi_family", m.released, **_asked("released", n=n),
        en_a=f"{n} was released in {m.released}.", zh_a=f"{n} 于 {m.released} 发布。",
        en_alt=(f"It came out in {m.released}.",), zh_alt=(f"它在 {m.released} 发布。",)))
    if m.successor:
        s = catalog.phi(m.successor).name
        facts.append(_fact(
            f"catalog-{k}-successor", "phi_family", s, **_asked("successor", n=n),
            en_a=f"{s} is the successor of {n}.", zh_a=f"{n} 的后继模型是 {s}。",
            en_alt=(f"Microsoft names {s} as its successor.",), zh_alt=(f"微软指定的后继模型是 {s}。",)))
    if m.embedded:
        facts.append(_fact(
            f"catalog-{k}-embedded", "course", m.embedded, **_asked("embedded", n=n),
            en_a=f"The course model {m.embedded} stands in for {n}.", zh_a=f"课程用 {m.embedded} 代替 {n}。"))
    for dtype, size in BYTES_PER_WEIGHT.items():
        gb = gigabytes(m.params_b, size)
        facts.append(_fact(
            f"catalog-{k}-memory-{dtype}", "memory", gb, **_asked("memory", n=n, d=dtype),
            en_a=f"{b} weights x {size:g} {'byte' if size == 1 else 'bytes'} is about {gb} in {dtype}.",
            zh_a=f"{b} 个权重 x {size:g} 字节，{dtype} 下约 {gb}。",
            en_alt=(f"About {gb} in {dtype}.",), zh_alt=(f"{dtype} 下约 {gb}。",)))
    return facts


def _route_facts(row: route_table.ModelId) -> Fact:
    n, r = catalog.phi(row.model).name, ROUTE_NAMES[row.route]
    # Chinese puts a space between Latin and Chinese text, so "ID" needs one and "标签" does not.
    noun_en, noun_zh = ("tag", "标签") if row.route == "ollama" else ("model id", "模型 ID ")
    if row.retired:
        newer = route_table.successor(row)
        en_a = f"On {r}, {n} was {row.id}, retired on {row.status.since}" + (f"; use {newer.id}." if newer else ".")
        zh_a = f"在 {r} 上 {n} 曾是 {row.id}，已于 {row.status.since} 下线" + (f"；请改用 {newer.id}。" if newer else "。")
    elif row.status.state == route_table.UNVERIFIED:
        en_a = f"On {r}, {n} is {row.id}, if the service still lists it."
        zh_a = f"在 {r} 上 {n} 的{noun_zh}是 {row.id}（以服务当前列出的为准）。"
    else:
        en_a = f"On {r}, {n} is {row.id}."
        zh_a = f"在 {r} 上 {n} 的{noun_zh}是 {row.id}。"
    return _fact(
        f"route-{row.route}-{row.model}", row.route, row.id,
        [f"What is the {noun_en} of {n} on {r}?", f"Which {noun_en} do I use for {n} on {r}?",
         f"{n} {noun_en} on {r}?", f"What do I pass as the model for {n} on {r}?",
         f"How is {n} named on {r}?"], en_a,
        [f"{n} 在 {r} 上的{noun_zh}是什么？", f"在 {r} 上调用 {n} 用哪个{noun_zh.strip()}？",
         f"{r} 上 {n} 叫什么？", f"在 {r} 上 {n} 的 model 参数填什么？"], zh_a,
        en_held=(f"On {r}, what {noun_en} does {n} use?",),
        zh_held=(f"{r} 上 {n} 用的{noun_zh.strip()}是什么？",))


def _benchmark_facts() -> list[Fact]:
    facts = []
    for bench, scores in catalog.BENCHMARKS.items():
        for key, score in scores.items():
            n = catalog.phi(key).name
            value = f"{score:.2f}" if bench == "MT-bench" else f"{score:.1f}"
            detail = {"MMLU": "MMLU (5-shot)", "MT-bench": "MT-bench (out of 10)"}.get(bench, bench)
            facts.append(_fact(
                f"bench-{key}-{bench.lower().replace(' ', '-')}", "benchmarks", value,
                [f"What does {n} score on {bench}?", f"What is the {bench} score of {n}?",
                 f"{n} {bench} score?", f"How well does {n} do on {bench}?", f"{bench} result of {n}?"],
                f"{n} scores {value} on {detail}.",
                [f"{n} 的 {bench} 分数是多少？", f"{n} 在 {bench} 上得多少分？", f"{n} 的 {bench} 成绩？",
                 f"{bench} 上 {n} 考了多少分？"],
                f"{n} 在 {detail} 上得 {value} 分。",
                en_held=(f"What is {n}'s {bench} score?",),
                zh_held=(f"{n} 在 {bench} 上的分数是多少？",)))
    return facts


def _reference_facts() -> list[Fact]:
    ref = catalog.REFERENCE_MODELS
    gpt35 = f"{ref['GPT-3.5-Turbo']['MMLU']:.1f}"
    mixtral = ref["Mixtral-8x7B"]
    mistral = billions(ref["Mistral-7B"]["params_b"])
    gpt4 = f"{ref['GPT-4']['unconfirmed_estimate_b'] / 1000:g}T"
    return [
        _fact("ref-gpt35-mmlu", "benchmarks", gpt35,
              ["What does GPT-3.5-Turbo score on MMLU?", "What MMLU score is Phi-3 compared against for GPT-3.5?"],
              f"GPT-3.5-Turbo scores {gpt35} on MMLU in the Phi-3 report.",
              ["GPT-3.5-Turbo 的 MMLU 分数是多少？", "Phi-3 报告里 GPT-3.5 的 MMLU 是多少？"],
              f"Phi-3 报告中 GPT-3.5-Turbo 的 MMLU 是 {gpt35} 分。"),
        _fact("ref-mixtral-params", "slm_vs_llm", billions(mixtral["params_b"]),
              ["How many parameters does Mixtral-8x7B have?", "What is the total size of Mixtral-8x7B?"],
              f"Mixtral-8x7B has {billions(mixtral['params_b'])} parameters, {billions(mixtral['active_params_b'])} active per token.",
              ["Mixtral-8x7B 有多少参数？", "Mixtral-8x7B 的总参数是多少？"],
              f"Mixtral-8x7B 有 {billions(mixtral['params_b'])} 参数，每个 token 激活 {billions(mixtral['active_params_b'])}。"),
        _fact("ref-mixtral-mmlu", "benchmarks", f"{mixtral['MMLU']:.1f}",
              ["What does Mixtral-8x7B score on MMLU?", "What is the MMLU score of Mixtral-8x7B?"],
              f"Mixtral-8x7B scores {mixtral['MMLU']:.1f} on MMLU in the Phi-3 report.",
              ["Mixtral-8x7B 的 MMLU 分数是多少？", "Mixtral-8x7B 在 MMLU 上得多少分？"],
              f"Phi-3 报告中 Mixtral-8x7B 的 MMLU 是 {mixtral['MMLU']:.1f} 分。"),
        _fact("ref-mistral-params", "slm_vs_llm", mistral,
              ["How many parameters does Mistral 7B have?", "What is the exact size of Mistral-7B?"],
              f"Mistral 7B has {mistral} parameters.",
              ["Mistral 7B 有多少参数？", "Mistral-7B 的准确参数量是多少？"],
              f"Mistral 7B 有 {mistral} 参数。"),
        _fact("ref-gpt4-params", "slm_vs_llm", gpt4,
              ["How many parameters does GPT-4 have?", "Is 1.76 trillion the official size of GPT-4?"],
              f"OpenAI never published it; {gpt4} is an unconfirmed outside estimate.",
              ["GPT-4 有多少参数？", "1.76 万亿是 GPT-4 的官方参数量吗？"],
              f"OpenAI 从未公布；{gpt4} 只是未经证实的外部估计。"),
    ]


def catalog_facts() -> list[Fact]:
    """Every fact the catalog can state: sizes, context, routes, memory, benchmarks."""
    facts = []
    for m in catalog.FAMILY.values():
        facts.extend(_model_facts(m))
    facts.extend(_route_facts(row) for row in route_table.MODEL_IDS)
    facts.extend(_benchmark_facts())
    facts.extend(_reference_facts())
    assert set(EMBEDDED.values()) <= set(catalog.FAMILY), "embedded stand-ins must be catalog models"
    return facts
