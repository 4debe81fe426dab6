"""Plain Llama models and their LoRA adapters written as GGUF files, the format llama.cpp reads.

    write_llama_gguf(folder, target)                 # a transformers Llama folder -> one f32 GGUF file
    write_lora_gguf(adapter_folder, config, target)  # a peft LoRA adapter (from `training sft`) -> a GGUF adapter
    lora_gguf(adapter_folder, config)                # the same, converted once into the model cache

The facts these rely on (tensor names, the rotary row order of q/k, the adapter metadata llama.cpp checks)
are in docs/llama-cpp-engine.md. Every file is written to a temporary sibling and renamed into place, so a
reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

# transformers module path inside a decoder layer -> llama.cpp tensor name inside block N.
LAYER_TENSORS = {
    "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}  # fmt: skip


# Storage types of the weight matrices (norms stay f32): name -> (gguf type name, llama file type name).
WEIGHT_TYPES = {"f32": ("F32", "ALL_F32"), "f16": ("F16", "MOSTLY_F16"), "bf16": ("BF16", "MOSTLY_BF16"),
                "q8_0": ("Q8_0", "MOSTLY_Q8_0"), "q4_0": ("Q4_0", "MOSTLY_Q4_0")}


class GGUFExportError(ValueError):
    """The model or adapter cannot be written as a llama.cpp GGUF file; the message says why."""


def interleave_rotary_rows(rows: np.ndarray, heads: int) -> np.ndarray:
    """transformers keeps each head's q/k rows as [first halves of the rotary pairs | second halves]; llama.cpp
    keeps them pair by pair. Reorders the rows (output features) of a q/k weight, or of a LoRA B matrix."""
    half = rows.shape[0] // heads // 2
    return rows.reshape(heads, 2, half, *rows.shape[1:]).swapaxes(1, 2).reshape(rows.shape)


def _heads_of(config: dict, module: str) -> int | None:
    """How many heads the rows of `module` are grouped in, for the q/k reordering; None for other modules."""
    if module == "self_attn.q_proj":
        return int(config["num_attention_heads"])
    if module == "self_attn.k_proj":
        return int(config.get("num_key_value_heads") or config["num_attention_heads"])
    return None


def check_plain_llama(config: dict) -> None:
    """llama.cpp's llama architecture as this module writes it: no biases, no rope scaling, head_dim = hidden/heads."""
    problems = []
    if config.get("model_type") != "llama":
        problems.append(f"model_type is {config.get('model_type')!r}, not 'llama'")
    if config.get("attention_bias") or config.get("mlp_bias"):
        problems.append("it has attention or MLP biases")
    scaling = config.get("rope_scaling") or (config.get("rope_parameters") or {})
    if scaling.get("rope_type", scaling.get("type", "default")) not in ("default", None):
        problems.append(f"it uses rope scaling {scaling!r}")
    head_dim = config.get("head_dim")
    if head_dim and head_dim * config["num_attention_heads"] != config["hidden_size"]:
        problems.append(f"head_dim {head_dim} x {config['num_attention_heads']} heads != hidden {config['hidden_size']}")
    if problems:
        raise GGUFExportError("not a plain Llama model for llama.cpp: " + "; ".join(problems))


def _rope_base(config: dict) -> float:
    return float(config.get("rope_theta") or (config.get("rope_parameters") or {}).get("rope_theta") or 10000.0)


def _write_atomically(target: Path, fill) -> Path:
    """Run `fill(writer_path)` on a temporary sibling of `target`, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    try:
        fill(scratch)
        os.replace(scratch, target)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return target


def _vocabulary(folder: Path, size: int) -> tuple[list[str], list[int], list[str]]:
    """Tokens, token types and merges of a byte-level BPE `tokenizer.json`, padded to the model's `size` rows.
    llama.cpp needs a vocabulary to load a model; the server never uses it (it sends token ids)."""
    import gguf

    tokenizer = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    if tokenizer["model"].get("type") != "BPE":
        raise GGUFExportError(f"{folder}/tokenizer.json is not a BPE tokenizer")
    special = {t["id"]: t["content"] for t in tokenizer.get("added_tokens", [])}
    tokens = [f"[PAD{i}]" for i in range(size)]
    types = [int(gguf.TokenType.UNUSED)] * size
    for piece, index in {**tokenizer["model"]["vocab"], **{v: k for k, v in special.items()}}.items():
        if index < size:
            tokens[index] = piece
            types[index] = int(gguf.TokenType.CONTROL if index in special else gguf.TokenType.NORMAL)
    merges = [m if isinstance(m, str) else " ".join(m) for m in tokenizer["model"]["merges"]]
    return tokens, types, merges


def _add_weight(writer, name: str, tensor: np.ndarray, weight_type: str) -> None:
    import gguf

    if tensor.ndim != 2 or weight_type == "f32":
        writer.add_tensor(name, np.ascontiguousarray(tensor))
    elif weight_type == "f16":
        writer.add_tensor(name, np.ascontiguousarray(tensor.astype(np.float16)))
    else:
        kind = getattr(gguf.GGMLQuantizationType, WEIGHT_TYPES[weight_type][0])
        writer.add_tensor(name, gguf.quants.quantize(np.ascontiguousarray(tensor), kind), raw_dtype=kind)


def write_llama_gguf(folder: str | Path, target: str | Path, *, weight_type: str = "f32") -> Path:
    """The transformers Llama in `folder` (config.json, model.safetensors, tokenizer.json) as one GGUF file, its
    weight matrices stored as `weight_type` (one of WEIGHT_TYPES)."""
    import gguf

    if weight_type not in WEIGHT_TYPES:
        raise GGUFExportError(f"unknown weight type {weight_type!r}; choose one of {list(WEIGHT_TYPES)}")

    folder, target = Path(folder), Path(target)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    check_plain_llama(config)
    weights = _float32_weights(folder / "model.safetensors")
    tokens, types, merges = _vocabulary(folder, int(config["vocab_size"]))

    names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight"}
    if not config.get("tie_word_embeddings", True) and "lm_head.weight" in weights:
        names["lm_head.weight"] = "output.weight"  # tied models have none: llama.cpp reuses token_embd
    for layer in range(int(config["num_hidden_layers"])):
        for module, short in LAYER_TENSORS.items():
            names[f"model.layers.{layer}.{module}.weight"] = f"blk.{layer}.{short}.weight"

    def fill(path: str) -> None:
        writer = gguf.GGUFWriter(path, "llama")
        writer.add_name(folder.name)
        writer.add_block_count(int(config["num_hidden_layers"]))
        writer.add_context_length(int(config["max_position_embeddings"]))
        writer.add_embedding_length(int(config["hidden_size"]))
        writer.add_feed_forward_length(int(config["intermediate_size"]))
        writer.add_head_count(int(config["num_attention_heads"]))
        writer.add_head_count_kv(int(config.get("num_key_value_heads") or config["num_attention_heads"]))
        writer.add_layer_norm_rms_eps(float(config["rms_norm_eps"]))
        writer.add_rope_freq_base(_rope_base(config))
        writer.add_rope_dimension_count(int(config["hidden_size"]) // int(config["num_attention_heads"]))
        writer.add_vocab_size(int(config["vocab_size"]))
        writer.add_file_type(getattr(gguf.LlamaFileType, WEIGHT_TYPES[weight_type][1]))
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("smollm")
        writer.add_token_list(tokens)
        writer.add_token_types(types)
        writer.add_token_merges(merges)
        for key, add in (("bos_token_id", writer.add_bos_token_id), ("eos_token_id", writer.add_eos_token_id),
                         ("pad_token_id", writer.add_pad_token_id)):
            if isinstance(config.get(key), int):
                add(config[key])
        writer.add_add_bos_token(False)
        for hf_name, gguf_name in names.items():
            if hf_name not in weights:
                raise GGUFExportError(f"{folder}/model.safetensors has no tensor {hf_name}")
            tensor = weights[hf_name]
            module = hf_name.removesuffix(".weight").split(".", 3)[-1]
            if (heads := _heads_of(config, module)) is not None:
                tensor = interleave_rotary_rows(tensor, heads)
            _add_weight(writer, gguf_name, tensor, weight_type)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()

    return _write_atomically(target, fill)


def _float32_weights(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file as float32 (bf16 files too, which numpy cannot read by itself)."""
    from safetensors.torch import load_file

    return {name: tensor.float().numpy() for name, tensor in load_file(str(path)).items()}


def _lora_pairs(adapter_folder: Path, settings: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """`model.layers.N.<module>` -> (A [r, in], B [out, r]) in float32, from the adapter's safetensors."""
    if settings.get("use_dora") or settings.get("modules_to_save") or settings.get("bias", "none") != "none":
        raise GGUFExportError(f"{adapter_folder}: llama.cpp takes plain LoRA only (no DoRA, bias or saved modules)")
    tensors = _float32_weights(adapter_folder / "adapter_model.safetensors")
    pairs: dict[str, dict[str, np.ndarray]] = {}
    for key, value in tensors.items():
        for side in ("lora_A", "lora_B"):
            marker = f".{side}."
            if marker in key:
                module = key.split(marker)[0].split("model.layers.", 1)[-1]
                pairs.setdefault(module, {})[side] = value
                break
        else:
            raise GGUFExportError(f"{adapter_folder}: tensor {key} is not a LoRA A or B matrix")
    incomplete = [module for module, sides in pairs.items() if len(sides) != 2]
    if incomplete:
        raise GGUFExportError(f"{adapter_folder}: LoRA layers without both A and B: {incomplete[:3]}")
    return {module: (sides["lora_A"], sides["lora_B"]) for module, sides in pairs.items()}


def write_lora_gguf(adapter_folder: str | Path, config: dict, target: str | Path) -> Path:
    """The peft LoRA adapter in `adapter_folder`, for the Llama described by `config`, as a llama.cpp adapter."""
    import gguf

    adapter_folder, target = Path(adapter_folder), Path(target)
    check_plain_llama(config)
    settings = json.loads((adapter_folder / "adapter_config.json").read_text(encoding="utf-8"))
    rank, alpha = int(settings["r"]), float(settings.get("lora_alpha", settings["r"]))
    # llama.cpp scales an adapter by alpha / rank (as peft does); rsLoRA scales by alpha / sqrt(rank).
    stored_alpha = alpha * rank**0.5 if settings.get("use_rslora") else alpha
    pairs = _lora_pairs(adapter_folder, settings)

    def fill(path: str) -> None:
        writer = gguf.GGUFWriter(path, "llama")
        writer.add_type("adapter")
        writer.add_string("adapter.type", "lora")
        writer.add_float32("adapter.lora.alpha", stored_alpha)
        for module, (a, b) in sorted(pairs.items()):
            layer, _, name = module.partition(".")
            if name not in LAYER_TENSORS or not layer.isdigit():
                raise GGUFExportError(f"{adapter_folder}: LoRA on {module!r}, which llama.cpp's Llama has no "
                                      "weight for (LoRA layers must be the seven attention and MLP projections)")
            if (heads := _heads_of(config, name)) is not None:
                b = interleave_rotary_rows(b, heads)
            base = f"blk.{layer}.{LAYER_TENSORS[name]}.weight"
            writer.add_tensor(f"{base}.lora_a", np.ascontiguousarray(a))
            writer.add_tensor(f"{base}.lora_b", np.ascontiguousarray(b))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()

    return _write_atomically(target, fill)


def lora_gguf(adapter_folder: str | Path, config: dict, cache_root: Path | None = None) -> Path:
    """The adapter converted once into the model cache, named by its weights' sha256 (a retrained adapter in
    the same folder gets a new file)."""
    from prover.serving.embedded_model import default_cache_root

    adapter_folder = Path(adapter_folder)
    digest = hashlib.sha256()
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        digest.update((adapter_folder / name).read_bytes())
    target = (cache_root or default_cache_root()) / "lora-gguf" / f"{digest.hexdigest()[:32]}.gguf"
    return target if target.exists() else write_lora_gguf(adapter_folder, config, target)
