"""The head can learn "lower energy = provable" on a toy goal-conditioned set, with InfoNCE and its own tau."""

from __future__ import annotations

import torch

from prover.value.energy_head import EnergyHeadConfig, GoalConditionedEnergyHead
from prover.value.losses import info_nce_loss
from prover.value.monitoring import energy_gap, rank_accuracy

DIM = 32
NEGATIVES = 3


def toy_batch(generator: torch.Generator, batch: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Goals are random; a provable state points along its goal, an unprovable one is unrelated to it."""
    goals = torch.randn(batch, DIM, generator=generator)
    positives = goals + 0.3 * torch.randn(batch, DIM, generator=generator)
    negatives = torch.randn(batch, NEGATIVES, DIM, generator=generator)
    return goals, positives, negatives


def energies(head: GoalConditionedEnergyHead, goals, positives, negatives) -> tuple[torch.Tensor, torch.Tensor]:
    batch = goals.shape[0]
    e_pos = head(positives, goals)
    e_neg = head(negatives.reshape(batch * NEGATIVES, DIM), goals.repeat_interleave(NEGATIVES, dim=0))
    return e_pos, e_neg.reshape(batch, NEGATIVES)


def test_energy_ordering_is_learned_in_a_few_dozen_steps() -> None:
    torch.manual_seed(0)
    head = GoalConditionedEnergyHead(EnergyHeadConfig.for_embedding_dim(DIM, backbone_id="tests/toy"))
    optimiser = torch.optim.AdamW(head.parameters(), lr=3e-3)
    train, held_out = torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)
    evaluation = toy_batch(held_out, 256)

    head.eval()
    with torch.no_grad():
        before = rank_accuracy(*energies(head, *evaluation))

    head.train()
    for _ in range(40):
        e_pos, e_neg = energies(head, *toy_batch(train, 64))
        loss = info_nce_loss(e_pos, e_neg)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(head.parameters(), 1.0)
        optimiser.step()

    head.eval()
    with torch.no_grad():
        e_pos, e_neg = energies(head, *evaluation)
    after = rank_accuracy(e_pos, e_neg)
    # Chance is 1/(K+1) = 0.25: the untrained head is near it, the trained one ranks held-out positives first.
    assert before < 0.6
    assert after >= 0.95
    assert energy_gap(e_pos, e_neg) > 0
    assert float(head.temperature.detach()) != 1.0  # the temperature took part in training
