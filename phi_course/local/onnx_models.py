"""Build, find and run ONNX Runtime GenAI models.

Introduced in lessons/08_onnx_runtime_genai.ipynb.

`build_onnx` turns an embedded Hugging Face model into an ONNX Runtime GenAI
folder with Microsoft's model builder (built once, cached). `onnx_model_path`
picks the real ONNX build of Phi when it is available and that stand-in when
it is not. `stream_generate` runs the current generation loop; lessons write
the loop out themselves, this copy serves benchmarks and tests.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phi_course import catalog, route_table, settings
from phi_course.i18n import _
from phi_course.local import embedded
from phi_course.local.hub import (
    cached_snapshot,
    download_snapshot,
)

__all__ = ["BUILD_INFO", "BUILD_TIMEOUT_S", "OnnxModelChoice", "PRECISIONS", "build_onnx", "builder_command",
           "encode_prompt", "folder_size", "generate_token_ids", "missing_onnx_files", "model_files_hash",
           "onnx_model_path", "split_onnx_id", "stream_generate", "tokenizer_mismatch"]

PRECISIONS = ("int4", "fp32")
BUILD_TIMEOUT_S = 900  # the embedded models build in seconds; this only stops a stuck builder
BUILD_INFO = "build_info.json"  # written next to the model: how and from what it was built
_MOE_ARCHITECTURES = {"PhimoeForCausalLM", "PhiMoEForCausalLM"}
# A chat in both languages the embedded models know, to check the tokenizer the builder copied.
_TOKENIZER_PROBE = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is a small language model? 什么是小语言模型？"},
]


# --------------------------------------------------------------------------- building


def model_files_hash(folder: Path) -> str:
    """A short fingerprint of every file in a model folder: retraining gives a new cache entry."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]


def builder_command(source: Path, output: Path, precision: str, hf_cache: Path) -> list[str]:
    """The model builder call, as a lesson would type it (`-e cpu`: this course targets CPUs)."""
    return [
        sys.executable, "-m", "onnxruntime_genai.models.builder",
        "-i", str(source), "-o", str(output), "-p", precision, "-e", "cpu", "-c", str(hf_cache),
    ]


def _refuse_moe_on_cpu(source: Path) -> None:
    config = json.loads((Path(source) / "config.json").read_text())
    architecture = (config.get("architectures") or ["?"])[0]
    if architecture in _MOE_ARCHITECTURES or "num_local_experts" in config:
        raise NotImplementedError(
            f"{Path(source).name} is a mixture-of-experts model ({architecture}). ONNX Runtime "
            "GenAI's model builder builds Phi MoE models only for CUDA GPUs, because its MoE "
            "operator has no CPU kernel, so it cannot be built for this CPU. Build a dense model "
            "(e.g. tiny-phi35-mini) instead, or build the MoE with `-e cuda` on a GPU machine."
        )


def _check_precision(precision: str) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}. Choose one of: {', '.join(PRECISIONS)}.")


def tokenizer_mismatch(onnx_folder: Path, hf_folder: Path) -> str | None:
    """Why og.Tokenizer disagrees with the Hugging Face tokenizer on a chat prompt, or None."""
    import onnxruntime_genai as og
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(hf_folder)
    prompt = hf.apply_chat_template(_TOKENIZER_PROBE, tokenize=False, add_generation_prompt=True)
    expected = hf(prompt)["input_ids"]
    tokenizer = og.Tokenizer(og.Model(str(onnx_folder)))
    got = [int(t) for t in tokenizer.encode(prompt)]
    if got != expected:
        return f"token ids differ: ONNX {got[:12]}... vs Hugging Face {expected[:12]}..."
    try:
        rendered = tokenizer.apply_chat_template(json.dumps(_TOKENIZER_PROBE), add_generation_prompt=True)
    except Exception as error:  # an unreadable template raises from the C++ side
        return f"og chat template failed: {error}"
    if rendered != prompt:
        return f"chat templates differ: ONNX {rendered!r} vs Hugging Face {prompt!r}"
    return None


def _fix_tokenizer_files(onnx_folder: Path, hf_folder: Path) -> None:
    """Replace the builder's tokenizer copies with the originals, template included inline.

    The builder rewrites tokenizer_config.json; older tokenizer readers look for
    the chat template only inside that file.
    """
    for name in ("tokenizer.json", "tokenizer.model", "special_tokens_map.json", "chat_template.jinja"):
        if (hf_folder / name).is_file():
            shutil.copy2(hf_folder / name, onnx_folder / name)
    config = json.loads((hf_folder / "tokenizer_config.json").read_text())
    template = hf_folder / "chat_template.jinja"
    if "chat_template" not in config and template.is_file():
        config["chat_template"] = template.read_text()
    (onnx_folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False))


def _ensure_tokenizer_matches(onnx_folder: Path, hf_folder: Path) -> str:
    """Make og.Tokenizer agree with the Hugging Face tokenizer; says what it had to do."""
    problem = tokenizer_mismatch(onnx_folder, hf_folder)
    if problem is None:
        return "builder files used as they are"
    _fix_tokenizer_files(onnx_folder, hf_folder)
    still = tokenizer_mismatch(onnx_folder, hf_folder)
    if still is not None:
        raise RuntimeError(
            f"ONNX Runtime GenAI reads the tokenizer of {hf_folder.name} differently from "
            f"transformers ({still}), even after copying the original tokenizer files. "
            "Generation would be wrong; report this with your onnxruntime-genai version."
        )
    return f"tokenizer files replaced with the originals ({problem})"


def _remove_stale_builds(parent: Path, final_name: str, older_than_s: float) -> None:
    """Delete temp folders of builds that crashed (a live build is younger than its timeout)."""
    for leftover in parent.glob(f".{final_name}.building-*"):
        if time.time() - leftover.stat().st_mtime > older_than_s:
            shutil.rmtree(leftover, ignore_errors=True)


def _run_builder(source: Path, output: Path, precision: str, timeout: float) -> None:
    with tempfile.TemporaryDirectory(prefix="phi_course_builder_") as scratch:
        command = builder_command(source, output, precision, Path(scratch) / "hf_cache")
        try:
            # cwd=scratch: whatever the builder drops in its working directory goes away with it
            result = subprocess.run(
                command, cwd=scratch, capture_output=True, text=True, errors="replace", timeout=timeout
            )
        except subprocess.TimeoutExpired as error:
            raise TimeoutError(
                f"The ONNX model builder did not finish building {source.name} ({precision}) in "
                f"{timeout:.0f} s and was stopped. Free some CPU or memory and run it again, or "
                "pass a larger timeout."
            ) from error
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise RuntimeError(
            f"The ONNX model builder failed on {source.name} ({precision}, exit code "
            f"{result.returncode}). Last lines of its output:\n{tail}\n"
            "Check that onnx, onnx-ir and onnxscript are installed (`pip install onnx onnx-ir "
            "onnxscript`) and that the model folder loads with transformers."
        )


def build_onnx(name: str = embedded.DEFAULT_MODEL, precision: str = "int4", *,
               timeout: float = BUILD_TIMEOUT_S, verbose: bool = True) -> Path:
    """Build an embedded model into an ONNX Runtime GenAI folder once, and return that folder.

    The result is cached under `settings.cache_dir()/onnx/<name>-<precision>-<hash>`;
    the hash covers the model's files, so a retrained model is rebuilt. The
    build runs in a temporary folder that is renamed into place only when it is
    complete, so an interrupted build never leaves a half-built model behind.
    Introduced in lessons/08_onnx_runtime_genai.ipynb.
    """
    _check_precision(precision)
    source = embedded.model_path(name)
    _refuse_moe_on_cpu(source)
    parent = settings.cache_dir() / "onnx"
    parent.mkdir(parents=True, exist_ok=True)
    final = parent / f"{name}-{precision}-{model_files_hash(source)}"
    if (final / "genai_config.json").is_file():
        return final

    _remove_stale_builds(parent, final.name, older_than_s=timeout + 60)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.building-", dir=parent))
    work.chmod(0o755)  # mkdtemp makes it private; the finished model is an ordinary folder
    try:
        if verbose:
            print(_("Building {name} to ONNX {precision} with the model builder (once; cached in {folder})").format(
                name=name, precision=precision, folder=final))
        start = time.perf_counter()
        _run_builder(source, work, precision, timeout)
        seconds = time.perf_counter() - start
        tokenizer_note = _ensure_tokenizer_matches(work, source)
        info = {
            "source": name, "precision": precision, "execution_provider": "cpu",
            "build_seconds": round(seconds, 2), "tokenizer": tokenizer_note,
            "command": " ".join(builder_command(source, Path("<output>"), precision, Path("<cache>"))),
        }
        (work / BUILD_INFO).write_text(json.dumps(info, indent=2))
        try:
            work.rename(final)
        except OSError:
            # Another process finished the same build first: theirs is as good as ours.
            if not (final / "genai_config.json").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if verbose:
        print(_("Built in {seconds:.1f} s: {mb:.1f} MB").format(seconds=seconds, mb=folder_size(final) / 1e6))
    return final


def folder_size(folder: Path) -> int:
    """Bytes of all files in a folder (symlinks followed, as the Hugging Face cache uses them)."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


# --------------------------------------------------------------------------- choosing a model


@dataclass(frozen=True)
class OnnxModelChoice:
    """Which ONNX model folder a lesson runs, and why."""

    path: Path
    is_real: bool
    source: str  # "repo/subfolder" of the real build, or the embedded model's name
    notice: str


def missing_onnx_files(folder: Path) -> list[str]:
    """What an ONNX Runtime GenAI folder lacks to load: [] when complete.

    Reads the decoder's graph without its weights to learn which external data
    files it needs, since their names differ from build to build.
    """
    folder = Path(folder)
    config_file = folder / "genai_config.json"
    if not config_file.is_file():
        return ["genai_config.json"]
    decoder = json.loads(config_file.read_text())["model"]["decoder"]["filename"]
    missing = [] if (folder / decoder).is_file() else [decoder]
    if not any((folder / n).is_file() for n in ("tokenizer.json", "tokenizer.model")):
        missing.append("tokenizer.json")
    try:
        import onnx  # installed with the model builder's requirements
    except ImportError:
        return missing
    if not missing:
        graph = onnx.load(str(folder / decoder), load_external_data=False).graph
        locations = {
            entry.value
            for tensor in graph.initializer
            for entry in tensor.external_data
            if entry.key == "location"
        }
        missing += sorted(loc for loc in locations if not (folder / loc).is_file())
    return missing


def split_onnx_id(onnx_id: str) -> tuple[str, str]:
    """("owner/repo", "sub/folder") from a catalog ONNX id "owner/repo/sub/folder"."""
    owner, repo, *subfolder = onnx_id.split("/")
    return f"{owner}/{repo}", "/".join(subfolder)


def onnx_model_path(model: str = "phi-3.5-mini", *, verbose: bool = True) -> OnnxModelChoice:
    """The real ONNX build of `model` when available, else the embedded stand-in built to int4.

    Real means: already complete in the Hugging Face cache, or downloaded
    because PHI_COURSE_REAL_MODELS=1 (size printed first, then a progress bar).
    Introduced in lessons/08_onnx_runtime_genai.ipynb.
    """
    onnx_id = route_table.model_id("onnx", model).id
    repo_id, subfolder = split_onnx_id(onnx_id)
    patterns = [f"{subfolder}/*"] if subfolder else None
    snapshot = cached_snapshot(repo_id, patterns)
    path = snapshot / subfolder if snapshot is not None else None
    complete = path is not None and not missing_onnx_files(path)

    if complete or settings.real_models():
        if not complete:
            path = download_snapshot(repo_id, patterns or ["*"]) / subfolder
            missing = missing_onnx_files(path)
            if missing:
                raise FileNotFoundError(
                    _("The download of {repo} finished without {files}. Run the cell again to resume the "
                      "download.").format(repo=onnx_id, files=", ".join(missing)))
        choice = OnnxModelChoice(path, True, onnx_id,
                                 _("Using the real {repo} from the Hugging Face cache.").format(repo=onnx_id))
    else:
        stand_in = catalog.phi(model).embedded
        if stand_in is None:
            raise LookupError(
                _("{repo} is not in your Hugging Face cache and the course has no embedded model to stand in "
                  "for {model!r}. Set {var}=1 to download it.").format(repo=onnx_id, model=model,
                                                                      var=settings.REAL_MODELS_VAR))
        path = build_onnx(stand_in, "int4", verbose=verbose)
        choice = OnnxModelChoice(path, False, stand_in, _(
            "Using the embedded stand-in {model!r} built to ONNX int4, because {repo} is not in your Hugging "
            "Face cache. Set {var}=1 to download the real model.").format(model=stand_in, repo=onnx_id,
                                                                        var=settings.REAL_MODELS_VAR))
    if verbose:
        print(choice.notice)
    return choice


# --------------------------------------------------------------------------- generating


@functools.lru_cache(maxsize=2)  # a real Phi build is GBs: keep few
def _load_model(path: str):
    import onnxruntime_genai as og

    return og.Model(path)


def _context_length(path: str) -> int:
    return int(json.loads((Path(path) / "genai_config.json").read_text())["model"]["context_length"])


def _resolve(model_or_path: Any):
    """(og.Model, context length or None) from a folder or an already loaded og.Model."""
    if isinstance(model_or_path, (str, Path)):
        path = str(Path(model_or_path).resolve())
        return _load_model(path), _context_length(path)
    return model_or_path, None


def encode_prompt(tokenizer, prompt_or_messages: str | list[dict[str, str]]):
    """Token ids for a raw prompt, or for chat messages through the model's chat template."""
    if isinstance(prompt_or_messages, str):
        prompt = prompt_or_messages
    else:
        prompt = tokenizer.apply_chat_template(json.dumps(list(prompt_or_messages)), add_generation_prompt=True)
    return tokenizer.encode(prompt)


def _generate(model, tokenizer, context: int | None, prompt_or_messages, max_new_tokens: int,
              search: dict[str, Any]) -> Iterator[int]:
    import onnxruntime_genai as og

    input_ids = encode_prompt(tokenizer, prompt_or_messages)
    params = og.GeneratorParams(model)
    limit = context or int(params.get_search_options()["max_length"])
    needed = len(input_ids) + max_new_tokens
    if needed > limit:
        raise ValueError(
            f"The prompt has {len(input_ids)} tokens and {max_new_tokens} new ones were asked for: "
            f"{needed} in all, beyond this model's context of {limit} tokens. Shorten the prompt "
            "or ask for fewer new tokens."
        )
    options = {key: value for key, value in search.items() if value is not None}
    params.set_search_options(max_length=needed, **options)
    generator = og.Generator(model, params)
    generator.append_tokens(input_ids)
    for _step in range(max_new_tokens):  # bounded even if the runtime never reports done
        if generator.is_done():
            break
        generator.generate_next_token()
        yield int(generator.get_next_tokens()[0])


def _search_options(do_sample: bool, temperature, top_p, top_k, seed, extra) -> dict[str, Any]:
    return {"do_sample": do_sample, "temperature": temperature, "top_p": top_p, "top_k": top_k,
            "random_seed": seed, **extra}


def generate_token_ids(model_or_path: Any, prompt_or_messages: str | list[dict[str, str]],
                       max_new_tokens: int = 64, *, do_sample: bool = False,
                       temperature: float | None = None, top_p: float | None = None,
                       top_k: int | None = None, seed: int | None = None,
                       **search_options: Any) -> Iterator[int]:
    """Yield new token ids one by one (the end-of-turn token included, as transformers does).

    Other ONNX Runtime GenAI search options (`repetition_penalty`, `min_length`, ...)
    pass straight to `GeneratorParams.set_search_options`.
    """
    import onnxruntime_genai as og

    model, context = _resolve(model_or_path)
    search = _search_options(do_sample, temperature, top_p, top_k, seed, search_options)
    yield from _generate(model, og.Tokenizer(model), context, prompt_or_messages, max_new_tokens, search)


def stream_generate(model_or_path: Any, prompt_or_messages: str | list[dict[str, str]],
                    max_new_tokens: int = 64, *, do_sample: bool = False,
                    temperature: float | None = None, top_p: float | None = None,
                    top_k: int | None = None, seed: int | None = None,
                    **search_options: Any) -> Iterator[str]:
    """Yield the reply as text pieces while ONNX Runtime GenAI generates it (greedy by default).

    Accepts a model folder or a loaded `og.Model`, and a raw prompt or chat
    messages. The end-of-turn token is not part of the text.
    Introduced in lessons/08_onnx_runtime_genai.ipynb.
    """
    import onnxruntime_genai as og

    model, context = _resolve(model_or_path)
    tokenizer = og.Tokenizer(model)
    stream = tokenizer.create_stream()  # holds back pieces of multi-byte characters until whole
    stop = set(tokenizer.eos_token_ids)
    search = _search_options(do_sample, temperature, top_p, top_k, seed, search_options)
    for token in _generate(model, tokenizer, context, prompt_or_messages, max_new_tokens, search):
        if token in stop:
            break
        piece = stream.decode(token)
        if piece:
            yield piece
