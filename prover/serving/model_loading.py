"""Load the one backbone the server shares between /generate and /encode: dtype, device, nf4, LoRA adapter,
and the engine that runs it (`llama_cpp_runner.LlamaCppRunner` or `fused_llama.FusedLlama` for plain Llama
models on a CPU, else `TransformersRunner`)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}
ENGINES = ("auto", "llamacpp", "fused", "transformers")


class ModelLoadError(RuntimeError):
    """The requested model configuration cannot be served on this machine; the message says why."""


@dataclass
class LoadedModel:
    model: Any  # a transformers causal LM (possibly a peft model when the adapter cannot be merged)
    tokenizer: Any
    device: str
    dtype: str
    model_path: str
    adapter: str | None = None
    adapter_merged: bool = False
    quantization: str | None = None
    context_length: int = 2048
    info: dict = field(default_factory=dict)
    dtype_reason: str = ""
    engine: str = "transformers"
    runner: Any = None  # LlamaCppRunner, FusedLlama or TransformersRunner: what every forward goes through

    @property
    def hidden_size(self) -> int:
        return int(self.base_model_config().hidden_size)

    def base_model_config(self):
        return self.causal_lm().config

    def causal_lm(self):
        """The transformers model under any peft wrapper (LoRA layers stay injected in it)."""
        model = self.model
        return model.get_base_model() if hasattr(model, "get_base_model") else model

    def decoder(self):
        """The decoder stack without the LM head: its last hidden state is what /encode pools."""
        return self.causal_lm().base_model


def check_nf4_available(device: str) -> None:
    """nf4 is bitsandbytes' 4-bit format and runs on CUDA only; say so instead of failing deep in transformers."""
    import torch

    if not device.startswith("cuda") or not torch.cuda.is_available():
        raise ModelLoadError(
            "--quantize nf4 needs a CUDA GPU (bitsandbytes 4-bit kernels); this machine has none "
            f"(device {device!r}, torch.cuda.is_available() = {torch.cuda.is_available()}). "
            "Drop --quantize to serve in bf16/fp32."
        )
    if importlib.util.find_spec("bitsandbytes") is None:
        raise ModelLoadError(
            "--quantize nf4 needs the bitsandbytes package, which is not installed: "
            "pip install 'burnqed-web[gpu]' (or pip install bitsandbytes)."
        )


def load_model(
    model_path: str | Path,
    *,
    dtype: str | None = None,
    device: str | None = None,
    adapter: str | Path | None = None,
    quantize: str | None = None,
    context_length: int | None = None,
    engine: str = "auto",
    kv_cells: int | None = None,
) -> LoadedModel:
    """Load tokenizer + causal LM ready for inference (eval mode, no grad), optionally with nf4 and a LoRA adapter.

    `dtype` None picks what the device computes natively (`precision.choose_dtype`). `engine` "auto" runs
    plain Llama models on CPU through llama.cpp when it is installed and the model came from a GGUF file (the
    embedded model), else through `FusedLlama`, and everything else (nf4, CUDA, other architectures) through
    transformers; "llamacpp" and "fused" insist (an error if the model is not a plain Llama; llamacpp exports
    an f32 GGUF of a folder that has none), "transformers" opts out.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from prover.serving.precision import choose_dtype

    if dtype is not None and dtype not in DTYPES:
        raise ModelLoadError(f"unknown dtype {dtype!r}; choose one of {sorted(DTYPES)}")
    if quantize not in (None, "nf4"):
        raise ModelLoadError(f"unknown quantization {quantize!r}; the only one supported is 'nf4'")
    if engine not in ENGINES:
        raise ModelLoadError(f"unknown engine {engine!r}; choose one of {list(ENGINES)}")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype, dtype_reason = choose_dtype(dtype, device)
    model_path = Path(model_path)
    if not (model_path / "config.json").exists():
        raise ModelLoadError(f"{model_path} is not a transformers model folder (no config.json)")
    if adapter is not None and not (Path(adapter) / "adapter_config.json").exists():
        raise ModelLoadError(f"{adapter} is not a peft adapter folder (no adapter_config.json)")
    torch_dtype = getattr(torch, DTYPES[dtype])

    kwargs: dict[str, Any] = {"dtype": torch_dtype}
    if quantize == "nf4":
        check_nf4_available(device)
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_compute_dtype=torch.bfloat16,
            bnb_4bit_use_double_quant=True,
        )
        kwargs["device_map"] = {"": 0 if device == "cuda" else device}

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, **kwargs)
    if quantize is None:
        model.to(device)

    merged = False
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter))
        if quantize is None:
            # Merging folds the low-rank update into the weights: identical outputs, no per-layer LoRA cost.
            model = model.merge_and_unload()
            merged = True
    # Parameters keep requires_grad=True: every forward runs under torch.inference_mode anyway, and with
    # requires_grad_(False) on all parameters bf16 decoding on CPU measured about twice as slow here (torch
    # 2.13, transformers 5.24: 107 vs 197 tok/s at batch 32 on the SmolLM2-135M shape; cause not pinned down).
    model.eval()

    runner, engine_used = _engine(model, engine, device, model_path=model_path, adapter=adapter, kv_cells=kv_cells)
    config = (model.get_base_model() if hasattr(model, "get_base_model") else model).config
    model_limit = int(getattr(config, "max_position_embeddings", 2048) or 2048)
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        device=device,
        dtype=dtype,
        model_path=str(model_path),
        adapter=str(adapter) if adapter is not None else None,
        adapter_merged=merged,
        quantization=quantize,
        context_length=min(model_limit, context_length) if context_length else model_limit,
        dtype_reason=dtype_reason,
        engine=engine_used,
        runner=runner,
    )


def _engine(model, engine: str, device: str, *, model_path: Path, adapter=None, kv_cells=None):
    """The runner for `model`: llama.cpp or fused where they apply and are wanted, else transformers."""
    from prover.serving.fused_llama import FusedLlama
    from prover.serving.llama_cpp_runner import llama_cpp_available
    from prover.serving.transformers_runner import TransformersRunner

    fits = FusedLlama.supports(model)
    if engine in ("fused", "llamacpp") and not fits:
        raise ModelLoadError(
            f"--engine {engine} runs plain Llama models without quantization or unmerged adapters; "
            f"this one is {getattr(model.config, 'model_type', type(model).__name__)!r}"
            + (" with an unmerged adapter" if hasattr(model, "peft_config") else "")
            + (" quantized" if getattr(model, "hf_quantizer", None) is not None else "")
            + "; use --engine transformers"
        )
    cpu = not device.startswith("cuda")
    if engine == "llamacpp" and not cpu:
        raise ModelLoadError("--engine llamacpp runs on the CPU only here (this build has no CUDA backend)")
    if engine == "llamacpp" and not llama_cpp_available():
        raise ModelLoadError("--engine llamacpp needs llama-cpp-python, which is not installed: bin/_venv.sh builds "
                             "it (docs/llama-cpp-engine.md), or pip install llama-cpp-python")
    from prover.serving.embedded_model import source_gguf

    if engine == "llamacpp" or (engine == "auto" and fits and cpu and llama_cpp_available()
                                and source_gguf(model_path) is not None):
        return _llama_cpp_runner(FusedLlama(model), model_path, adapter, kv_cells), "llamacpp"
    # On CUDA transformers' kernels are what the GPU path was measured with (bf16 / nf4); the fused engine's
    # gain is in CPU dispatch overhead, so auto keeps CUDA on transformers.
    if engine == "fused" or (engine == "auto" and fits and cpu):
        return FusedLlama(model), "fused"
    return TransformersRunner(model), "transformers"


def _llama_cpp_runner(encoder, model_path: Path, adapter, kv_cells):
    """llama.cpp over the folder's source GGUF (or an f32 export of it) and the adapter as a GGUF LoRA."""
    import json

    from prover.serving.embedded_model import exported_gguf, source_gguf
    from prover.serving.gguf_files import GGUFExportError, lora_gguf
    from prover.serving.llama_cpp_runner import DEFAULT_KV_CELLS, LlamaCppError, LlamaCppModel, LlamaCppRunner

    config = json.loads((model_path / "config.json").read_text(encoding="utf-8"))
    try:
        gguf = source_gguf(model_path) or exported_gguf(model_path)
        lora = lora_gguf(adapter, config) if adapter is not None else None
        return LlamaCppRunner(LlamaCppModel(gguf, lora_path=lora, kv_cells=kv_cells or DEFAULT_KV_CELLS), encoder)
    except (GGUFExportError, LlamaCppError) as error:
        raise ModelLoadError(f"--engine llamacpp cannot serve {model_path}: {error}") from error


def pad_token_id(tokenizer) -> int:
    """The id used for padding: the tokenizer's pad token, else its EOS (SmolLM2 and DeepSeek have no pad)."""
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    return 0
