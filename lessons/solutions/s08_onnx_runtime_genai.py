"""Solutions to the exercises of lessons/08_onnx_runtime_genai.ipynb."""

from __future__ import annotations

import json
from pathlib import Path

import onnxruntime_genai as og

from phi_course.local import embedded, onnx_models
from phi_course.local.onnx_models import onnx_model_path

EMBEDDED_MODEL = "tiny-phi35-mini"


def _run(folder: Path, question: str, max_new_tokens: int, **search) -> tuple[list[int], str]:
    """The lesson's loop: (new token ids, decoded text) for one chat question."""
    model = og.Model(str(folder))
    tokenizer = og.Tokenizer(model)
    prompt = tokenizer.apply_chat_template(json.dumps([{"role": "user", "content": question}]),
                                           add_generation_prompt=True)
    tokens = tokenizer.encode(prompt)
    params = og.GeneratorParams(model)
    params.set_search_options(max_length=len(tokens) + max_new_tokens, **search)
    generator = og.Generator(model, params)
    generator.append_tokens(tokens)
    stream, ids, pieces = tokenizer.create_stream(), [], []
    while not generator.is_done():  # max_length above bounds this loop
        generator.generate_next_token()
        token = int(generator.get_next_tokens()[0])
        ids.append(token)
        pieces.append(stream.decode(token))
    return ids, "".join(pieces)


def answer(question: str = "What context length does Phi-3.5-mini support?", max_new_tokens: int = 60) -> str:
    """Level 1: a greedy answer from the Phi-3.5-mini ONNX build (or its stand-in)."""
    folder = onnx_model_path("phi-3.5-mini", verbose=False).path
    return _run(folder, question, max_new_tokens, do_sample=False)[1]


def sample(question: str, seed: int, temperature: float = 1.5, max_new_tokens: int = 40) -> str:
    """Level 2: one sampled answer; the same seed gives the same answer."""
    folder = onnx_model_path("phi-3.5-mini", verbose=False).path
    return _run(folder, question, max_new_tokens, do_sample=True, temperature=temperature,
                top_k=50, top_p=1.0, random_seed=seed)[1]


def transformers_greedy_ids(question: str, n: int) -> list[int]:
    """The first `n` new token ids Transformers picks greedily on the embedded model."""
    model, tokenizer = embedded.load(EMBEDDED_MODEL)
    inputs = tokenizer.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True,
                                           return_tensors="pt", return_dict=True)
    out = model.generate(**inputs, max_new_tokens=n, do_sample=False)
    return out[0, inputs["input_ids"].shape[1]:].tolist()


def _agreeing_prefix(a: list[int], b: list[int]) -> int:
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count


def greedy_agreement(question: str = "How many parameters does Phi-3-mini have?", n: int = 16) -> dict:
    """Level 3: how many leading greedy tokens ONNX fp32 and int4 share with Transformers."""
    reference = transformers_greedy_ids(question, n)
    result = {"transformers": reference}
    for precision in ("fp32", "int4"):
        ids = _run(onnx_models.build_onnx(EMBEDDED_MODEL, precision, verbose=False), question, n,
                   do_sample=False)[0]
        result[precision] = ids
        result[f"{precision} agrees"] = _agreeing_prefix(reference, ids)
    return result
