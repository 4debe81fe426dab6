"""Continuous batching in-process: rows that join a running batch decode exactly as they would alone."""

from __future__ import annotations

import pytest
import torch

from prover.serving.decode_batch import DecodeBatch
from prover.serving.generation import Row, SamplingParams, generate_rows
from prover.serving.model_loading import load_model

PROMPTS = ["⊢ ∀ n : ℕ, n + 0 = n", "x : ℝ\nh₀ : 0 < x\n⊢ x ^ 2 ≥ 0\n-/\nexample := by\n  ", "a", "⊢ ¬(1 = 2)"]


@pytest.fixture(scope="module")
def loaded(tiny_model_dir):
    return load_model(tiny_model_dir, dtype="fp32", device="cpu")


def rows_for(loaded, lengths: list[int]) -> list[Row]:
    return [
        Row(list(loaded.tokenizer(p)["input_ids"]), SamplingParams(max_new_tokens=n, temperature=0.0, ignore_eos=True))
        for p, n in zip(PROMPTS, lengths, strict=True)
    ]


def test_rows_joining_at_different_steps_match_decoding_alone(loaded):
    rows = rows_for(loaded, [20, 6, 12, 9])
    alone = [generate_rows(loaded, [row])[0] for row in rows]

    batch = DecodeBatch(loaded)
    done = dict(batch.admit([(0, rows[0])]))
    for _ in range(3):
        done.update(batch.step())
    done.update(batch.admit([(1, rows[1]), (2, rows[2])]))  # join a batch 4 tokens in
    for _ in range(5):
        done.update(batch.step())
    assert 1 in done  # the 6-token row has left again; the rest continue
    done.update(batch.admit([(3, rows[3])]))
    while len(batch):
        done.update(batch.step())

    for key, expected in enumerate(alone):
        got = done[key]
        assert got.output_ids == expected.output_ids, key
        assert torch.allclose(torch.tensor(got.logprobs), torch.tensor(expected.logprobs), atol=1e-4), key
        assert got.finish_reason == expected.finish_reason


def test_a_long_row_leaving_trims_the_cache_for_the_others(loaded):
    long_prompt = list(loaded.tokenizer(" ".join(["h : a ≤ b"] * 30))["input_ids"])
    long_row = Row(long_prompt, SamplingParams(max_new_tokens=2, temperature=0.0, ignore_eos=True))
    short = rows_for(loaded, [10, 1, 1, 1])[0]
    expected = generate_rows(loaded, [short])[0]

    batch = DecodeBatch(loaded)
    done = dict(batch.admit([("long", long_row), ("short", short)]))
    done.update(batch.step())  # the long row finishes here
    assert "long" in done
    assert batch._mask.shape[1] == len(short.prompt_ids) + 2  # padding of the long prompt is gone
    while len(batch):
        done.update(batch.step())
    assert done["short"].output_ids == expected.output_ids


def test_aborted_rows_leave_and_the_others_are_unaffected(loaded):
    rows = rows_for(loaded, [12, 12, 1, 1])[:2]
    expected = generate_rows(loaded, [rows[1]])[0]
    batch = DecodeBatch(loaded)
    done = dict(batch.admit([("gone", rows[0]), ("kept", rows[1])]))
    done.update(batch.step())
    assert batch.abort(lambda key: key == "gone") == 1 and len(batch) == 1
    while len(batch):
        done.update(batch.step())
    assert "gone" not in done
    assert done["kept"].output_ids == expected.output_ids
