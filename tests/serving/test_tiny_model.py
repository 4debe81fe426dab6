"""The public tiny-model helper other packages' tests build on."""

from __future__ import annotations

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from prover.serving.tiny_model import build_tiny_llama

LEAN = "h : ∀ ε > 0, ∃ δ, |x| < δ\n⊢ ℕ → ℤ ⟨a, b⟩ ≠ ∅ 😀"


def test_tokenizer_round_trips_lean_unicode_and_model_loads(tmp_path):
    folder = build_tiny_llama(tmp_path / "m", hidden=32, layers=1)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    ids = tokenizer(LEAN)["input_ids"]
    assert tokenizer.decode(ids) == LEAN
    assert tokenizer.pad_token_id == 0 and tokenizer.eos_token_id == 2
    model = AutoModelForCausalLM.from_pretrained(folder)
    assert model.config.hidden_size == 32 and model.config.vocab_size == len(tokenizer)
    assert model(torch.tensor([ids])).logits.shape == (1, len(ids), len(tokenizer))


def test_same_seed_same_weights_other_seed_other_weights(tmp_path):
    def weights(name: str, seed: int) -> torch.Tensor:
        folder = build_tiny_llama(tmp_path / name, seed=seed)
        return AutoModelForCausalLM.from_pretrained(folder).model.layers[0].self_attn.q_proj.weight

    assert torch.equal(weights("a", 0), weights("b", 0))
    assert not torch.equal(weights("a", 0), weights("c", 1))
