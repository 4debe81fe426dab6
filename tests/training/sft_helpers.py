"""Helpers shared by the SFT tests: one tiny model per test process, small step files."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from functools import cache
from pathlib import Path

from prover.serving.tiny_model import build_tiny_llama


@cache
def tiny_model_dir() -> Path:
    root = Path(tempfile.mkdtemp(prefix="sft-tiny-"))
    atexit.register(shutil.rmtree, root, True)
    return build_tiny_llama(root / "tiny", seed=0)


@cache
def tiny_tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir())


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def pair_rows(n: int = 12) -> list[dict]:
    """Tactic-pair rows (name/state_before/tactic), two steps per theorem, a small repeated vocabulary."""
    rows = []
    for i in range(n):
        rows.append({"name": f"thm_{i}", "state_before": f"x : ℕ\n⊢ x + {i} = {i} + x", "tactic": "omega"})
        rows.append({"name": f"thm_{i}", "state_before": f"h : {i} < x\n⊢ 0 < x", "tactic": "linarith"})
    return rows


ROOT = Path(__file__).resolve().parents[2]
