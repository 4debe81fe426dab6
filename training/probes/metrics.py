"""Probe metrics as pure functions of embeddings and energies (definitions: docs/probes.md).

centroid_l2 is `prover.value.monitoring.centroid_l2` (one definition in the project); the others live here.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import torch

from prover.value.monitoring import sibling_rank1


def _check(positive: torch.Tensor, negative: torch.Tensor) -> None:
    for name, t in (("positive", positive), ("negative", negative)):
        if t.ndim != 2 or t.shape[0] < 1:
            raise ValueError(f"{name} embeddings must be a non-empty (N, D) tensor, got shape {tuple(t.shape)}")
    if positive.shape[1] != negative.shape[1]:
        raise ValueError(f"positive embeddings are {positive.shape[1]} wide but negative ones {negative.shape[1]}")


def _fit_logistic(x: torch.Tensor, y: torch.Tensor, c: float, max_iter: int) -> tuple[torch.Tensor, torch.Tensor]:
    """L2-regularised logistic regression, objective C * sum(log-loss) + |w|^2 / 2 (bias not penalised), by L-BFGS."""
    w = torch.zeros(x.shape[1], dtype=x.dtype, requires_grad=True)
    b = torch.zeros((), dtype=x.dtype, requires_grad=True)
    optimizer = torch.optim.LBFGS([w, b], max_iter=max_iter, line_search_fn="strong_wolfe", tolerance_grad=1e-9)

    def closure():
        optimizer.zero_grad()
        loss = c * torch.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y, reduction="sum") + 0.5 * (w @ w)
        loss.backward()
        return loss

    optimizer.step(closure)
    return w.detach(), b.detach()


def linear_probe_accuracy(positive: torch.Tensor, negative: torch.Tensor, *, folds: int = 5, seed: int = 42,
                          c: float = 1.0, max_iter: int = 200) -> float:
    """Mean held-out accuracy of logistic regression over stratified k-fold cross-validation.

    Features are standardised with the training fold's mean and deviation. With fewer than `folds` members
    in a class the number of folds drops to that count; with fewer than 2 it is NaN (nothing to hold out).
    """
    _check(positive, negative)
    k = min(folds, positive.shape[0], negative.shape[0])
    if k < 2:
        return math.nan
    x = torch.cat((positive, negative)).double()
    y = torch.cat((torch.ones(positive.shape[0]), torch.zeros(negative.shape[0]))).double()
    rng = random.Random(seed)
    fold_of = torch.empty(len(y), dtype=torch.long)
    for label in (1.0, 0.0):
        members = [i for i in range(len(y)) if y[i] == label]
        rng.shuffle(members)
        for j, i in enumerate(members):
            fold_of[i] = j % k
    correct = 0
    for fold in range(k):
        test = fold_of == fold
        train = ~test
        mean, std = x[train].mean(0), x[train].std(0).clamp(min=1e-8)
        w, b = _fit_logistic((x[train] - mean) / std, y[train], c, max_iter)
        predicted = (((x[test] - mean) / std) @ w + b) > 0
        correct += int((predicted == y[test].bool()).sum())
    return correct / len(y)  # every point is held out exactly once: the mean over folds weighted by fold size


def _mean_cosine(a: torch.Tensor, b: torch.Tensor, *, exclude_diagonal: bool) -> float:
    a = torch.nn.functional.normalize(a.double(), dim=1)
    b = torch.nn.functional.normalize(b.double(), dim=1)
    sims = a @ b.T
    if exclude_diagonal:
        n = sims.shape[0]
        if n < 2:
            return math.nan
        return float((sims.sum() - sims.diagonal().sum()) / (n * (n - 1)))
    return float(sims.mean())


def delta_cosine(positive: torch.Tensor, negative: torch.Tensor, *, n: int = 100) -> float:
    """Mean cosine within the positives (first n, diagonal left out) minus the mean cosine between the first n
    positives and the first n negatives: > 0 when the positives cluster apart from the negatives."""
    _check(positive, negative)
    pos, neg = positive[:n], negative[:n]
    return _mean_cosine(pos, pos, exclude_diagonal=True) - _mean_cosine(pos, neg, exclude_diagonal=False)


def effective_dimension(embeddings: torch.Tensor) -> float:
    """(sum of covariance eigenvalues)^2 / sum of their squares: k for variance spread evenly over k directions,
    1 when it all lies along one (a collapsed space)."""
    if embeddings.ndim != 2 or embeddings.shape[0] < 2:
        raise ValueError(f"effective_dimension needs an (N >= 2, D) tensor, got {tuple(embeddings.shape)}")
    x = embeddings.double()
    x = x - x.mean(0)
    # The Gram matrix has the covariance's non-zero eigenvalues and is N x N (N is a few hundred, D up to 4096).
    eig = torch.linalg.eigvalsh(x @ x.T / (x.shape[0] - 1)).clamp(min=0)
    total = float(eig.sum())
    return total * total / float((eig * eig).sum()) if total > 0 else 0.0


def rank1_at_decision_points(energies: Sequence[Sequence[float]], positives: Sequence[Sequence[bool]],
                             depths: Sequence[Sequence[int]], *, min_depth: int = 0) -> dict[str, float]:
    """Rank-1 (the lowest-energy child is positive), its random baseline mean(1/siblings), the lift over that
    baseline, and the energy gap, over decision points; children below `min_depth` are left out first and a
    point still needs two children of both labels to count."""
    parents, flat_e, flat_p = [], [], []
    groups: dict[int, list[tuple[float, bool]]] = {}
    for point, (es, ps, ds) in enumerate(zip(energies, positives, depths, strict=True)):
        for e, p, d in zip(es, ps, ds, strict=True):
            if d >= min_depth:
                parents.append(point)
                flat_e.append(float(e))
                flat_p.append(bool(p))
                groups.setdefault(point, []).append((float(e), bool(p)))
    rank1, count = sibling_rank1(parents, flat_e, flat_p)
    counted = [g for g in groups.values() if len(g) >= 2 and {p for _, p in g} == {True, False}]
    if not counted:
        return {"rank1": math.nan, "random": math.nan, "lift": math.nan, "energy_gap": math.nan, "points": 0.0}
    baseline = sum(1 / len(g) for g in counted) / len(counted)
    pos_e = [e for g in counted for e, p in g if p]
    neg_e = [e for g in counted for e, p in g if not p]
    return {"rank1": rank1, "random": baseline, "lift": rank1 - baseline,
            "energy_gap": sum(neg_e) / len(neg_e) - sum(pos_e) / len(pos_e), "points": float(count)}
