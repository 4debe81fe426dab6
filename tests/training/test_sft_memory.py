"""What keeps SFT in memory gives the same training signal: the loss at completion positions only, forwards
cut to a token budget, length-bucketed batches; and the run reports its peak memory and dtype."""

from __future__ import annotations

import random

import torch

from prover.policy.prompts import format_prompt, training_completion
from tests.training.sft_helpers import pair_rows, tiny_model_dir, tiny_tokenizer, write_jsonl
from training.sft import SFTConfig, train_sft
from training.sft.dataset import IGNORE_INDEX, collate, tokenize_example
from training.sft.train import _token_loss_sum, length_bucketed_order, token_budget_chunks


def examples(count: int = 6):
    tokenizer = tiny_tokenizer()
    items = []
    for i, row in enumerate(pair_rows(count)[:count]):
        prompt = format_prompt("goal-proofstep", state=row["state_before"] + "\n" * (i * 3))  # varied lengths
        item = tokenize_example(tokenizer, prompt, training_completion("goal-proofstep", row["tactic"]),
                                max_length=256, bos_in_text=False)
        items.append(item)
    return items


def lora_model():
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir(), dtype="float32", attn_implementation="sdpa")
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"], init_lora_weights=False)
    return get_peft_model(base, config)


def full_logits_loss(model, ids, mask, labels):
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
    return torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=IGNORE_INDEX, reduction="sum"
    )


def lora_grads(model):
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.requires_grad])


def test_completion_only_logits_give_the_full_forwards_loss_and_gradient():
    model = lora_model()
    ids, mask, labels = collate(examples(), pad_id=0)
    assert (labels[:, 1:] != IGNORE_INDEX).sum() < labels.numel() / 3  # the prompt is most of each example
    loss, count = _token_loss_sum(model, ids, mask, labels)
    loss.backward()
    ours = lora_grads(model)
    model.zero_grad()
    reference = full_logits_loss(model, ids, mask, labels)
    reference.backward()
    assert count == int((labels[:, 1:] != IGNORE_INDEX).sum())
    assert torch.allclose(loss, reference, rtol=1e-5)
    assert torch.allclose(ours, lora_grads(model), rtol=1e-4, atol=1e-6)


def test_forwards_cut_to_a_token_budget_give_the_same_gradient_as_one_forward():
    items = examples()
    chunks = token_budget_chunks(items, max_tokens=2 * max(len(i.input_ids) for i in items))
    assert len(chunks) > 1 and sorted(map(id, sum(chunks, []))) == sorted(map(id, items))
    assert all(len(c) * max(len(i.input_ids) for i in c) <= 2 * max(len(i.input_ids) for i in items) for c in chunks)
    model = lora_model()
    ids, mask, labels = collate(items, pad_id=0)
    total = int((labels[:, 1:] != IGNORE_INDEX).sum())
    (_token_loss_sum(model, ids, mask, labels)[0] / total).backward()
    whole = lora_grads(model)
    model.zero_grad()
    for chunk in chunks:
        ids, mask, labels = collate(chunk, pad_id=0)
        (_token_loss_sum(model, ids, mask, labels)[0] / total).backward()
    difference = (lora_grads(model) - whole).abs().max()
    assert difference <= 1e-4 * whole.abs().max(), difference


def test_length_buckets_cover_each_example_once_and_cut_padding():
    rng = random.Random(0)
    lengths = [rng.randint(20, 1000) for _ in range(400)]
    batches = length_bucketed_order(lengths, 8, 10, random.Random(1))
    assert sorted(i for b in batches for i in b) == list(range(400))

    def padding(batches):
        return sum(len(b) * max(lengths[i] for i in b) - sum(lengths[i] for i in b) for b in batches)

    shuffled = random.Random(1).sample(range(400), 400)
    plain = [shuffled[i : i + 8] for i in range(0, 400, 8)]
    assert padding(batches) < padding(plain) / 5
    firsts = [b[0] for b in batches[:10]]
    assert sorted(firsts) != firsts or len(set(lengths[i] for i in firsts)) == 1  # batches are shuffled again


def test_a_run_reports_its_peak_memory_and_why_it_chose_its_dtype(tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", pair_rows(6))
    metrics = []
    result = train_sft(
        SFTConfig(model_path=str(tiny_model_dir()), data_files=[str(data)], output_dir=str(tmp_path / "out"),
                  prompt_format="goal-proofstep", max_steps=2, batch_size=4, grad_accum=1, log_every=1,
                  eval_every=0, max_length=128, max_tokens_per_forward=64, dtype="fp32"),
        on_metric=lambda name, value, step: metrics.append((name, value, step)),
    )
    assert [step for name, _, step in metrics if name == "peak_rss_mb"] == [1, 2]
    assert result.meta["dtype"] == "fp32" and result.meta["dtype_reason"] == "asked for explicitly"
    assert result.meta["peak_memory_mb"]["peak_rss_mb"] >= max(v for n, v, _ in metrics if n == "peak_rss_mb")
    assert result.meta["config"]["max_tokens_per_forward"] == result.meta["tokens_per_forward"] == 64
