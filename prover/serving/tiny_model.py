"""Tiny randomly initialised Llama models with a byte-level BPE tokenizer, built in milliseconds.

Public helper for tests anywhere in the project (search engine, value model, training loops): they need a
real causal LM folder that `transformers.AutoModelForCausalLM.from_pretrained` and `prover.serving` load,
without downloading weights. The tokenizer is byte-level BPE, so every Unicode string (Lean's ⊢ ℕ ∀ ⟨⟩ ...)
encodes and decodes back exactly.

    from prover.serving.tiny_model import build_tiny_llama
    folder = build_tiny_llama(tmp_path / "tiny")          # -> Path with config, safetensors, tokenizer
"""

from __future__ import annotations

from pathlib import Path

PAD_TOKEN = "<pad>"
BOS_TOKEN = "<s>"
EOS_TOKEN = "</s>"

# The BPE merges are learnt from this text, so Lean-looking prompts tokenize into multi-byte pieces the way a
# real model's tokenizer would; anything outside it still round-trips through the byte alphabet.
_TRAINING_LINES = [
    "theorem add_comm (a b : ℕ) : a + b = b + a := by",
    "  intro x y",
    "  simp [Nat.add_comm]",
    "  nlinarith [sq_nonneg (a - b), sq_nonneg (a + b)]",
    "  exact ⟨hp, hq⟩",
    "  omega",
    "  norm_num",
    "  linarith",
    "  positivity",
    "  rcases h with ⟨x, hx⟩",
    "x : ℝ\nh₀ : 0 < x\n⊢ x ^ 2 ≥ 0",
    "n : ℕ\n⊢ ∀ m : ℕ, n + m = m + n",
    "a b : ℤ\nh : a ∣ b\n⊢ ¬(a = 0) → b % a = 0",
    "⊢ ∃ x : ℚ, x * x = 2 ↔ False",
    "Complete the following Lean 4 code:\n\n```lean4\n/- tactic state:\n",
    "\n-/\nexample := by\n  ",
    "The quick brown fox jumps over the lazy dog.",
]


def build_tiny_tokenizer(vocab_size: int = 512):
    """A `PreTrainedTokenizerFast` (byte-level BPE, specials <pad>=0, <s>=1, </s>=2) trained in memory.

    It adds no BOS/EOS on its own, like SmolLM2's tokenizer.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[PAD_TOKEN, BOS_TOKEN, EOS_TOKEN],
        show_progress=False,
    )
    bpe.train_from_iterator(_TRAINING_LINES * 20, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe, pad_token=PAD_TOKEN, bos_token=BOS_TOKEN, eos_token=EOS_TOKEN
    )


def build_tiny_llama(
    path: str | Path,
    *,
    vocab_size: int = 512,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    max_positions: int = 1024,
    seed: int = 0,
    dtype: str = "float32",
) -> Path:
    """Write a random tiny `LlamaForCausalLM` plus its tokenizer to `path` and return the folder.

    The same `seed` gives the same weights, so two folders built alike hold the same model. `vocab_size` is
    the BPE target; the model's vocabulary is the tokenizer's real size (small corpora stop short of it).
    Attention uses grouped-query heads (`heads` query, `kv_heads` key/value) like SmolLM2 and DeepSeek.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tiny_tokenizer(vocab_size)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=max_positions,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
    )
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = LlamaForCausalLM(config)
        # The default init (std 0.02) gives near-uniform next-token distributions; a larger output scale makes
        # greedy decoding and log-probs depend visibly on the prompt, which tests rely on.
        with torch.no_grad():
            model.lm_head.weight.mul_(20.0)
    finally:
        torch.random.set_rng_state(generator_state)
    model.to(getattr(torch, dtype)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


# DeepSeek-Prover-V2-7B's shape (the production policy, a Llama architecture), for GPU benchmarks at
# production size with random weights: overrides of SmolLM2's shape below.
PROVER_7B_SHAPE = dict(vocab_size=102400, hidden_size=4096, intermediate_size=11008, num_hidden_layers=30,
                       num_attention_heads=32, num_key_value_heads=32, max_position_embeddings=4096,
                       rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=False)
SHAPES = {"smollm2": {}, "prover7b": PROVER_7B_SHAPE}


def random_llama_like(config_overrides: dict | None = None, *, seed: int = 0, device: str = "cpu"):
    """A random `LlamaForCausalLM` of SmolLM2-135M's shape (30 layers, hidden 576, 9/3 heads, vocab 49152).

    Built from a config, no download; used by benchmarks that need realistic compute per token. On CUDA the
    weights are made on the GPU (a 7B shape initialises in seconds there, minutes on a CPU).
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    settings = dict(
        vocab_size=49152,
        hidden_size=576,
        intermediate_size=1536,
        num_hidden_layers=30,
        num_attention_heads=9,
        num_key_value_heads=3,
        max_position_embeddings=8192,
        rms_norm_eps=1e-5,
        rope_theta=100000.0,
        tie_word_embeddings=True,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
    )
    settings.update(config_overrides or {})
    torch.manual_seed(seed)
    with torch.device(device):
        return LlamaForCausalLM(LlamaConfig(**settings))
