"""Solutions to the exercises of lessons/13_make_it_yours.ipynb."""

import json
import re
from collections.abc import Sequence

from phi_course.adapt import evaluate, retrieval, structured, tools
from phi_course.local import embedded, generation

MODELS = ("tiny-phi3-mini", "tiny-phi35-mini")


def my_questions() -> list[evaluate.Question]:
    """Level 1: five questions about what the course taught, with the answers expected."""
    return evaluate.questions_from({
        "How many parameters does Phi-3-mini have?": "3.8B",
        "How many experts does Phi-3.5-MoE have in each layer?": "16",
        "Which port does Ollama listen on?": "11434",
        "How many languages does Phi-3.5-mini support?": "20",
        "Phi-3-mini 有多少参数？": "3.8B",
    })


def answerer(name: str):
    """question -> answer of one embedded model, greedy."""
    model, tokenizer = embedded.load(name)
    return lambda q: generation.chat(model, tokenizer, [{"role": "user", "content": q}], max_new_tokens=40).text


def winner(questions: Sequence[evaluate.Question], models: Sequence[str] = MODELS) -> tuple[str, dict[str, int]]:
    """Level 1: the model with the most answers containing the expected one (the first on a tie), and every count."""
    counts = {name: sum(r.contains for r in evaluate.score(name, answerer(name), questions)) for name in models}
    return max(counts, key=counts.get), counts


_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_PY_WORDS = {"True": "true", "False": "false", "None": "null"}


def repair(text: str) -> str:
    """Fix three small-model JSON faults: single quotes, trailing commas, Python's True/False/None."""
    text = _TRAILING_COMMA.sub(r"\1", text)
    text = re.sub(r"'([^'\"]*)'", r'"\1"', text)  # 'x' -> "x" when the string holds no quote of either kind
    return re.sub(r"\b(True|False|None)\b", lambda m: _PY_WORDS[m.group(1)], text)


def lenient_parse(text: str, schema):
    """Level 2: structured.parse, then once more on the repaired text; (value, None) or (None, error)."""
    value, error = structured.parse(text, schema)
    if error is None:
        return value, None
    value, second = structured.parse(repair(text), schema)
    return (value, None) if second is None else (None, f"{error} (and after repair: {second})")


def recall_at_k(index: retrieval.Index, pairs: Sequence[tuple[str, str]], k: int = 1) -> float:
    """Level 3: the share of questions whose right passage (the one containing `words`) is in the top k hits."""
    if not pairs:
        raise ValueError("Give at least one (question, words of the right passage) pair.")
    found = 0
    for question, words in pairs:
        hits = index.search(question, k=k)
        found += any(words.lower() in hit.passage.text.lower() for hit in hits)
    return found / len(pairs)


def tool_trace(client, model: str, question: str, max_rounds: int = 3) -> tuple[list[tuple[str, dict]], str | None]:
    """Level 3: part 2's loop with a record: every call made, in order, as (tool name, parsed arguments),
    and the final answer, or None when the model was still calling tools after `max_rounds` rounds."""
    messages = [{"role": "user", "content": question}]
    made = []
    for _ in range(max_rounds):
        reply = client.chat.completions.create(model=model, messages=messages, tools=tools.TOOLS,
                                               max_tokens=80, temperature=0)
        message = reply.choices[0].message
        if not message.tool_calls:
            return made, message.content
        messages.append(message)
        for call in message.tool_calls:
            made.append((call.function.name, json.loads(call.function.arguments)))
            messages.append({"role": "tool", "tool_call_id": call.id,
                             "content": tools.run_tool_call(call.function.name, call.function.arguments)})
    return made, None
