"""Load a Phi model locally with Hugging Face Transformers, or its embedded stand-in.

Introduced in lessons/06_transformers.ipynb.

The real Phi-3.5-mini is about 7.6 GB, so it is used only when it is already
complete in the local Hugging Face cache, or when the learner opts in with
`PHI_COURSE_REAL_MODELS=1` (then the download size is printed before anything
is fetched). Otherwise the course's embedded model of the same architecture
stands in, and a one-line notice says so. Nothing here ever passes
`trust_remote_code`: Phi-3, Phi-3.5 and Phi-3.5-MoE are native transformers
classes, and the repos' remote code breaks on transformers 5.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phi_course import catalog, route_table, settings
from phi_course.i18n import _
from phi_course.local import embedded

__all__ = ["CAUSAL_LM_PATTERNS", "LoadedModel", "cached_snapshot", "download_plan", "download_snapshot",
           "format_size", "load_causal_lm", "load_real_causal_lm", "missing_causal_lm_files",
           "refuse_if_too_big_for_ram", "weights_bytes"]

# What a transformers checkpoint needs; the repos' *.py remote code is never fetched.
CAUSAL_LM_PATTERNS = ["*.json", "*.safetensors", "tokenizer.model", "*.jinja"]


def format_size(n_bytes: int) -> str:
    """A byte count as people read it: '7.6 GB', '380 MB'."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes} B"


def cached_snapshot(repo_id: str, allow_patterns: list[str] | None = None) -> Path | None:
    """The local snapshot folder of `repo_id` in the Hugging Face cache, or None.

    Never touches the network. The caller still checks that the files it needs
    are there: the Hub only knows a snapshot is partial when it kept the listing.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        folder = snapshot_download(repo_id, allow_patterns=allow_patterns, local_files_only=True)
    except (LocalEntryNotFoundError, OSError):
        return None
    return Path(folder)


def download_plan(repo_id: str, allow_patterns: list[str]) -> tuple[int, int]:
    """(bytes still to fetch, bytes in all) for a download, asked of the Hub without fetching."""
    from huggingface_hub import snapshot_download

    try:
        plan = snapshot_download(repo_id, allow_patterns=allow_patterns, dry_run=True)
    except Exception as error:
        raise ConnectionError(
            f"{settings.REAL_MODELS_VAR}=1 asked for the real {repo_id}, but the Hugging Face Hub could not "
            f"list it ({type(error).__name__}: {error}). Check your internet connection (or "
            f"HF_TOKEN for a gated repo), or unset {settings.REAL_MODELS_VAR} to use the embedded stand-in."
        ) from error
    return sum(f.file_size or 0 for f in plan if f.will_download), sum(f.file_size or 0 for f in plan)


def download_snapshot(repo_id: str, allow_patterns: list[str],
                      plan: tuple[int, int] | None = None) -> Path:
    """Download `repo_id` (only files matching `allow_patterns`) after printing its size.

    Used only after the learner opted in with PHI_COURSE_REAL_MODELS=1. The Hub
    shows a progress bar; an interrupted download resumes on the next call.
    """
    from huggingface_hub import snapshot_download

    to_fetch, total = plan or download_plan(repo_id, allow_patterns)
    print(_("Downloading {repo}: {size} to fetch ({total} in all) into the Hugging Face cache.").format(
        repo=repo_id, size=format_size(to_fetch), total=format_size(total)))
    return Path(snapshot_download(repo_id, allow_patterns=allow_patterns))


def missing_causal_lm_files(folder: Path) -> list[str]:
    """What a transformers checkpoint folder lacks to load: [] when it is complete."""
    folder = Path(folder)
    missing = [name for name in ("config.json", "tokenizer_config.json") if not (folder / name).is_file()]
    if not any((folder / name).is_file() for name in ("tokenizer.json", "tokenizer.model")):
        missing.append("tokenizer.json or tokenizer.model")
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        import json

        shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        missing += [s for s in shards if not (folder / s).is_file()]
    elif not (folder / "model.safetensors").is_file():
        missing.append("model.safetensors")
    return missing


def weights_bytes(folder: Path) -> int:
    """Bytes of safetensors weights in a checkpoint folder (symlinks followed)."""
    return sum(p.stat().st_size for p in Path(folder).glob("*.safetensors"))


def _total_memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not available on Windows
        return None


def _gpu_placement() -> dict[str, Any]:
    """device_map="auto" only when accelerate is installed and a GPU is present."""
    import torch

    if torch.cuda.is_available() and importlib.util.find_spec("accelerate") is not None:
        return {"device_map": "auto"}
    return {}


@dataclass
class LoadedModel:
    """A model and tokenizer ready for `generate`, and where they came from."""

    model: Any
    tokenizer: Any
    model_id: str  # the Hugging Face id, or the embedded model's name
    is_real: bool
    notice: str


def refuse_if_too_big_for_ram(repo_id: str, weight_bytes: int) -> None:
    """Raise MemoryError when weights cannot fit in RAM and no GPU is there to hold them."""
    ram = _total_memory_bytes()
    if not _gpu_placement() and ram and weight_bytes > 0.8 * ram:
        raise MemoryError(
            f"{repo_id} has {format_size(weight_bytes)} of weights but this machine has "
            f"{format_size(ram)} of RAM and no GPU, so loading it would crash the kernel. "
            "Use a smaller Phi model or a GPU machine, or unset "
            f"{settings.REAL_MODELS_VAR} to use the embedded stand-in."
        )


def load_real_causal_lm(repo_id: str, snapshot: Path):
    """Load a Phi checkpoint from the Hugging Face cache with native transformers classes."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    refuse_if_too_big_for_ram(repo_id, weights_bytes(snapshot))
    placement = _gpu_placement()
    # From the snapshot folder, local files only: they were checked (or just downloaded), so no
    # Hub round trips, not even the look for an adapter that transformers makes when peft is there.
    tokenizer = AutoTokenizer.from_pretrained(snapshot, local_files_only=True, trust_remote_code=False)
    model = AutoModelForCausalLM.from_pretrained(
        snapshot,
        dtype="auto",
        attn_implementation="sdpa",  # flash-attn is often missing; sdpa ships with torch
        trust_remote_code=False,
        local_files_only=True,
        **placement,
    )
    model.eval()
    model.name_or_path = model.config._name_or_path = repo_id  # say where it is from, not the cache path
    tokenizer.name_or_path = repo_id
    return model, tokenizer


def load_causal_lm(model: str = "phi-3.5-mini", *, verbose: bool = True) -> LoadedModel:
    """The real Phi `model` if it is in the local Hugging Face cache (or opted in), else its stand-in.

    `model` is a course key such as "phi-3.5-mini" (see catalog.FAMILY).
    Introduced in lessons/06_transformers.ipynb.
    """
    repo_id = route_table.model_id("huggingface", model).id
    snapshot = cached_snapshot(repo_id, CAUSAL_LM_PATTERNS)
    complete = snapshot is not None and not missing_causal_lm_files(snapshot)

    if complete or settings.real_models():
        if not complete:
            plan = download_plan(repo_id, CAUSAL_LM_PATTERNS)
            refuse_if_too_big_for_ram(repo_id, plan[1])  # before fetching, not after 80 GB
            snapshot = download_snapshot(repo_id, CAUSAL_LM_PATTERNS, plan)
            missing = missing_causal_lm_files(snapshot)
            if missing:
                raise FileNotFoundError(
                    _("The download of {repo} finished without {files}. Run the cell again to resume the "
                      "download.").format(repo=repo_id, files=", ".join(missing)))
        hf_model, tokenizer = load_real_causal_lm(repo_id, snapshot)
        notice = _("Using the real {repo} from the Hugging Face cache.").format(repo=repo_id)
        if verbose:
            print(notice)
        return LoadedModel(hf_model, tokenizer, repo_id, True, notice)

    stand_in = catalog.phi(model).embedded
    if stand_in is None:
        raise LookupError(
            _("{repo} is not in your Hugging Face cache and the course has no embedded model to stand in for "
              "{model!r}. Set {var}=1 to download it.").format(repo=repo_id, model=model,
                                                              var=settings.REAL_MODELS_VAR))
    hf_model, tokenizer = embedded.load(stand_in)
    notice = _("Using the embedded stand-in {model!r} (same architecture, a few MB) because {repo} is not in "
               "your Hugging Face cache. Set {var}=1 to download the real model.").format(
        model=stand_in, repo=repo_id, var=settings.REAL_MODELS_VAR)
    if verbose:
        print(notice)
    return LoadedModel(hf_model, tokenizer, stand_in, False, notice)
