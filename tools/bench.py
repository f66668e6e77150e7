"""`make bench`: how fast the local engines are on this machine, side by side.

For one embedded model it measures time to first token and decoding speed
(tokens/s after the first token) in transformers in-process, through the
stand-in over HTTP (streaming, the real OpenAI SDK), and in ONNX Runtime GenAI
(int4 and fp32 builds), plus the stand-in's start-up time. Engines take turns
in every round, so a noisy neighbour slows them all alike; medians are shown.

    python tools/bench.py [--model tiny-phi35-mini] [--rounds 5]

A maintainer's tool, so it lives beside the project rather than in the package learners import.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Iterator

from phi_course.local import embedded, generation, onnx_models
from phi_course.standin import launcher
from phi_course.tables import Table

PROMPTS = [
    "What is Phi-3.5-MoE?",
    "How do I run Phi-3.5-mini with Ollama?",
    "What is ONNX Runtime GenAI?",
]


def time_stream(pieces: Iterator[str], count_tokens: Callable[[str], int]) -> dict:
    """Time a stream of text pieces: first-piece latency, total time, tokens/s after the first."""
    started = time.perf_counter()
    first = None
    text = []
    for piece in pieces:
        if first is None and piece:
            first = time.perf_counter() - started
        text.append(piece)
    total = time.perf_counter() - started
    tokens = count_tokens("".join(text))
    first = first if first is not None else total
    rate = (tokens - 1) / (total - first) if tokens > 1 and total > first else 0.0
    return {"ttft_s": first, "total_s": total, "tokens": tokens, "tokens_per_s": rate}


def _openai_pieces(client, model: str, prompt: str, max_tokens: int) -> Iterator[str]:
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens,
        temperature=0, stream=True)
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            yield chunk.choices[0].delta.content


def run(model_name: str = embedded.DEFAULT_MODEL, rounds: int = 5, max_new_tokens: int = 64) -> dict:
    from openai import OpenAI

    model, tokenizer = embedded.load(model_name)

    def count(text: str) -> int:
        # +1: the end-of-turn token every engine also produces but does not show
        return len(tokenizer.encode(text, add_special_tokens=False)) + 1

    startups = []
    for _ in range(2):
        server = launcher.start()
        startups.append(server.startup_seconds)
        server.stop()
    server = launcher.ensure_running()
    client = OpenAI(base_url=server.base_url, api_key="bench", max_retries=0)

    int4 = onnx_models.build_onnx(model_name, "int4")
    fp32 = onnx_models.build_onnx(model_name, "fp32")
    import onnxruntime_genai as og

    og_int4, og_fp32 = og.Model(str(int4)), og.Model(str(fp32))

    engines: dict[str, Callable[[str], Iterator[str]]] = {
        "transformers (in-process)": lambda p: generation.chat_stream(
            model, tokenizer, [{"role": "user", "content": p}], max_new_tokens=max_new_tokens),
        "stand-in over HTTP (streaming)": lambda p: _openai_pieces(client, model_name, p, max_new_tokens),
        "ONNX Runtime GenAI int4": lambda p: onnx_models.stream_generate(
            og_int4, [{"role": "user", "content": p}], max_new_tokens),
        "ONNX Runtime GenAI fp32": lambda p: onnx_models.stream_generate(
            og_fp32, [{"role": "user", "content": p}], max_new_tokens),
    }
    for engine in engines.values():  # warm-up: first calls pay for lazy initialisation
        for _ in engine(PROMPTS[0]):
            pass
    samples: dict[str, list[dict]] = {name: [] for name in engines}
    for _ in range(rounds):
        for prompt in PROMPTS:
            for name, engine in engines.items():
                samples[name].append(time_stream(engine(prompt), count))

    results = {"model": model_name, "rounds": rounds, "prompts": len(PROMPTS),
               "standin_startup_s": statistics.median(startups), "engines": {}}
    for name, runs in samples.items():
        tokens = sum(r["tokens"] for r in runs)
        decode_time = sum(r["total_s"] - r["ttft_s"] for r in runs)
        results["engines"][name] = {
            "ttft_ms": 1000 * statistics.median(r["ttft_s"] for r in runs),
            "tokens_per_s": sum(r["tokens"] - 1 for r in runs) / decode_time if decode_time else 0.0,
            "tokens": tokens,
        }
    eng = results["engines"]
    base = eng["transformers (in-process)"]["tokens_per_s"]
    results["http_overhead_pct"] = 100 * (1 - eng["stand-in over HTTP (streaming)"]["tokens_per_s"] / base)
    results["onnx_int4_vs_transformers"] = eng["ONNX Runtime GenAI int4"]["tokens_per_s"] / base
    results["onnx_fp32_vs_transformers"] = eng["ONNX Runtime GenAI fp32"]["tokens_per_s"] / base
    return results


def table(results: dict) -> Table:
    rows = [{"engine": name, "time to first token (ms)": round(r["ttft_ms"], 1),
             "tokens/s": round(r["tokens_per_s"], 1), "tokens timed": r["tokens"]}
            for name, r in results["engines"].items()]
    return Table(rows, title=f"{results['model']}: {results['rounds']} rounds x {results['prompts']} prompts")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=embedded.DEFAULT_MODEL, choices=[
        n for n in embedded.EMBEDDED if n != "tiny-phi35-moe"])  # the MoE has no CPU ONNX build
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args(argv)
    results = run(args.model, args.rounds)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(table(results))
    print(f"\nstand-in start-up (to healthy): {results['standin_startup_s']:.2f} s")
    print(f"HTTP streaming overhead vs in-process: {results['http_overhead_pct']:.1f}% of tokens/s")
    print(f"ONNX int4 / transformers tokens/s: {results['onnx_int4_vs_transformers']:.2f}x; "
          f"fp32: {results['onnx_fp32_vs_transformers']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
