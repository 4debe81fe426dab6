"""Probes on constructed embeddings return known values; the probe set is built once, seeded, and round-trips."""

from __future__ import annotations

import math

import pytest
import torch

from tests.training.ebm_helpers import toy_rows, write_rows
from training.probes import (
    DecisionPoint,
    ProbeSet,
    ProbeSetError,
    ProbeState,
    build_probe_set,
    compute_probes,
    delta_cosine,
    effective_dimension,
    linear_probe_accuracy,
    load_probe_set,
    rank1_at_decision_points,
    save_probe_set,
)


def clusters(distance: float, n: int = 200, dim: int = 32, noise: float = 0.3, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    pos = torch.randn(n, dim, generator=g) * noise
    neg = torch.randn(n, dim, generator=g) * noise
    pos[:, 0] += distance
    return pos, neg


def test_two_gaussian_clusters_at_a_known_distance():
    from prover.value.monitoring import centroid_l2

    pos, neg = clusters(5.0)
    # each centroid is off by noise/sqrt(n) per coordinate: |error| ~ 0.3 * sqrt(2 * 32 / 200) = 0.17
    assert centroid_l2(pos, neg) == pytest.approx(5.0, abs=0.3)
    assert linear_probe_accuracy(pos, neg) == 1.0
    assert delta_cosine(pos, neg) > 0.5


def test_identical_clusters_are_not_separable():
    pos, neg = clusters(0.0)
    assert 0.35 < linear_probe_accuracy(pos, neg) < 0.65
    assert abs(delta_cosine(pos, neg)) < 0.05


def test_linear_probe_is_held_out_not_memorised():
    """Few points in many dimensions: a fit on all points separates them perfectly, held-out folds do not."""
    g = torch.Generator().manual_seed(1)
    pos, neg = torch.randn(20, 200, generator=g), torch.randn(20, 200, generator=g)
    assert linear_probe_accuracy(pos, neg) < 0.8


def test_effective_dimension_counts_the_directions_variance_spreads_over():
    g = torch.Generator().manual_seed(2)
    spread = torch.zeros(2000, 64)
    spread[:, :8] = torch.randn(2000, 8, generator=g)
    assert effective_dimension(spread) == pytest.approx(8.0, rel=0.05)
    line = torch.randn(500, 1, generator=g) * torch.ones(1, 64)
    assert effective_dimension(line) == pytest.approx(1.0, abs=1e-6)


def test_rank1_on_a_hand_made_sibling_set():
    # three decision points; the lowest energy is the positive in the first two only
    energies = [[0.1, 0.9, 0.8], [0.2, 0.5], [0.7, 0.3, 0.6, 0.9]]
    positives = [[True, False, False], [True, False], [True, False, False, False]]
    depths = [[4, 4, 4], [2, 2], [5, 5, 5, 5]]
    overall = rank1_at_decision_points(energies, positives, depths)
    assert overall["rank1"] == pytest.approx(2 / 3)
    assert overall["random"] == pytest.approx((1 / 3 + 1 / 2 + 1 / 4) / 3)
    assert overall["points"] == 3
    deep = rank1_at_decision_points(energies, positives, depths, min_depth=4)
    assert deep["rank1"] == pytest.approx(1 / 2) and deep["random"] == pytest.approx((1 / 3 + 1 / 4) / 2)
    pos_mean, neg_mean = (0.1 + 0.2 + 0.7) / 3, (0.9 + 0.8 + 0.5 + 0.3 + 0.6 + 0.9) / 6
    assert overall["energy_gap"] == pytest.approx(neg_mean - pos_mean)


class FirstCoordinateHead(torch.nn.Module):
    """Energy = the state's first coordinate (the goal is ignored)."""

    def forward(self, z_state, z_goal):
        return z_state[:, :1]


def test_compute_probes_names_and_values():
    vectors = {"goal": [0.0, 1.0], "p1": [0.1, 0.0], "n1": [0.9, 0.0], "p2": [0.8, 0.1], "n2": [0.2, 0.1],
               "p3": [0.05, 0.2], "n3": [0.95, 0.3]}
    states = [ProbeState(t, t.startswith("p"), 4) for t in ("p1", "p2", "p3", "n1", "n2", "n3")]
    points = [DecisionPoint("goal", (ProbeState("p1", True, 4), ProbeState("n1", False, 4))),
              DecisionPoint("goal", (ProbeState("p2", True, 5), ProbeState("n2", False, 5)))]
    probe_set = ProbeSet(states, points)
    asked = []

    def embed(texts):
        asked.extend(texts)
        return torch.tensor([vectors[t] for t in texts])

    metrics = compute_probes(embed, probe_set, heads={"A": FirstCoordinateHead(), "B": FirstCoordinateHead()})
    assert len(asked) == len(set(asked))  # each text embedded once
    assert metrics["probe/rank1"] == 0.5 and metrics["probe/rank1_random"] == 0.5
    assert metrics["probe/rank1_depth4"] == 0.5 and metrics["probe/A/rank1_depth4"] == 0.5
    assert metrics["probe/sibling_discrimination"] == pytest.approx(0.0)
    pos = torch.tensor([vectors[t] for t in ("p1", "p2", "p3")])
    neg = torch.tensor([vectors[t] for t in ("n1", "n2", "n3")])
    assert metrics["probe/centroid_l2"] == pytest.approx(float((pos.mean(0) - neg.mean(0)).norm()), rel=1e-6)
    assert math.isnan(linear_probe_accuracy(pos[:1], neg))  # one point per class: nothing to hold out


def test_probe_set_is_seeded_deep_unique_and_round_trips(tmp_path):
    path = write_rows(tmp_path / "t.parquet", toy_rows(30, width=4, depth=5))
    a = build_probe_set([path], per_class=20, seed=7)
    b = build_probe_set([path], per_class=20, seed=7)
    assert [s.text for s in a.states] == [s.text for s in b.states]
    assert len(a.positive) == len(a.negative) == 20
    assert all(s.depth >= 2 for s in a.states) and len({s.text for s in a.states}) == 40
    assert all("good" in t for t in a.positive) and all("bad" in t for t in a.negative)
    assert a.decision_points and all({c.positive for c in p.children} == {True, False} for p in a.decision_points)
    saved = load_probe_set(save_probe_set(a, tmp_path / "probe_set.json"))
    assert saved.states == a.states and saved.decision_points == a.decision_points


def test_bad_probe_sets_say_what(tmp_path):
    only_negative = [r for r in toy_rows(3) if r["label"] == "negative" or r["depth_from_root"] == 0]
    with pytest.raises(ProbeSetError, match="both labels"):
        build_probe_set([write_rows(tmp_path / "neg.parquet", only_negative)])
    (tmp_path / "junk.json").write_text("{}")
    with pytest.raises(ProbeSetError, match="not a probe set"):
        load_probe_set(tmp_path / "junk.json")


def test_sft_runs_probe_every_n_steps_and_at_the_end(tmp_path):
    from tests.training.sft_helpers import pair_rows, tiny_model_dir, write_jsonl
    from training.sft import SFTConfig, train_sft

    probe_file = save_probe_set(build_probe_set([write_rows(tmp_path / "t.parquet", toy_rows(4, depth=4))]),
                                tmp_path / "probe_set.json")
    seen = []
    train_sft(SFTConfig(model_path=str(tiny_model_dir()), data_files=[str(write_jsonl(tmp_path / "p.jsonl", pair_rows(6)))],
                        output_dir=str(tmp_path / "out"), prompt_format="goal-proofstep", max_steps=6, batch_size=2,
                        grad_accum=1, learning_rate=1e-3, lora_r=4, lora_alpha=8, max_length=128, val_fraction=0.0,
                        eval_every=0, log_every=3, dtype="fp32", probe_set=str(probe_file), probe_every=2),
              on_metric=lambda n, v, s: seen.append((n, v, s)))
    assert [s for n, _, s in seen if n == "probe/centroid_l2"] == [2, 4, 6]
    assert all(0 <= v <= 1 for n, v, _ in seen if n == "probe/linear_probe_acc")
