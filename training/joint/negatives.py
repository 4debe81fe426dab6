"""Contrastive rows for joint training from the EBM loop's samples (training/ebm/samples.py draws them:
hard = siblings, medium = same theorem, easy = other theorems, shortfalls rolling into the next tier).

Which texts carry a gradient: the goal, the positive and the hard and medium negatives go through the
backbone with gradients; easy (and padding) negatives are embedded without, as BurnQED's plan does to save
activation memory (docs/joint-training.md#negatives).
"""

from __future__ import annotations

from collections.abc import Sequence

from training.ebm.samples import EbmSample

DETACHED_KINDS = frozenset({"easy", "pad"})


def contrastive_rows(samples: Sequence[EbmSample]) -> tuple[list[str], list[str], dict[str, int], dict[str, int]]:
    """(texts with gradient, detached texts, index of each in its list) for a batch of samples."""
    grad: dict[str, int] = {}
    detached: dict[str, int] = {}
    for sample in samples:
        for text in (sample.goal, sample.positive):
            grad.setdefault(text, len(grad))
        for text, kind in zip(sample.negatives, sample.kinds, strict=True):
            if kind not in DETACHED_KINDS:
                grad.setdefault(text, len(grad))
    for sample in samples:
        for text, kind in zip(sample.negatives, sample.kinds, strict=True):
            if kind in DETACHED_KINDS and text not in grad:
                detached.setdefault(text, len(detached))
    return list(grad), list(detached), grad, detached
