"""Energy-head checkpoints: a safetensors file of tensors plus a JSON config, in one directory.

The config travels twice: as `energy_head_config.json` for people and tools, and inside the safetensors
metadata so that a weights file moved next to the wrong JSON is caught. Both files are written to a
temporary name and renamed, so a crash never leaves a half-written checkpoint that looks complete.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from prover.value.energy_head import EnergyHeadConfig, GoalConditionedEnergyHead
from prover.value.errors import CheckpointError

WEIGHTS_FILENAME = "energy_head.safetensors"
CONFIG_FILENAME = "energy_head_config.json"
CHECKPOINT_FORMAT = "burnqed.goal_conditioned_energy_head"
CHECKPOINT_VERSION = 1


def _atomic_write(path: Path, write: Callable[[str], object]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_energy_head(head: GoalConditionedEnergyHead, directory: str | os.PathLike) -> Path:
    """Write `head` to `directory` (created if needed); returns the directory."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    document = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "config": head.config.to_dict()}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    tensors = {name: t.detach().to("cpu").contiguous().clone() for name, t in head.state_dict().items()}
    _atomic_write(directory / WEIGHTS_FILENAME, lambda tmp: save_file(tensors, tmp, metadata={"config": text}))
    _atomic_write(directory / CONFIG_FILENAME, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return directory


def read_energy_head_config(directory: str | os.PathLike) -> EnergyHeadConfig:
    """The config of the checkpoint in `directory`, validated; no tensors are read."""
    path = Path(directory) / CONFIG_FILENAME
    if not path.is_file():
        raise CheckpointError(f"no energy head config at {path}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: not readable JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not an energy head config (expected format {CHECKPOINT_FORMAT!r})")
    if document.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {document.get('version')!r} is not supported "
            f"(this code reads version {CHECKPOINT_VERSION})"
        )
    try:
        return EnergyHeadConfig.from_dict(document.get("config"))
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: {exc}") from exc


def load_energy_head(
    directory: str | os.PathLike,
    *,
    expected_embedding_dim: int | None = None,
    expected_backbone_id: str | None = None,
    device: str | torch.device = "cpu",
) -> GoalConditionedEnergyHead:
    """Rebuild a head from `directory`, in eval mode on `device`.

    `expected_embedding_dim` / `expected_backbone_id` describe the encoder the head will be used with; a
    mismatch is a CheckpointError rather than a shape error deep inside a search.
    """
    directory = Path(directory)
    config = read_energy_head_config(directory)
    if expected_embedding_dim is not None and config.embedding_dim != expected_embedding_dim:
        raise CheckpointError(
            f"{directory}: head was trained on {config.embedding_dim}-wide embeddings "
            f"(backbone {config.backbone_id!r}) but the encoder produces {expected_embedding_dim}-wide ones"
        )
    if expected_backbone_id is not None and config.backbone_id != expected_backbone_id:
        raise CheckpointError(
            f"{directory}: head was trained on backbone {config.backbone_id!r}, not {expected_backbone_id!r}"
        )
    weights_path = directory / WEIGHTS_FILENAME
    if not weights_path.is_file():
        raise CheckpointError(f"no energy head weights at {weights_path}")
    try:
        with safe_open(str(weights_path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        tensors = load_file(weights_path)
    except (OSError, SafetensorError) as exc:
        raise CheckpointError(f"{weights_path}: not a readable safetensors file: {exc}") from exc
    try:
        embedded_config = json.loads(metadata["config"])["config"]
    except (KeyError, TypeError, json.JSONDecodeError):
        raise CheckpointError(f"{weights_path}: carries no energy head config in its metadata") from None
    if embedded_config != config.to_dict():
        raise CheckpointError(
            f"{weights_path} was saved with a different config than {directory / CONFIG_FILENAME} "
            "(weights and config from different checkpoints?)"
        )

    head = GoalConditionedEnergyHead(config)
    expected = head.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"{weights_path}: tensors do not match the config: missing {missing}, unexpected {unexpected}")
    for name in expected:  # in module order, so the first layer that does not fit is the one reported
        tensor = tensors[name]
        if tensor.shape != expected[name].shape:
            raise CheckpointError(
                f"{weights_path}: tensor {name} has shape {tuple(tensor.shape)}, config implies "
                f"{tuple(expected[name].shape)} (embedding_dim {config.embedding_dim}, hidden {list(config.hidden_dims)})"
            )
    head.load_state_dict(tensors)
    return head.to(device).eval()
