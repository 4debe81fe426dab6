"""Checks that an embedding is usable: right width, every component finite, not the zero vector.

A zero vector is how broken encoders fail quietly (SGLang batched hidden states zero every prompt but the
first: 14.6 % of one BurnQED v1 cache, docs/value-model.md#embeddings); an EBM scores it like any other point,
so it must be an error.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from prover.value.errors import EncodeError

_SNIPPET = 60


def describe_text(text: str) -> str:
    """A short, single-line rendering of `text` for error messages."""
    one_line = text.replace("\n", "\\n")
    return repr(one_line if len(one_line) <= _SNIPPET else one_line[:_SNIPPET] + "...")


def check_embedding_rows(embeddings: torch.Tensor, texts: Sequence[str], *, width: int, source: str) -> None:
    """Raise EncodeError naming the first bad row of `embeddings` (one row per text) and its text."""
    if embeddings.ndim != 2 or embeddings.shape[0] != len(texts):
        raise EncodeError(
            f"{source}: expected {len(texts)} embeddings of width {width}, got a tensor of shape {tuple(embeddings.shape)}"
        )
    if embeddings.shape[1] != width:
        raise EncodeError(f"{source}: embeddings are {embeddings.shape[1]} wide, expected {width}")
    # One pass over the data: amax propagates NaN and inf, and is 0 only for the zero vector.
    largest = embeddings.abs().amax(dim=1)
    usable = torch.isfinite(largest) & (largest > 0)
    if not bool(usable.all()):
        i = int((~usable).nonzero()[0, 0])
        what = "non-finite values (NaN or inf)" if not bool(torch.isfinite(largest[i])) else "the zero vector"
        raise EncodeError(f"{source}: embedding {i} of {len(texts)} (text {describe_text(texts[i])}) is {what}")
