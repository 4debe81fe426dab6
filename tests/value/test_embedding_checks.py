"""check_embedding_rows: every way an embedding can be unusable is reported with its row and text."""

from __future__ import annotations

import pytest
import torch

from prover.value.embedding_checks import check_embedding_rows
from prover.value.errors import EncodeError

TEXTS = ["⊢ a", "⊢ b", "h : x = 1\n⊢ x + 1 = 2"]


@pytest.mark.parametrize(
    ("value", "message"),
    [(float("nan"), "non-finite values"), (float("-inf"), "non-finite values"), (0.0, "the zero vector")],
)
def test_bad_row_is_named_with_its_text(value, message) -> None:
    embeddings = torch.randn(3, 8)
    if value == 0.0:
        embeddings[2] = 0.0
    else:
        embeddings[2, 5] = value
    with pytest.raises(EncodeError, match=rf"test: embedding 2 of 3 \(text 'h : x = 1\\\\n⊢ x \+ 1 = 2'\) is {message}"):
        check_embedding_rows(embeddings, TEXTS, width=8, source="test")


def test_good_rows_pass_and_shapes_are_checked() -> None:
    check_embedding_rows(torch.randn(3, 8), TEXTS, width=8, source="test")
    with pytest.raises(EncodeError, match="expected 3 embeddings of width 8, got a tensor of shape \\(2, 8\\)"):
        check_embedding_rows(torch.randn(2, 8), TEXTS, width=8, source="test")
    with pytest.raises(EncodeError, match="embeddings are 9 wide, expected 8"):
        check_embedding_rows(torch.randn(3, 9), TEXTS, width=8, source="test")
