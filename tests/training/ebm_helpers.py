"""Helpers for the EBM training tests: trajectory files (from the engine or row by row) and toy embedders."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import torch

from prover.engine.backends import Backends
from prover.engine.config import SearchConfig
from prover.engine.inprocess import ScriptedPolicy, TableVerifier
from prover.engine.search import search_theorem
from prover.engine.trajectory import SCHEMA, write_trajectories

STATEMENT_A = "∀ (x : ℝ) (h : x = 2), x + 1 = 3"
STATEMENT_B = "∀ (n : ℕ), n + 0 = n"
ROOT_A, ROOT_B = "⊢ " + STATEMENT_A, "⊢ " + STATEMENT_B
INTRO_A = "x : ℝ\nh : x = 2\n⊢ x + 1 = 3"
BAD_A1 = "x : ℝ\n⊢ x + 1 = 3"
BAD_A2 = "⊢ False"
DEEP_BAD_A = "x : ℝ\nh : x = 2\n⊢ x = 2 ∧ False"
INTRO_B = "n : ℕ\n⊢ n + 0 = n"
BAD_B = "n : ℕ\n⊢ n = 0"

RULES = {
    ROOT_A: {"intro x h": [INTRO_A], "intro x": [BAD_A1], "exfalso": [BAD_A2]},
    INTRO_A: {"linarith": None, "constructor": [DEEP_BAD_A]},
    ROOT_B: {"intro n": [INTRO_B], "induction": [BAD_B]},
    INTRO_B: {"simp": None},
}
TACTICS = {
    ROOT_A: [("intro x h", -0.1), ("intro x", -0.5), ("exfalso", -0.9)],
    INTRO_A: [("constructor", -0.2), ("linarith", -0.3)],
    ROOT_B: [("intro n", -0.2), ("induction", -0.4)],
    INTRO_B: [("simp", -0.1)],
}


async def engine_trajectory_file(path: Path, names: tuple[str, str] = ("thm_a", "thm_b")) -> Path:
    """A real trajectory file: best-first search over in-process backends, written by the engine."""
    backends = Backends(verifier=TableVerifier(RULES), policy=ScriptedPolicy(tactics=TACTICS), scorer=None)
    config = SearchConfig.for_strategy("best_first")
    results = [await search_theorem(name, statement, config=config, backends=backends)
               for name, statement in zip(names, (STATEMENT_A, STATEMENT_B), strict=True)]
    assert all(r.proved for r in results), [r.failure_reason for r in results]
    write_trajectories(path, results)
    return path


def _row(theorem: str, state_id: int, text: str, parent: int | None, label: str, depth: int, *,
         terminal: bool = False, root: str = "") -> dict:
    return {
        "theorem_name": theorem, "state_id": state_id, "state_pp": text, "tactic_applied": "" if parent is None else "t",
        "parent_state_id": parent, "label": label, "depth_from_root": depth,
        "remaining_depth": 0 if label == "positive" else -1, "llm_log_prob": 0.0, "ebm_score": 0.0,
        "is_proof_complete": terminal, "timestamp_ms": 0, "q_value": 0.0, "visits": 0, "root_state_pp": root,
        "energy": None, "num_goals": 1, "node_status": "", "expansion_order": None, "created_ms": 0.0,
        "source": "", "extra_parent_ids": [], "strategy": "best_first", "theorem_proved": label == "positive",
    }


def toy_rows(n_theorems: int, *, width: int = 3, depth: int = 3, prefix: str = "toy") -> list[dict]:
    """Proved theorems whose proof path states say "good" and whose dead ends say "bad"."""
    rows = []
    for t in range(n_theorems):
        name = f"{prefix}_{t}"
        root = f"⊢ goal {t} good root"
        rows.append(_row(name, 0, root, None, "positive", 0, root=root))
        parent, next_id = 0, 1
        for d in range(1, depth + 1):
            good = next_id
            rows.append(_row(name, good, f"good state {t}.{d}", parent, "positive", d, root=root))
            for w in range(width):
                rows.append(_row(name, next_id + 1 + w, f"bad state {t}.{d}.{w}", parent, "negative", d, root=root))
            parent, next_id = good, next_id + 1 + width
        rows.append(_row(name, next_id, "", parent, "positive", depth + 1, terminal=True, root=root))
    return rows


def write_rows(path: Path, rows: list[dict]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), path)
    return path


class SignalEmbedder:
    """Deterministic vectors: text-hash noise plus +signal when "good" is in the text, -signal otherwise."""

    def __init__(self, dim: int = 16, signal: float = 1.0, backbone_id: str = "toy-signal") -> None:
        self.embedding_dim = dim
        self.backbone_id = backbone_id
        self.signal = signal
        self.seen: Counter[str] = Counter()
        self.calls = 0

    def embed(self, texts):
        self.calls += 1
        rows = []
        for text in texts:
            assert text.strip(), "an empty text reached the embedder"
            self.seen[text] += 1
            seed = int(hashlib.md5(text.encode()).hexdigest()[:8], 16)
            noise = torch.randn(self.embedding_dim, generator=torch.Generator().manual_seed(seed))
            noise[:4] += self.signal if "good" in text else -self.signal
            rows.append(noise)
        return torch.stack(rows)

    def close(self) -> None:
        pass
