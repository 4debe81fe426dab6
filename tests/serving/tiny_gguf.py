"""Write a tiny transformers Llama folder (from `build_tiny_llama`) as a llama-architecture GGUF file in f32.

Test-only: it lets the GGUF -> safetensors conversion of `prover.serving.embedded_model` run on a model
whose weights are known, in seconds, instead of only on the 98 MB SmolLM2 file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def _llama_cpp_permute(weight: np.ndarray, heads: int) -> np.ndarray:
    """GGUF stores q/k rows interleaved per rotary pair; transformers' loader undoes exactly this."""
    rows = weight.shape[0]
    return weight.reshape(heads, 2, rows // heads // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def write_tiny_gguf(folder: Path, target: Path) -> Path:
    import gguf
    from safetensors.numpy import load_file

    config = json.loads((folder / "config.json").read_text())
    tokenizer = json.loads((folder / "tokenizer.json").read_text())
    weights = {k: v.astype(np.float32) for k, v in load_file(str(folder / "model.safetensors")).items()}
    heads, kv_heads = config["num_attention_heads"], config["num_key_value_heads"]

    writer = gguf.GGUFWriter(str(target), "llama")
    writer.add_name("tiny-llama")
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_rope_freq_base(config.get("rope_theta") or config.get("rope_parameters", {}).get("rope_theta", 10000.0))
    writer.add_rope_dimension_count(config["hidden_size"] // heads)
    writer.add_vocab_size(config["vocab_size"])
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)

    vocab = tokenizer["model"]["vocab"]
    special = {t["id"]: t["content"] for t in tokenizer["added_tokens"]}
    tokens = [None] * config["vocab_size"]
    for piece, index in vocab.items():
        tokens[index] = piece
    for index, piece in special.items():
        tokens[index] = piece
    merges = [m if isinstance(m, str) else " ".join(m) for m in tokenizer["model"]["merges"]]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("smollm")
    writer.add_token_list(tokens)
    writer.add_token_types(
        [gguf.TokenType.CONTROL if i in special else gguf.TokenType.NORMAL for i in range(len(tokens))]
    )
    writer.add_token_merges(merges)
    writer.add_bos_token_id(config["bos_token_id"])
    writer.add_eos_token_id(config["eos_token_id"])
    writer.add_pad_token_id(config["pad_token_id"])
    writer.add_add_bos_token(False)

    names = {
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    }
    per_layer = {
        "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
        "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
        "mlp.down_proj": "ffn_down",
    }  # fmt: skip
    for layer in range(config["num_hidden_layers"]):
        for hf, gg in per_layer.items():
            names[f"model.layers.{layer}.{hf}.weight"] = f"blk.{layer}.{gg}.weight"
    for hf_name, gguf_name in names.items():
        tensor = weights[hf_name]
        if gguf_name.endswith("attn_q.weight"):
            tensor = _llama_cpp_permute(tensor, heads)
        elif gguf_name.endswith("attn_k.weight"):
            tensor = _llama_cpp_permute(tensor, kv_heads)
        writer.add_tensor(gguf_name, np.ascontiguousarray(tensor))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return target
