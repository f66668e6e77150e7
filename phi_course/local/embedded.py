"""The course-sized models shipped inside `phi_course`.

Introduced in lessons/00_setup.ipynb.

They are real Hugging Face models (Phi3ForCausalLM, PhimoeForCausalLM) with a
Phi-3 chat template, trained by `make models` on the course's own data. They
stand in for Phi when there is no key, GPU or internet; lessons say so.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from phi_course.i18n import N_, _

__all__ = ["DEFAULT_MODEL", "EMBEDDED", "MODELS_DIR_VAR", "TOOLS_ADAPTER", "adapter_in", "describe", "load", "load_with_tools",
           "merge_tools_adapter", "model_path", "models_dir", "on_disk", "stands_in_for", "tools_adapter"]

MODELS_DIR_VAR = "PHI_COURSE_MODELS_DIR"  # use models from another folder (training, tests)

# name -> the Phi model it stands in for (a key of catalog.FAMILY)
EMBEDDED: dict[str, str] = {
    "tiny-phi3-mini": "phi-3-mini",
    "tiny-phi35-mini": "phi-3.5-mini",
    "tiny-phi35-moe": "phi-3.5-moe",
}
DEFAULT_MODEL = "tiny-phi35-mini"
# A model's tool-calling LoRA adapter lives in this sub-folder of its own (phi_course/training/tool_adapter.py).
TOOLS_ADAPTER = "tools"


def models_dir() -> Path:
    """The folder holding one sub-folder per embedded model."""
    override = os.environ.get(MODELS_DIR_VAR)
    return Path(override) if override else Path(__file__).parents[1] / "models"  # phi_course/models


def on_disk(name: str) -> bool:
    """True when the files of the embedded model (text or vision) called `name` are present."""
    return bool(name) and (models_dir() / name / "config.json").exists()


def model_path(name: str = DEFAULT_MODEL) -> Path:
    """The folder of one embedded model, ready for `from_pretrained`."""
    if name not in EMBEDDED:
        raise KeyError(f"No embedded model called {name!r}. Known: {', '.join(EMBEDDED)}")
    path = models_dir() / name
    if not on_disk(name):
        raise FileNotFoundError(
            f"The embedded model {name!r} is missing from {path}. "
            "Run `make models` to train it (35-40 minutes on a 2-core CPU)."
        )
    return path


def stands_in_for(phi_model: str) -> str:
    """The embedded model that answers for a Phi model (the default when none is closer)."""
    from phi_course import catalog

    entry = catalog.FAMILY.get(phi_model)
    if entry and entry.embedded:
        return entry.embedded
    if entry and "image" in entry.modalities:  # pictures need the vision stand-in (lessons/09_phi_vision.ipynb)
        from phi_course.vision import NAME as vision_model

        if on_disk(vision_model):
            return vision_model
    if phi_model in EMBEDDED:
        return phi_model
    return DEFAULT_MODEL


@functools.cache
def load(name: str = DEFAULT_MODEL):
    """Load an embedded model and its tokenizer once per process (eval mode, CPU)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = model_path(name)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype="float32")
    model.eval()
    return model, tokenizer


def tools_adapter(name: str) -> Path | None:
    """The folder of `name`'s tool-calling adapter, or None if the model has none (it then answers in text)."""
    if name not in EMBEDDED or not on_disk(name):
        return None
    return adapter_in(models_dir() / name)


def adapter_in(folder: Path) -> Path | None:
    """The tool-calling adapter's folder inside a model folder (shipped or freshly trained), or None."""
    adapter = Path(folder) / TOOLS_ADAPTER
    return adapter if (adapter / "adapter_config.json").exists() else None


@functools.cache
def load_with_tools(name: str = DEFAULT_MODEL):
    """The model with its tool-calling adapter merged in, and the adapter's tokenizer (tool tokens, tools template).

    A copy of its own: the plain model from `load` keeps answering requests without tools, unchanged.
    """
    if tools_adapter(name) is None:
        raise FileNotFoundError(f"The embedded model {name!r} has no tool-calling adapter in "
                                f"{models_dir() / name / TOOLS_ADAPTER}. Run `make models` to train it.")
    return merge_tools_adapter(model_path(name))


def merge_tools_adapter(folder: Path):
    """(model, tokenizer) from a model folder and the adapter in its TOOLS_ADAPTER sub-folder, merged."""
    import warnings

    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter = Path(folder) / TOOLS_ADAPTER
    tokenizer = AutoTokenizer.from_pretrained(adapter)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)  # the adapter holds the new rows
    with warnings.catch_warnings():  # peft 0.21 calls a transformers method that 5.x renamed; harmless
        warnings.simplefilter("ignore", FutureWarning)
        model = PeftModel.from_pretrained(model, adapter).merge_and_unload()  # merged: no extra cost per token
    model.eval()
    return model, tokenizer


def describe() -> list[dict]:
    """One row per embedded model: what it stands in for, its class, size and parameters.

    Reads only the files (no model load), so it is instant.
    """
    import json

    rows = []
    for name, phi_key in EMBEDDED.items():
        path = models_dir() / name
        if not on_disk(name):
            rows.append({N_("model"): name, N_("stands in for"): phi_key,
                         N_("status"): _("missing: run `make models`")})
            continue
        config = json.loads((path / "config.json").read_text())
        size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
        rows.append({
            N_("model"): name,
            N_("stands in for"): phi_key,
            N_("class"): config.get("architectures", ["?"])[0],
            N_("parameters"): _count_parameters(path),
            N_("layers"): config.get("num_hidden_layers"),
            N_("experts"): config.get("num_local_experts", "-"),
            N_("size on disk (MB)"): round(size / 1e6, 2),
        })
    return rows


def _count_parameters(path: Path) -> int:
    from safetensors import safe_open

    total = 0
    with safe_open(str(path / "model.safetensors"), framework="pt") as weights:
        for key in weights.keys():
            shape = weights.get_slice(key).get_shape()
            count = 1
            for dim in shape:
                count *= dim
            total += count
    return total
