"""EBM training samples from trajectory Parquet files (docs/training.md#samples).

One sample per positive state (label "positive", non-empty `state_pp`, not a terminal: terminals have no
state text) with K negatives drawn in three tiers (docs/training.md#negative-tiers):
  hard   negative siblings: same file, same theorem, same parent as the positive;
  medium other negatives of the same theorem;
  easy   negatives of other theorems (of the same split: validation never borrows from training).
A tier that runs short rolls into the next, and the rest is padded from every negative of the split.
Draws are without replacement inside a tier while it lasts. The goal of a theorem is its root state's
text (depth 0, no parent). The split is by theorem name (`theorem_data.splits`, shared with SFT).
"""

from __future__ import annotations

import hashlib
import os
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prover.engine.trajectory import TrajectoryError, read_trajectories
from theorem_data.splits import SPLIT_SALT, split_by_name

REQUIRED_COLUMNS = ("theorem_name", "state_id", "state_pp", "parent_state_id", "label", "depth_from_root",
                    "is_proof_complete")


class SampleError(ValueError):
    """The trajectory files cannot give EBM samples; the message says which file and why."""


@dataclass(frozen=True)
class StateRecord:
    source: int  # index of the file it came from (state ids are only unique within a file and theorem)
    theorem: str
    state_id: int
    parent_id: int | None
    text: str
    positive: bool
    depth: int
    terminal: bool

    @property
    def parent_key(self) -> tuple[int, str, int | None]:
        return (self.source, self.theorem, self.parent_id)


@dataclass(frozen=True)
class EbmSample:
    theorem: str
    goal: str
    positive: str
    negatives: tuple[str, ...]
    kinds: tuple[str, ...]  # "hard" / "medium" / "easy" / "pad", one per negative
    depth: int


@dataclass(frozen=True)
class RankChild:
    """A scored child at a validation decision point (for sibling rank-1)."""

    parent: tuple[int, str, int | None]
    goal: str
    text: str
    positive: bool
    depth: int


@dataclass(frozen=True)
class SampleConfig:
    negatives_per_positive: int = 7
    hard_ratio: float = 0.6
    medium_ratio: float = 0.3
    val_fraction: float = 0.05
    split_salt: str = SPLIT_SALT  # the same salt as SFT, so both hold out the same theorems
    seed: int = 42
    probe_per_class: int = 200
    probe_min_depth: int = 2
    # False: each sample gets round(K*hard) hard and round(K*medium) medium negatives (BurnQED's EBM sampler).
    # True: each of the K slots draws its tier with those probabilities, so the mix holds on average even
    # when K is too small to express it (K = 3 in joint training: 60/30/10 cannot be rounded per sample).
    stochastic_tiers: bool = False

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.negatives_per_positive, int) or self.negatives_per_positive < 1:
            problems.append(f"negatives_per_positive must be an int >= 1, got {self.negatives_per_positive!r}")
        if not (0 <= self.hard_ratio <= 1 and 0 <= self.medium_ratio <= 1 and self.hard_ratio + self.medium_ratio <= 1):
            problems.append(f"hard_ratio and medium_ratio must be in [0, 1] with a sum <= 1, got "
                            f"{self.hard_ratio!r} and {self.medium_ratio!r}")
        if not 0 <= self.val_fraction < 1:
            problems.append(f"val_fraction must be in [0, 1), got {self.val_fraction!r}")
        if self.probe_per_class < 1:
            problems.append(f"probe_per_class must be >= 1, got {self.probe_per_class!r}")
        if problems:
            raise ValueError("invalid SampleConfig: " + "; ".join(problems))


@dataclass
class EbmDataset:
    train: list[EbmSample]
    validation: list[EbmSample]
    train_theorems: list[str]
    validation_theorems: list[str]
    goals: dict[str, str]
    rank_children: list[RankChild]  # validation children at decision points with both labels
    probe_positive: list[str]
    probe_negative: list[str]
    files: list[dict] = field(default_factory=list)
    split: dict = field(default_factory=dict)

    def texts(self) -> list[str]:
        """Every distinct text the loop embeds, in a stable order (never an empty one)."""
        seen: dict[str, None] = {}
        for sample in (*self.train, *self.validation):
            seen[sample.goal] = None
            seen[sample.positive] = None
            seen.update(dict.fromkeys(sample.negatives))
        for child in self.rank_children:
            seen[child.goal] = None
            seen[child.text] = None
        seen.update(dict.fromkeys(self.probe_positive))
        seen.update(dict.fromkeys(self.probe_negative))
        return list(seen)


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_records(paths: Sequence[str | os.PathLike]) -> tuple[list[StateRecord], list[dict]]:
    """All labelled rows of `paths` ("unknown" labels are skipped) and a description of each file."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if not paths:
        raise SampleError("no trajectory files given")
    records: list[StateRecord] = []
    files: list[dict] = []
    for index, path in enumerate(paths):
        path = Path(path)
        try:
            table = read_trajectories(path)
        except TrajectoryError as exc:
            raise SampleError(f"{exc} (EBM samples need columns {list(REQUIRED_COLUMNS)})") from None
        columns = {name: table.column(name).to_pylist() for name in REQUIRED_COLUMNS}
        count = 0
        for i in range(len(table)):
            label = columns["label"][i]
            if label not in ("positive", "negative"):
                continue
            count += 1
            records.append(StateRecord(
                source=index, theorem=columns["theorem_name"][i], state_id=int(columns["state_id"][i]),
                parent_id=columns["parent_state_id"][i], text=columns["state_pp"][i] or "",
                positive=label == "positive", depth=int(columns["depth_from_root"][i]),
                terminal=bool(columns["is_proof_complete"][i]),
            ))
        files.append({"path": str(path), "sha256": file_sha256(path), "rows": len(table), "labelled_rows": count})
    return records, files


def _is_state(record: StateRecord) -> bool:
    return bool(record.text.strip()) and not record.terminal


def _goals(records: list[StateRecord]) -> dict[str, str]:
    goals: dict[str, str] = {}
    for r in records:
        if r.parent_id is None and r.depth == 0 and r.text.strip() and r.theorem not in goals:
            goals[r.theorem] = r.text
    return goals


def _draw(rng: random.Random, pool: list[str], n: int) -> list[str]:
    if n <= 0 or not pool:
        return []
    return rng.sample(pool, n) if n <= len(pool) else list(pool)


def _draw_excluding(rng: random.Random, pool: list[str], n: int, excluded: set[str]) -> list[str]:
    """Up to `n` distinct texts of `pool` that are not in `excluded`.

    Rejection sampling keeps a draw independent of the pool's size (a run has ~1M negatives); when the
    excluded texts are a large part of the pool it filters the pool instead.
    """
    if n <= 0 or not pool:
        return []
    if len(excluded) * 2 >= len(pool):
        return _draw(rng, [t for t in pool if t not in excluded], n)
    chosen: dict[str, None] = {}
    for _ in range(20 * n):
        if len(chosen) == n:
            break
        text = pool[rng.randrange(len(pool))]
        if text not in excluded:
            chosen[text] = None
    return list(chosen)


def _pad(rng: random.Random, pool: list[str], n: int, excluded: str) -> list[str]:
    """`n` draws with replacement from `pool` other than `excluded` ([] if nothing else is there)."""
    if pool == [excluded] or not pool:
        return []
    out: list[str] = []
    while len(out) < n:
        text = pool[rng.randrange(len(pool))]
        if text != excluded:
            out.append(text)
    return out


def _samples_for(records: list[StateRecord], theorems: set[str], goals: dict[str, str], config: SampleConfig,
                 rng: random.Random) -> list[EbmSample]:
    mine = [r for r in records if r.theorem in theorems and _is_state(r) and r.theorem in goals]
    negatives = [r for r in mine if not r.positive]
    if not negatives:
        return []
    by_parent: dict[tuple, list[str]] = defaultdict(list)
    by_theorem: dict[str, list[str]] = defaultdict(list)
    for r in negatives:
        by_parent[r.parent_key].append(r.text)
        by_theorem[r.theorem].append(r.text)
    all_negatives = sorted({r.text for r in negatives})
    theorem_sets = {name: set(texts) for name, texts in by_theorem.items()}
    theorem_sets.update({r.theorem: set() for r in mine if r.theorem not in theorem_sets})
    k = config.negatives_per_positive
    want_hard = round(k * config.hard_ratio)
    want_medium = round(k * config.medium_ratio)
    samples = []
    for pos in (r for r in mine if r.positive):
        if config.stochastic_tiers:
            draws = [rng.random() for _ in range(k)]
            want_hard = sum(u < config.hard_ratio for u in draws)
            want_medium = sum(config.hard_ratio <= u < config.hard_ratio + config.medium_ratio for u in draws)
        hard_pool = sorted(set(by_parent.get(pos.parent_key, [])) - {pos.text}) if pos.parent_id is not None else []
        hard = _draw(rng, hard_pool, want_hard)
        medium_pool = sorted(set(by_theorem.get(pos.theorem, [])) - set(hard_pool) - {pos.text})
        medium = _draw(rng, medium_pool, want_medium + want_hard - len(hard))
        own = theorem_sets[pos.theorem] | {pos.text}
        easy = _draw_excluding(rng, all_negatives, k - len(hard) - len(medium), own)
        chosen = hard + medium + easy
        kinds = ["hard"] * len(hard) + ["medium"] * len(medium) + ["easy"] * len(easy)
        if len(chosen) < k:
            pad = _pad(rng, all_negatives, k - len(chosen), pos.text)
            if not pad:
                continue
            chosen += pad
            kinds += ["pad"] * len(pad)
        samples.append(EbmSample(theorem=pos.theorem, goal=goals[pos.theorem], positive=pos.text,
                                 negatives=tuple(chosen), kinds=tuple(kinds), depth=pos.depth))
    return samples


def _rank_children(records: list[StateRecord], theorems: set[str], goals: dict[str, str]) -> list[RankChild]:
    groups: dict[tuple, list[StateRecord]] = defaultdict(list)
    for r in records:
        if r.theorem in theorems and r.theorem in goals and r.parent_id is not None and _is_state(r):
            groups[r.parent_key].append(r)
    out = []
    for key, children in groups.items():
        if len(children) >= 2 and {c.positive for c in children} == {True, False}:
            out.extend(RankChild(parent=key, goal=goals[c.theorem], text=c.text, positive=c.positive, depth=c.depth)
                       for c in children)
    return out


def _probe(records: list[StateRecord], config: SampleConfig) -> tuple[list[str], list[str]]:
    """BurnQED's separation probe: unique non-empty states deeper than 1, up to N per class, seeded
    (docs/value-model.md#monitoring)."""
    rng = random.Random(config.seed)
    deep = [r for r in records if _is_state(r) and r.depth >= config.probe_min_depth]
    positive = sorted({r.text for r in deep if r.positive})
    negative = sorted({r.text for r in deep if not r.positive} - set(positive))
    return (_draw(rng, positive, config.probe_per_class), _draw(rng, negative, config.probe_per_class))


def build_samples(paths: Sequence[str | os.PathLike], config: SampleConfig | None = None) -> EbmDataset:
    """Samples, split by theorem name, from one or more trajectory files."""
    config = config or SampleConfig()
    records, files = load_records(paths)
    names = ", ".join(f["path"] for f in files)
    if not any(r.positive and _is_state(r) for r in records):
        raise SampleError(f"{names}: no positive non-terminal state with text: nothing was proved, so there is "
                          "nothing to contrast (EBM samples need at least one proved theorem)")
    if not any(not r.positive and _is_state(r) for r in records):
        raise SampleError(f"{names}: no negative state with text: every sample needs negatives")
    goals = _goals(records)
    train_names, val_names = split_by_name(sorted({r.theorem for r in records}), lambda name: name,
                                           config.val_fraction, salt=config.split_salt)
    rng = random.Random(config.seed)
    train = _samples_for(records, set(train_names), goals, config, rng)
    validation = _samples_for(records, set(val_names), goals, config, rng)
    if not train:
        raise SampleError(f"{names}: the training split ({len(train_names)} theorems) has no sample (a positive "
                          f"with negatives to contrast); validation has {len(validation)}. Lower val_fraction "
                          "or add trajectories")
    probe_pos, probe_neg = _probe(records, config)
    return EbmDataset(
        train=train, validation=validation, train_theorems=train_names, validation_theorems=val_names,
        goals=goals, rank_children=_rank_children(records, set(val_names), goals),
        probe_positive=probe_pos, probe_negative=probe_neg, files=files,
        split={"method": "theorem_data.splits (md5 of '{salt}:{theorem}')", "salt": config.split_salt,
               "val_fraction": config.val_fraction,
               "train_theorems": len(train_names), "validation_theorems": len(val_names),
               "validation_theorem_names": val_names},
    )
