"""End to end: the scorer over the project's real /encode server (prover.serving on a tiny random Llama)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import torch

from prover.serving.tiny_model import build_tiny_llama
from prover.value.encoder_client import EncoderClient
from prover.value.energy_head import EnergyHeadConfig, GoalConditionedEnergyHead
from prover.value.scorer import EnergyScorer
from tests.serving.conftest import RunningServer, start_server, stop_server

GOAL = "a b : ℝ\nh₀ : 0 < a ∧ 0 < b\n⊢ a * b > 0"
STATES = ["a b : ℝ\nha : 0 < a\nhb : 0 < b\n⊢ a * b > 0", "a b : ℝ\n⊢ 0 < a * b", "case h\na b : ℝ\n⊢ a > 0"]


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    model_dir = build_tiny_llama(tmp_path_factory.mktemp("value-tiny-llama"), seed=1)
    running = start_server(model_dir, "--dtype", "fp32", "--seed", "0")
    yield running
    stop_server(running)


def encode_requests(server: RunningServer) -> int:
    return httpx.get(f"{server.url}/model_info", timeout=60).json()["stats"]["encode_requests"]


async def test_scorer_scores_a_round_with_one_request_to_the_real_server(serving) -> None:
    torch.manual_seed(0)
    head = GoalConditionedEnergyHead(EnergyHeadConfig.for_embedding_dim(64, backbone_id="tests/tiny-llama"))
    before = encode_requests(serving)
    async with EncoderClient(serving.url, hidden_size=64) as client:
        scorer = EnergyScorer(head, client)
        energies = await scorer.score(STATES, GOAL)
        again = await scorer.score(STATES, GOAL)
    assert encode_requests(serving) - before == 1  # the second round came from the cache
    assert again == energies

    direct = httpx.post(f"{serving.url}/encode", json={"text": [GOAL, *STATES], "hidden_size": 64}, timeout=60)
    vectors = torch.tensor(direct.json()["embeddings"])
    with torch.inference_mode():
        expected = head(vectors[1:], vectors[0]).reshape(-1).tolist()
    assert energies == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert len(set(energies)) == len(STATES)
