"""EnergyScorer: deferred batch scoring = one /encode request and one head forward per batch of states."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

import pytest
import torch

from prover.value.checkpoint import save_energy_head
from prover.value.encoder_client import EncoderClient
from prover.value.energy_head import EnergyHeadConfig, GoalConditionedEnergyHead
from prover.value.errors import EncodeError, ScoringError
from prover.value.scorer import EnergyScorer, InProcessEnergyScorer, http_scorer_from_checkpoint

from .conftest import TINY_DIM, text_vector

GOAL = "x y : ℝ\nh : x < y\n⊢ x ^ 3 < y ^ 3"
STATES = [f"x y : ℝ\nh : x < y\nh{i} : 0 < y - x\n⊢ x ^ 3 < y ^ 3 + {i}" for i in range(12)]


def count_forwards(head: GoalConditionedEnergyHead) -> list[int]:
    calls: list[int] = []
    head.register_forward_hook(lambda _m, inputs, _out: calls.append(inputs[0].shape[0]))
    return calls


def reference_energies(head: GoalConditionedEnergyHead, states: Sequence[str], goal: str) -> list[float]:
    with torch.no_grad():
        z_states = torch.tensor([text_vector(s, TINY_DIM) for s in states])
        return head(z_states, torch.tensor(text_vector(goal, TINY_DIM))).reshape(-1).tolist()


async def test_a_round_costs_one_encode_request_and_one_forward(encode_server, tiny_head) -> None:
    forwards = count_forwards(tiny_head)
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        scorer = EnergyScorer(tiny_head, client)
        energies = await scorer.score(STATES, GOAL)
    assert encode_server.bodies == [{"text": [GOAL, *STATES], "hidden_size": TINY_DIM}]
    assert forwards == [len(STATES)]
    assert energies == pytest.approx(reference_energies(tiny_head, STATES, GOAL), rel=1e-5, abs=1e-6)


async def test_batch_scores_equal_one_at_a_time_scores(encode_server, tiny_head) -> None:
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        scorer = EnergyScorer(tiny_head, client)
        batched = await scorer.score(STATES, GOAL)
        singles = [(await scorer.score([state], GOAL))[0] for state in STATES]
    assert batched == pytest.approx(singles, rel=1e-5, abs=1e-6)
    assert len(set(batched)) == len(STATES)  # the head does tell the states apart


async def test_later_rounds_send_only_new_states(encode_server, tiny_head) -> None:
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        scorer = EnergyScorer(tiny_head, client)
        await scorer.score(STATES[:5], GOAL)
        await scorer.score(STATES[3:8], GOAL)
        await scorer.score(STATES[:8], GOAL)
    # The goal and repeated states come from the cache; the third round needs no request at all.
    assert encode_server.bodies[1] == {"text": STATES[5:8], "hidden_size": TINY_DIM}
    assert encode_server.requests == 2


async def test_empty_round_costs_nothing(encode_server, tiny_head) -> None:
    forwards = count_forwards(tiny_head)
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        assert await EnergyScorer(tiny_head, client).score([], GOAL) == []
    assert encode_server.requests == 0 and forwards == []


async def test_encoder_failure_reaches_the_caller(encode_server, tiny_head) -> None:
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        with pytest.raises(EncodeError, match="zero vector"):
            await EnergyScorer(tiny_head, client).score(["⊢ fine", "⊢ ZERO"], GOAL)


async def test_encoder_of_another_width_is_refused(encode_server, tiny_head) -> None:
    async with EncoderClient(encode_server.url, hidden_size=4096) as client:
        with pytest.raises(ValueError, match="encoder produces 4096-wide embeddings but the head expects 64"):
            EnergyScorer(tiny_head, client)


async def test_a_head_put_back_into_training_mode_is_refused(encode_server, tiny_head) -> None:
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        scorer = EnergyScorer(tiny_head, client)
        tiny_head.train()
        with pytest.raises(ScoringError, match="training mode"):
            await scorer.score(STATES, GOAL)


async def test_non_finite_energy_names_the_state(encode_server, tiny_head) -> None:
    with torch.no_grad():
        tiny_head.layers[-1].weight.fill_(float("nan"))
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        with pytest.raises(ScoringError, match="energy of state 0 of 2 .* is nan"):
            await EnergyScorer(tiny_head, client).score(STATES[:2], GOAL)


async def test_scorer_built_from_a_checkpoint_scores_like_the_saved_head(encode_server, tiny_head, tmp_path) -> None:
    save_energy_head(tiny_head, tmp_path / "ebm")
    async with http_scorer_from_checkpoint(tmp_path / "ebm", encode_server.url, cache_entries=3) as scorer:
        energies = await scorer.score(STATES[:4], GOAL)
        assert scorer.encoder.cache.max_entries == 3
    assert energies == pytest.approx(reference_energies(tiny_head, STATES[:4], GOAL), rel=1e-5, abs=1e-6)
    assert encode_server.bodies[0]["hidden_size"] == TINY_DIM


def embed_locally(texts: Sequence[str]) -> torch.Tensor:
    return torch.tensor([text_vector(t, TINY_DIM) for t in texts])


def test_in_process_scorer_matches_the_http_scorer_math(tiny_head) -> None:
    forwards = count_forwards(tiny_head)
    scorer = InProcessEnergyScorer(tiny_head, embed_locally)
    energies = scorer.score_sync(STATES, GOAL)
    assert forwards == [len(STATES)]
    assert energies == pytest.approx(reference_energies(tiny_head, STATES, GOAL), rel=1e-5, abs=1e-6)


def test_in_process_scorer_checks_what_the_function_returns(tiny_head) -> None:
    with pytest.raises(EncodeError, match="embedding 2 of 3 .* is the zero vector"):
        InProcessEnergyScorer(tiny_head, lambda texts: torch.cat([embed_locally(texts[:2]), torch.zeros(1, TINY_DIM)])).score_sync(
            STATES[:2], GOAL
        )
    with pytest.raises(EncodeError, match="embeddings are 8 wide, expected 64"):
        InProcessEnergyScorer(tiny_head, lambda texts: torch.ones(len(texts), 8)).score_sync(STATES[:2], GOAL)


def test_score_embeddings_of_no_states_is_empty(tiny_head) -> None:
    scorer = InProcessEnergyScorer(tiny_head, embed_locally)
    assert scorer.score_embeddings(torch.empty(0, TINY_DIM), torch.randn(TINY_DIM)) == []
    with pytest.raises(ScoringError, match=r"state embeddings must be \(N, D\), got shape \(64,\)"):
        scorer.score_embeddings(torch.randn(TINY_DIM), torch.randn(TINY_DIM))


def test_forward_batches_are_capped(tiny_head) -> None:
    forwards = count_forwards(tiny_head)
    scorer = InProcessEnergyScorer(tiny_head, embed_locally, max_forward_batch=5)
    energies = scorer.score_sync(STATES, GOAL)
    assert forwards == [5, 5, 2]
    assert energies == pytest.approx(reference_energies(tiny_head, STATES, GOAL), rel=1e-5, abs=1e-6)


def test_score_embeddings_follows_the_head_dtype() -> None:
    torch.manual_seed(0)
    head = GoalConditionedEnergyHead(EnergyHeadConfig.for_embedding_dim(TINY_DIM)).to(torch.bfloat16)
    scorer = InProcessEnergyScorer(head, embed_locally)
    energies = scorer.score_embeddings(embed_locally(STATES), embed_locally([GOAL])[0])
    assert len(energies) == len(STATES) and all(isinstance(e, float) for e in energies)


def test_value_package_never_imports_django() -> None:
    code = (
        "import importlib, pkgutil, sys, prover.value as v\n"
        "for m in pkgutil.iter_modules(v.__path__): importlib.import_module('prover.value.' + m.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'django'); print(bad); sys.exit(bool(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
