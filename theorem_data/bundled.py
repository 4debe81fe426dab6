"""The datasets that ship inside the repository (data/, with licences in data/README.md) and load on first run."""

from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class BundledDataset:
    name: str
    path: Path
    format: str
    licence: str
    source: str
    notes: str = ""


BUNDLED = (
    BundledDataset(
        "minif2f-test", DATA_DIR / "benchmarks/minif2f_test.json", "benchmark-json", "Apache-2.0 (BurnQED); MIT upstream",
        "mike1729/BurnQED benchmarks/ @9053d51, from yangky11/miniF2F-lean4 before the 2026-02 fixes",
        "v1 test split; 7 known-wrong statements are flagged.",
    ),
    BundledDataset(
        "minif2f-valid", DATA_DIR / "benchmarks/minif2f_valid.json", "benchmark-json", "Apache-2.0 (BurnQED); MIT upstream",
        "mike1729/BurnQED benchmarks/ @9053d51", "v1 valid split.",
    ),
    BundledDataset(
        "minif2f-lean4-v4.24", DATA_DIR / "benchmarks/minif2f_lean4_v4.24.jsonl", "minif2f-lean4", "MIT",
        "yangky11/miniF2F-lean4 @5746b7d", "Corrected statements (2026-02 fixes), Lean/Mathlib v4.24.0, test+valid.",
    ),
)
