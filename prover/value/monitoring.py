"""Embedding and energy-head health metrics (docs/value-model.md#monitoring) as pure functions of tensors.

linear_probe_accuracy: of BurnQED's three definitions, this is its evaluation script's
(project onto the unit centroid difference, threshold at the mean projection, accuracy over all points).
It needs no solver and no random split, so it is deterministic and comparable between iterations; being
fit and measured on the same points, it is an optimistic bound, which is what a collapse alarm needs.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from enum import Enum

import torch


def _check_pair(positive: torch.Tensor, negative: torch.Tensor) -> None:
    for name, t in (("positive", positive), ("negative", negative)):
        if t.ndim != 2 or t.shape[0] < 1:
            raise ValueError(f"{name} embeddings must be a non-empty (N, D) tensor, got shape {tuple(t.shape)}")
    if positive.shape[1] != negative.shape[1]:
        raise ValueError(f"positive embeddings are {positive.shape[1]} wide but negative ones {negative.shape[1]}")


def centroid_l2(positive: torch.Tensor, negative: torch.Tensor) -> float:
    """||mean(positive) - mean(negative)||_2: how far apart the two classes sit (collapse: it shrinks)."""
    _check_pair(positive, negative)
    return float((positive.double().mean(0) - negative.double().mean(0)).norm())


def linear_probe_accuracy(positive: torch.Tensor, negative: torch.Tensor) -> float:
    """Accuracy of classifying by the projection on the centroid difference, thresholded at its mean."""
    _check_pair(positive, negative)
    pos, neg = positive.double(), negative.double()
    direction = pos.mean(0) - neg.mean(0)
    norm = direction.norm()
    if norm == 0:
        return 0.5
    direction = direction / norm
    projections = torch.cat((pos @ direction, neg @ direction))
    threshold = projections.mean()
    correct = int((pos @ direction > threshold).sum()) + int((neg @ direction <= threshold).sum())
    return correct / projections.numel()


def energy_gap(positive_energy: torch.Tensor, negative_energies: torch.Tensor) -> float:
    """mean(E_neg) - mean(E_pos); positive when the head prefers the positives."""
    return float(negative_energies.double().mean() - positive_energy.double().mean())


def rank_accuracy(positive_energy: torch.Tensor, negative_energies: torch.Tensor) -> float:
    """Fraction of rows whose positive has lower energy than every one of its negatives."""
    pos = positive_energy.reshape(-1, 1)
    if negative_energies.ndim != 2 or negative_energies.shape[0] != pos.shape[0]:
        raise ValueError(f"negative_energies must be (B, K) with B = {pos.shape[0]}, got {tuple(negative_energies.shape)}")
    return float((pos < negative_energies.min(dim=1, keepdim=True).values).double().mean())


def sibling_rank1(
    parents: Sequence[Hashable], energies: Sequence[float], is_positive: Sequence[bool]
) -> tuple[float, int]:
    """EBM rank-1 among siblings: (fraction of decision points whose lowest-energy child is positive, count).

    A decision point is a parent with at least two scored children carrying both labels; others say nothing
    about ranking. For the key "depth 4+" figure, pass only the children at that depth. Terminal children
    must be left out (they have no embedding; docs/value-model.md#embeddings). Ties go to the first child given.
    """
    if not len(parents) == len(energies) == len(is_positive):
        raise ValueError(
            f"parents, energies and is_positive must have one entry per child, got {len(parents)}, "
            f"{len(energies)}, {len(is_positive)}"
        )
    groups: dict[Hashable, list[tuple[float, bool]]] = {}
    for parent, energy, positive in zip(parents, energies, is_positive, strict=True):
        groups.setdefault(parent, []).append((float(energy), bool(positive)))
    correct = total = 0
    for children in groups.values():
        labels = {positive for _, positive in children}
        if len(children) < 2 or labels != {True, False}:
            continue
        total += 1
        correct += min(children, key=lambda child: child[0])[1]
    return (correct / total if total else 0.0), total


class TemperatureHealth(Enum):
    HEALTHY = "healthy"
    OUTSIDE_HEALTHY_RANGE = "outside_healthy_range"
    PINNED_AT_BOUND = "pinned_at_bound"


def temperature_health(
    temperature: float,
    *,
    minimum: float = 0.1,
    maximum: float = 10.0,
    healthy_low: float = 0.5,
    healthy_high: float = 3.0,
) -> TemperatureHealth:
    """tau in [0.5, 3] is healthy; at the clamp floor or ceiling the energy scale is broken
    (docs/value-model.md#temperature)."""
    if temperature <= minimum * (1 + 1e-4) or temperature >= maximum * (1 - 1e-4):
        return TemperatureHealth.PINNED_AT_BOUND
    if healthy_low <= temperature <= healthy_high:
        return TemperatureHealth.HEALTHY
    return TemperatureHealth.OUTSIDE_HEALTHY_RANGE
