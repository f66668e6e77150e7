"""phi_course.local.hub: real Phi from the Hugging Face cache, or the embedded stand-in.

The Hub is unreachable here, so the real-model paths run against real files in
a temporary HF_HOME laid out exactly as huggingface_hub lays out its cache,
and against a Hub stand-in on 127.0.0.1 that serves an embedded model's files
under the real repo id. huggingface_hub reads HF_HOME and HF_ENDPOINT when it
is imported, so each case runs the real loading code in a fresh interpreter.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from phi_course import catalog, route_table
from phi_course.local import embedded
from phi_course.local.hub import format_size, missing_causal_lm_files
from tests.hub_server import (
    STAND_IN,
    checkpoint_files,
    fake_hf_snapshot,
    hub_standin,
    model_requests,
    run_fresh,
)

ROOT = Path(__file__).resolve().parents[1]
REPO = route_table.model_id("huggingface", "phi-3.5-mini").id  # microsoft/Phi-3.5-mini-instruct


LOAD = """
import json, torch
from phi_course.local.hub import load_causal_lm
try:
    r = load_causal_lm("phi-3.5-mini")
except Exception as error:
    print(json.dumps({"error": type(error).__name__, "message": str(error)}))
    raise SystemExit(0)
ids = r.tokenizer.apply_chat_template([{"role": "user", "content": "What is Phi?"}],
                                      add_generation_prompt=True, return_tensors="pt", return_dict=True)
out = r.model.generate(**ids, do_sample=False, max_new_tokens=8)
print(json.dumps({"model_id": r.model_id, "is_real": r.is_real, "notice": r.notice,
                  "class": type(r.model).__name__, "dtype": str(r.model.dtype),
                  "attn": r.model.config._attn_implementation,
                  "source": str(getattr(r.model, "name_or_path", "")),
                  "new_tokens": out[0, ids["input_ids"].shape[1]:].tolist()}))
"""


# --------------------------------------------------------------------------- decision logic


def test_empty_cache_uses_embedded_stand_in_without_touching_the_hub(tmp_path):
    with hub_standin({}) as (endpoint, seen):
        result, output = run_fresh(LOAD, hf_home=tmp_path, endpoint=endpoint)
    assert result["is_real"] is False and result["model_id"] == STAND_IN
    assert "PHI_COURSE_REAL_MODELS=1" in result["notice"] and REPO in result["notice"]
    assert result["notice"] in output  # the one-line notice is printed
    assert len(result["new_tokens"]) >= 1
    assert model_requests(seen) == []


def test_complete_cache_loads_the_real_repo_natively_and_offline(tmp_path):
    fake_hf_snapshot(tmp_path, REPO, checkpoint_files())
    with hub_standin({}) as (endpoint, seen):
        result, _ = run_fresh(LOAD, hf_home=tmp_path, endpoint=endpoint)
    assert "error" not in result, result
    assert result["is_real"] is True and result["model_id"] == REPO
    assert result["class"] == "Phi3ForCausalLM" and result["attn"] == "sdpa"
    config = json.loads((embedded.model_path(STAND_IN) / "config.json").read_text())
    assert result["dtype"] == f"torch.{config.get('dtype') or config['torch_dtype']}"  # dtype="auto" follows the checkpoint
    assert result["source"] == REPO
    assert model_requests(seen) == []  # fully cached: not one request to the Hub


def test_same_weights_give_same_greedy_tokens_real_path_or_stand_in(tmp_path):
    fake_hf_snapshot(tmp_path / "cached", REPO, checkpoint_files())
    with hub_standin({}) as (endpoint, _):
        real, _ = run_fresh(LOAD, hf_home=tmp_path / "cached", endpoint=endpoint)
        stand_in, _ = run_fresh(LOAD, hf_home=tmp_path / "empty", endpoint=endpoint)
    assert (real["is_real"], stand_in["is_real"]) == (True, False)
    assert real["new_tokens"] == stand_in["new_tokens"]


def test_cache_without_weights_falls_back_to_the_stand_in(tmp_path):
    files = {k: v for k, v in checkpoint_files().items() if not k.endswith(".safetensors")}
    snapshot = fake_hf_snapshot(tmp_path, REPO, files)
    assert missing_causal_lm_files(snapshot) == ["model.safetensors"]
    with hub_standin({}) as (endpoint, seen):
        result, _ = run_fresh(LOAD, hf_home=tmp_path, endpoint=endpoint)
    assert result["is_real"] is False
    assert model_requests(seen) == []


def test_opt_in_prints_the_size_then_downloads_without_remote_code(tmp_path):
    files = checkpoint_files()
    with hub_standin({REPO: files}) as (endpoint, seen):
        result, output = run_fresh(LOAD, hf_home=tmp_path, endpoint=endpoint, real=True)
        first_seen = list(seen)
        seen.clear()
        again, _ = run_fresh(LOAD, hf_home=tmp_path, endpoint=endpoint, real=True)
    assert result["is_real"] is True and result["model_id"] == REPO
    wanted = {k: v for k, v in files.items() if not k.endswith(".py")}
    size_line = f"Downloading {REPO}: {format_size(sum(map(len, wanted.values())))} to fetch"
    assert size_line in output
    assert output.index(size_line) < output.index("Using the real")
    fetched = {path.rsplit("/", 1)[-1] for method, path in first_seen if method == "GET" and "/resolve/" in path}
    assert fetched == set(wanted)  # every checkpoint file, and never the *.py remote code
    assert again["is_real"] is True and model_requests(seen) == []  # the second run needs nothing from the Hub


def test_opt_in_with_the_hub_unreachable_says_what_to_do(tmp_path):
    with hub_standin({}) as (endpoint, seen):  # knows no repo: every call is a 404
        result, _ = run_fresh(LOAD, hf_home=tmp_path, endpoint=endpoint, real=True)
    assert result["error"] == "ConnectionError"
    assert REPO in result["message"] and "unset PHI_COURSE_REAL_MODELS" in result["message"]
    assert not any("/resolve/" in path for _, path in seen)


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="a GPU may hold what RAM cannot")
def test_weights_larger_than_ram_are_refused_before_loading(tmp_path):
    snapshot = fake_hf_snapshot(tmp_path, REPO, checkpoint_files())
    # A sparse file: a terabyte by its size, nothing on disk. Loading it would crash the kernel.
    target = (snapshot / "model.safetensors").resolve()
    target.unlink()
    with open(target, "wb") as f:
        f.truncate(10**12)
    with hub_standin({}) as (endpoint, _):
        result, _ = run_fresh(LOAD, hf_home=tmp_path, endpoint=endpoint)
    assert result["error"] == "MemoryError"
    assert format_size(10**12) in result["message"] and "RAM" in result["message"]


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="a GPU may hold what RAM cannot")
def test_opt_in_refuses_weights_too_big_for_ram_before_downloading(tmp_path):
    moe_repo = route_table.model_id("huggingface", "phi-3.5-moe").id
    files = checkpoint_files(catalog.phi("phi-3.5-moe").embedded)
    code = LOAD.replace('load_causal_lm("phi-3.5-mini")', 'load_causal_lm("phi-3.5-moe")')
    with hub_standin({moe_repo: files}, claimed_sizes={"model.safetensors": 10**13}) as (endpoint, seen):
        result, _ = run_fresh(code, hf_home=tmp_path, endpoint=endpoint, real=True)
    assert result["error"] == "MemoryError" and format_size(10**13) in result["message"]
    assert not any(method == "GET" and "/resolve/" in path for method, path in seen)


# --------------------------------------------------------------------------- small pieces


def test_missing_files_follow_the_safetensors_index(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "tokenizer_config.json").write_text("{}")
    (tmp_path / "tokenizer.model").write_bytes(b"x")
    index = {"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    (tmp_path / "model-00001-of-00002.safetensors").write_bytes(b"x")
    assert missing_causal_lm_files(tmp_path) == ["model-00002-of-00002.safetensors"]
    (tmp_path / "model-00002-of-00002.safetensors").write_bytes(b"x")
    assert missing_causal_lm_files(tmp_path) == []


def test_opt_in_switch_reads_the_environment(monkeypatch):
    from phi_course import settings

    monkeypatch.setenv("PHI_COURSE_NO_DOTENV", "1")
    settings.reload()
    monkeypatch.delenv("PHI_COURSE_REAL_MODELS", raising=False)
    assert settings.real_models() is False
    monkeypatch.setenv("PHI_COURSE_REAL_MODELS", "1")
    assert settings.real_models() is True
    monkeypatch.setenv("PHI_COURSE_REAL_MODELS", "0")
    assert settings.real_models() is False


def test_format_size():
    assert format_size(7_600_000_000) == "7.6 GB"
    assert format_size(912_600) == "912.6 KB"
    assert format_size(12) == "12 B"
