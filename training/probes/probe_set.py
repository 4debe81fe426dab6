"""The fixed probe set: built once from trajectory files, saved as JSON, and reused for every checkpoint
(docs/probes.md#probe-set).

Two parts:
  states           unique non-empty, non-terminal states deeper than 1, up to `per_class` per label, seeded
                   (the separation probe: centroid_l2, linear_probe_acc, delta_cosine, effective dimension);
  decision_points  parents with at least two non-terminal children carrying both labels, each with its
                   theorem's goal (the root state), up to `max_decision_points`, seeded (EBM rank-1).
A state that carries both labels (the same text on and off a proof path) counts as positive only.
"""

from __future__ import annotations

import json
import os
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prover.engine.trajectory import TrajectoryError, read_trajectories

FORMAT = "burnqed.probe_set"
VERSION = 1
_COLUMNS = ("theorem_name", "state_id", "state_pp", "parent_state_id", "label", "depth_from_root", "is_proof_complete")


class ProbeSetError(ValueError):
    """A probe set cannot be built or read; the message says which file and why."""


@dataclass(frozen=True)
class ProbeState:
    text: str
    positive: bool
    depth: int


@dataclass(frozen=True)
class DecisionPoint:
    goal: str
    children: tuple[ProbeState, ...]


@dataclass
class ProbeSet:
    states: list[ProbeState]
    decision_points: list[DecisionPoint]
    meta: dict = field(default_factory=dict)

    @property
    def positive(self) -> list[str]:
        return [s.text for s in self.states if s.positive]

    @property
    def negative(self) -> list[str]:
        return [s.text for s in self.states if not s.positive]

    def texts(self) -> list[str]:
        """Every distinct text the probes embed, in a stable order."""
        seen: dict[str, None] = dict.fromkeys(s.text for s in self.states)
        for point in self.decision_points:
            seen[point.goal] = None
            seen.update(dict.fromkeys(c.text for c in point.children))
        return list(seen)


def _rows(paths: Sequence[str | os.PathLike]) -> list[dict]:
    rows = []
    for index, path in enumerate(paths):
        try:
            table = read_trajectories(Path(path))
        except TrajectoryError as exc:
            raise ProbeSetError(f"{exc} (a probe set needs columns {list(_COLUMNS)})") from None
        columns = {name: table.column(name).to_pylist() for name in _COLUMNS}
        for i in range(len(table)):
            if columns["label"][i] in ("positive", "negative"):
                rows.append({"source": index, **{name: columns[name][i] for name in _COLUMNS}})
    return rows


def _is_state(row: dict) -> bool:
    return bool((row["state_pp"] or "").strip()) and not row["is_proof_complete"]


def build_probe_set(trajectory_files: Sequence[str | os.PathLike], *, per_class: int = 200, seed: int = 42,
                    min_depth: int = 2, max_decision_points: int = 200) -> ProbeSet:
    if isinstance(trajectory_files, (str, os.PathLike)):
        trajectory_files = [trajectory_files]
    if not trajectory_files:
        raise ProbeSetError("no trajectory files given to build a probe set from")
    if per_class < 1 or max_decision_points < 0:
        raise ProbeSetError(f"per_class must be >= 1 and max_decision_points >= 0, got {per_class}, {max_decision_points}")
    rows = _rows(trajectory_files)
    names = ", ".join(str(p) for p in trajectory_files)
    rng = random.Random(seed)
    deep = [r for r in rows if _is_state(r) and r["depth_from_root"] >= min_depth]
    depth_of: dict[str, int] = {}
    for r in deep:
        depth_of.setdefault(r["state_pp"], r["depth_from_root"])
    positive = sorted({r["state_pp"] for r in deep if r["label"] == "positive"})
    negative = sorted({r["state_pp"] for r in deep if r["label"] == "negative"} - set(positive))
    if not positive or not negative:
        raise ProbeSetError(f"{names}: the probe set needs states of both labels at depth >= {min_depth}; found "
                            f"{len(positive)} positive and {len(negative)} negative")
    chosen_pos = rng.sample(positive, min(per_class, len(positive)))
    chosen_neg = rng.sample(negative, min(per_class, len(negative)))
    states = [ProbeState(t, True, depth_of[t]) for t in chosen_pos] + [ProbeState(t, False, depth_of[t]) for t in chosen_neg]

    goals = {}
    for r in rows:
        if r["parent_state_id"] is None and r["depth_from_root"] == 0 and _is_state(r):
            goals.setdefault((r["source"], r["theorem_name"]), r["state_pp"])
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if r["parent_state_id"] is not None and _is_state(r) and (r["source"], r["theorem_name"]) in goals:
            groups[(r["source"], r["theorem_name"], r["parent_state_id"])].append(r)
    points = []
    for key in sorted(groups, key=lambda k: (k[0], k[1], k[2])):
        children = groups[key]
        if len(children) >= 2 and {c["label"] for c in children} == {"positive", "negative"}:
            points.append(DecisionPoint(goals[key[:2]], tuple(
                ProbeState(c["state_pp"], c["label"] == "positive", c["depth_from_root"]) for c in children)))
    if len(points) > max_decision_points:
        points = rng.sample(points, max_decision_points)
    meta = {"files": [str(p) for p in trajectory_files], "per_class": per_class, "seed": seed, "min_depth": min_depth,
            "positive": len(chosen_pos), "negative": len(chosen_neg), "decision_points": len(points)}
    return ProbeSet(states, points, meta)


def save_probe_set(probe_set: ProbeSet, path: str | os.PathLike) -> Path:
    """Write atomically as JSON (the service registers the file as an artifact of kind probe_set)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "format": FORMAT, "version": VERSION, "meta": probe_set.meta,
        "states": [{"state_pp": s.text, "label": "positive" if s.positive else "negative", "depth": s.depth}
                   for s in probe_set.states],
        "decision_points": [{"goal": p.goal, "children": [
            {"state_pp": c.text, "label": "positive" if c.positive else "negative", "depth": c.depth}
            for c in p.children]} for p in probe_set.decision_points],
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def _state(entry: dict, where: str) -> ProbeState:
    if not isinstance(entry, dict) or not isinstance(entry.get("state_pp"), str) or not entry["state_pp"].strip() \
            or entry.get("label") not in ("positive", "negative") or not isinstance(entry.get("depth"), int):
        raise ProbeSetError(f"{where}: expected {{state_pp: non-empty text, label: positive|negative, depth: int}}, "
                            f"got {str(entry)[:120]}")
    return ProbeState(entry["state_pp"], entry["label"] == "positive", entry["depth"])


def load_probe_set(path: str | os.PathLike) -> ProbeSet:
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProbeSetError(f"{path}: not a readable probe set: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT or document.get("version") != VERSION:
        raise ProbeSetError(f"{path}: not a probe set (expected format {FORMAT!r} version {VERSION})")
    states = [_state(e, f"{path} states[{i}]") for i, e in enumerate(document.get("states") or [])]
    points = []
    for i, p in enumerate(document.get("decision_points") or []):
        if not isinstance(p, dict) or not isinstance(p.get("goal"), str) or not isinstance(p.get("children"), list):
            raise ProbeSetError(f"{path} decision_points[{i}]: expected {{goal, children}}")
        points.append(DecisionPoint(p["goal"], tuple(_state(c, f"{path} decision_points[{i}].children[{j}]")
                                                     for j, c in enumerate(p["children"]))))
    if not any(s.positive for s in states) or all(s.positive for s in states):
        raise ProbeSetError(f"{path}: the probe set needs states of both labels")
    return ProbeSet(states, points, document.get("meta") or {})
