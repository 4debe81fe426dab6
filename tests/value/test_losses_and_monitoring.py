"""InfoNCE without a temperature of its own, and the monitoring metrics of docs/value-model.md#monitoring."""

from __future__ import annotations

import math

import pytest
import torch

from prover.value.losses import info_nce_loss
from prover.value.monitoring import (
    TemperatureHealth,
    centroid_l2,
    energy_gap,
    linear_probe_accuracy,
    rank_accuracy,
    sibling_rank1,
    temperature_health,
)


def test_info_nce_is_cross_entropy_over_negated_energies() -> None:
    e_pos = torch.tensor([[0.0], [2.0]])
    e_neg = torch.tensor([[1.0, 3.0], [0.0, 2.0]])
    expected_0 = -math.log(math.exp(0) / (math.exp(0) + math.exp(-1) + math.exp(-3)))
    expected_1 = -math.log(math.exp(-2) / (math.exp(-2) + math.exp(0) + math.exp(-2)))
    assert float(info_nce_loss(e_pos, e_neg)) == pytest.approx((expected_0 + expected_1) / 2, rel=1e-6)
    assert float(info_nce_loss(e_pos.squeeze(1), e_neg)) == pytest.approx(float(info_nce_loss(e_pos, e_neg)))


def test_info_nce_rejects_mismatched_batches() -> None:
    with pytest.raises(ValueError, match="negative_energies must be"):
        info_nce_loss(torch.zeros(3, 1), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="at least one negative"):
        info_nce_loss(torch.zeros(3, 1), torch.zeros(3, 0))


def test_centroid_l2_and_linear_probe_on_known_clouds() -> None:
    positive = torch.tensor([[2.0, 0.0], [4.0, 0.0]])
    negative = torch.tensor([[0.0, 0.0], [0.0, 2.0]])
    # centroids (3, 0) and (0, 1)
    assert centroid_l2(positive, negative) == pytest.approx(math.sqrt(10))
    assert linear_probe_accuracy(positive, negative) == 1.0
    identical = torch.randn(10, 4)
    assert centroid_l2(identical, identical) == 0.0
    assert linear_probe_accuracy(identical, identical) == 0.5


def test_probe_accuracy_falls_when_classes_overlap() -> None:
    generator = torch.Generator().manual_seed(0)
    separated = linear_probe_accuracy(torch.randn(200, 8, generator=generator) + 3, torch.randn(200, 8, generator=generator))
    collapsed = linear_probe_accuracy(
        torch.randn(200, 8, generator=generator) + 0.05, torch.randn(200, 8, generator=generator)
    )
    assert separated > 0.95 and collapsed < 0.7


def test_energy_metrics() -> None:
    e_pos = torch.tensor([0.0, 5.0])
    e_neg = torch.tensor([[1.0, 2.0], [4.0, 6.0]])
    assert rank_accuracy(e_pos, e_neg) == 0.5
    assert energy_gap(e_pos, e_neg) == pytest.approx(3.25 - 2.5)


def test_temperature_health_bands() -> None:
    assert temperature_health(1.0) is TemperatureHealth.HEALTHY
    assert temperature_health(4.0) is TemperatureHealth.OUTSIDE_HEALTHY_RANGE
    assert temperature_health(0.1) is TemperatureHealth.PINNED_AT_BOUND
    assert temperature_health(10.0) is TemperatureHealth.PINNED_AT_BOUND


def test_metric_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="positive embeddings are 3 wide but negative ones 4"):
        centroid_l2(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="non-empty"):
        linear_probe_accuracy(torch.zeros(0, 3), torch.zeros(2, 3))


def test_sibling_rank1_counts_only_informative_decision_points() -> None:
    parents = ["p1", "p1", "p1", "p2", "p2", "p3", "p3", "p4"]
    energies = [0.5, 0.1, 0.9, 2.0, 1.0, 0.3, 0.4, 0.0]
    positive = [True, False, False, True, False, False, False, True]
    # p1: lowest is a negative (wrong); p2: lowest is a negative (wrong); p3 all negative, p4 alone: skipped.
    assert sibling_rank1(parents, energies, positive) == (0.0, 2)
    energies[0] = 0.0
    assert sibling_rank1(parents, energies, positive) == (0.5, 2)
    assert sibling_rank1([], [], []) == (0.0, 0)
    with pytest.raises(ValueError, match="one entry per child, got 2, 1, 2"):
        sibling_rank1(["a", "a"], [1.0], [True, False])
