"""Contrastive loss for the energy head.

InfoNCE has no temperature here (docs/value-model.md#infonce): the head already divides its energy by a learnable tau,
and a second temperature in the loss would make the two trade off against each other ("double dip").
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def info_nce_loss(positive_energy: torch.Tensor, negative_energies: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of picking the positive among [positive, negatives], logits = -energy.

    positive_energy: (B, 1) or (B,); negative_energies: (B, K). Returns the mean over the batch.
    """
    if positive_energy.ndim == 1:
        positive_energy = positive_energy.unsqueeze(1)
    if positive_energy.ndim != 2 or positive_energy.shape[1] != 1:
        raise ValueError(f"positive_energy must be (B, 1) or (B,), got {tuple(positive_energy.shape)}")
    if negative_energies.ndim != 2 or negative_energies.shape[0] != positive_energy.shape[0]:
        raise ValueError(
            f"negative_energies must be (B, K) with B = {positive_energy.shape[0]}, got {tuple(negative_energies.shape)}"
        )
    if negative_energies.shape[1] < 1:
        raise ValueError("negative_energies needs at least one negative per positive (K >= 1)")
    logits = -torch.cat((positive_energy, negative_energies), dim=1)
    target = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
    return F.cross_entropy(logits.float(), target)
