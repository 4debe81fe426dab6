"""The sampler in-process: top-p / top-k keep exactly SGLang's token set, on the fast path and the full sort."""

from __future__ import annotations

import torch

from prover.serving.generation import SamplingParams, choose_next_tokens


def nucleus(logits: torch.Tensor, temperature: float, top_p: float, top_k: int) -> set[int]:
    probs = torch.softmax(logits / temperature, dim=-1)
    values, ids = probs.sort(descending=True)
    keep = (values.cumsum(0) - values) <= top_p
    if top_k > 0:
        keep &= torch.arange(len(values)) < top_k
    return set(ids[keep].tolist())


def draw(logits: torch.Tensor, params: SamplingParams, times: int, seed: int = 0) -> list[int]:
    generator = torch.Generator().manual_seed(seed)
    rows = logits.unsqueeze(0).repeat(times, 1)
    chosen, _ = choose_next_tokens(rows, [params] * times, "scaled", generator)
    return chosen.tolist()


def test_small_nucleus_fast_path_keeps_exactly_the_nucleus():
    logits = torch.full((5000,), -10.0)
    logits[[7, 42, 4999, 1234]] = torch.tensor([5.0, 4.5, 4.0, 1.0])
    params = SamplingParams(temperature=1.0, top_p=0.9)
    drawn = set(draw(logits, params, 2000))
    assert drawn == nucleus(logits, 1.0, 0.9, -1) == {7, 42, 4999}


def test_large_nucleus_falls_back_to_the_full_sort():
    logits = torch.randn(3000, generator=torch.Generator().manual_seed(1)) * 0.1  # nearly flat: nucleus >> 512
    params = SamplingParams(temperature=0.7, top_p=0.5)
    allowed = nucleus(logits, 0.7, 0.5, -1)
    assert len(allowed) > 1000
    drawn = set(draw(logits, params, 4000))
    assert drawn <= allowed and len(drawn) > 600


def test_top_k_limits_the_candidates():
    logits = torch.randn(2000, generator=torch.Generator().manual_seed(2))
    drawn = set(draw(logits, SamplingParams(temperature=1.0, top_k=5), 1000))
    assert drawn == set(logits.topk(5).indices.tolist())


def test_greedy_rows_and_sampled_rows_mix_in_one_batch():
    logits = torch.randn(4, 300, generator=torch.Generator().manual_seed(3))
    params = [SamplingParams(temperature=0.0), SamplingParams(temperature=1.0, top_p=0.8),
              SamplingParams(top_k=1), SamplingParams(temperature=2.0)]  # fmt: skip
    chosen, logprobs = choose_next_tokens(logits, params, "scaled", torch.Generator().manual_seed(0))
    assert chosen[0] == logits[0].argmax() and chosen[2] == logits[2].argmax()
    expected = torch.log_softmax(logits / torch.tensor([[1.0], [1.0], [1.0], [2.0]]), dim=-1)
    assert torch.allclose(logprobs, expected[torch.arange(4), chosen])
