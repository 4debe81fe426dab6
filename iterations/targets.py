"""BurnQED's success metrics for expert iteration, with its targets and red lines
(docs/expert-iteration.md#success-metrics).

Proof rates are BurnQED's miniF2F targets for a 7B prover on real Lean: on the embedded 135M stand-in and
minilean they read as what the full system aims for, not as what a laptop reaches.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    first: float | None  # target of iteration 0
    later: float | None  # target of iterations >= 1 (None: at least iteration 0's value)
    red_line: float
    percent: bool = False

    def target_for(self, number: int, first_value: float | None) -> float | None:
        if number == 0:
            return self.first
        return self.later if self.later is not None else first_value

    def grade(self, value: float | None, number: int, first_value: float | None) -> str:
        """"met", "red" (below the red line), "short" (between) or "" (no value)."""
        if value is None:
            return ""
        if value < self.red_line:
            return "red"
        target = self.target_for(number, first_value)
        return "met" if target is None or value >= target else "short"


TARGETS = (
    Target("llm", "held-out, LLM only", 0.35, 0.35, 0.25, percent=True),
    Target("ebm", "held-out, LLM + EBM (best of A/B/C)", 0.40, 0.45, 0.35, percent=True),
    Target("centroid_l2", "centroid_l2", 5.0, None, 3.0),
    Target("linear_probe_acc", "linear_probe_acc", 0.75, None, 0.65),
    Target("rank1_d4", "EBM rank-1, depth 4+", 0.30, 0.40, 0.25),
)

# Probe metric names as the probes loop reports them (training/probes).
PROBE_METRICS = {"centroid_l2": "probe/centroid_l2", "linear_probe_acc": "probe/linear_probe_acc",
                 "rank1_d4": "probe/rank1_depth4"}
