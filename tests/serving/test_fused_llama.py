"""The fused Llama engine against the transformers reference: the same logits, hidden states, log-probs and
adapter effect, within a stated tolerance (float32: 1e-4 absolute on logits of scale ~10; bf16: 0.15)."""

from __future__ import annotations

import pytest
import torch

from prover.serving.decode_batch import DecodeBatch
from prover.serving.generation import Row, SamplingParams, generate_rows
from prover.serving.model_loading import ModelLoadError, load_model
from tests.serving.test_decode_batch import PROMPTS

FP32_TOLERANCE = 1e-4
BF16_TOLERANCE = 0.15  # bf16 keeps 8 bits of mantissa; the two engines round in different places


def left_padded(loaded, prompts):
    ids = [list(loaded.tokenizer(p)["input_ids"]) for p in prompts]
    width = max(map(len, ids))
    input_ids = torch.full((len(ids), width), 0, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for i, row in enumerate(ids):
        input_ids[i, width - len(row) :] = torch.tensor(row)
        mask[i, width - len(row) :] = 1
    return input_ids, mask


def decode_logits(loaded, prompts, steps=5):
    """Logits of a left-padded prefill and `steps` greedy decode steps through `loaded.runner`."""
    input_ids, mask = left_padded(loaded, prompts)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    cache = loaded.runner.new_cache()
    logits = [loaded.runner.forward(input_ids, mask, positions, cache)]
    for _ in range(steps):
        token = logits[-1].argmax(-1, keepdim=True)
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
        positions = positions[:, -1:] + 1
        logits.append(loaded.runner.forward(token, mask, positions, cache))
    return torch.stack(logits)


@pytest.mark.parametrize(("dtype", "tolerance"), [("fp32", FP32_TOLERANCE), ("bf16", BF16_TOLERANCE)])
def test_fused_logits_equal_transformers_through_prefill_and_decode(tiny_model_dir, dtype, tolerance):
    fused = load_model(tiny_model_dir, dtype=dtype, device="cpu", engine="fused")
    reference = load_model(tiny_model_dir, dtype=dtype, device="cpu", engine="transformers")
    assert fused.engine == "fused" and reference.engine == "transformers"
    got, expected = decode_logits(fused, PROMPTS), decode_logits(reference, PROMPTS)
    assert expected.abs().max() > 1.0  # the tiny model's logits are far from uniform
    assert (got - expected).abs().max() <= tolerance


def test_fused_hidden_states_equal_transformers_for_encode(tiny_model_dir):
    fused = load_model(tiny_model_dir, dtype="fp32", device="cpu", engine="fused")
    reference = load_model(tiny_model_dir, dtype="fp32", device="cpu", engine="transformers")
    input_ids, mask = left_padded(fused, PROMPTS)
    input_ids, mask = input_ids.flip(1), mask.flip(1)  # /encode pads on the right
    got = fused.runner.last_hidden_state(input_ids, mask)
    expected = reference.runner.last_hidden_state(input_ids, mask)
    real = mask.bool()
    assert (got[real] - expected[real]).abs().max() <= FP32_TOLERANCE


def test_an_adapter_changes_fused_outputs_as_it_changes_transformers(tiny_model_dir, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(3)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype="float32")
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=targets, init_lora_weights=False)
    get_peft_model(base, lora).save_pretrained(tmp_path / "lora")

    plain = decode_logits(load_model(tiny_model_dir, dtype="fp32", device="cpu", engine="fused"), PROMPTS)
    fused = decode_logits(load_model(tiny_model_dir, dtype="fp32", device="cpu", engine="fused", adapter=tmp_path / "lora"), PROMPTS)
    reference = decode_logits(
        load_model(tiny_model_dir, dtype="fp32", device="cpu", engine="transformers", adapter=tmp_path / "lora"), PROMPTS
    )
    assert (fused - plain).abs().max() > 0.1  # the adapter matters
    assert (fused - reference).abs().max() <= FP32_TOLERANCE  # and matters the same way in both engines


def test_engine_fused_refuses_a_model_it_does_not_cover(tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel

    from prover.serving.tiny_model import build_tiny_tokenizer

    tokenizer = build_tiny_tokenizer()
    GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=1, n_head=2)).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    with pytest.raises(ModelLoadError, match="engine fused runs plain Llama models.*'gpt2'"):
        load_model(tmp_path, dtype="fp32", device="cpu", engine="fused")
    assert load_model(tmp_path, dtype="fp32", device="cpu").engine == "transformers"


def test_rows_that_share_a_prompt_are_prefilled_once_and_decode_as_alone(tiny_model_dir):
    loaded = load_model(tiny_model_dir, dtype="fp32", device="cpu")
    forward_rows: list[int] = []
    prompt = list(loaded.tokenizer(PROMPTS[1])["input_ids"])
    params = SamplingParams(max_new_tokens=6, temperature=0.0, ignore_eos=True)
    alone = generate_rows(loaded, [Row(prompt, params)])[0]
    batch = DecodeBatch(loaded, forward_hook=forward_rows.append)
    other = list(loaded.tokenizer(PROMPTS[0])["input_ids"])
    done = dict(batch.admit([(i, Row(prompt if i != 2 else other, params)) for i in range(4)]))
    while len(batch):
        done.update(batch.step())
    assert forward_rows[0] == 2  # four rows, two distinct prompts: a prefill of two rows
    for key in (0, 1, 3):
        assert done[key].output_ids == alone.output_ids
        assert torch.allclose(torch.tensor(done[key].logprobs), torch.tensor(alone.logprobs), atol=FP32_TOLERANCE)


def test_model_info_says_which_engine_and_why_this_dtype(client):
    info = client.get("/model_info").json()
    assert info["engine"] == "fused"
    assert info["dtype"] == "fp32" and info["dtype_reason"] == "asked for explicitly"
    assert info["cpu"]["capability"] in ("DEFAULT", "AVX2", "AVX512", "ZVECTOR", "VSX", "NEON", "SVE256")


def test_model_info_reports_the_servers_peak_memory(client):
    # Operators size machines from this (and the GPU benchmarks read it); the process holds at least the model.
    memory = client.get("/model_info").json()["memory"]
    assert memory["peak_rss_mb"] > 10
