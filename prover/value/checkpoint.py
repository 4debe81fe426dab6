"""Energy-head checkpoints: a safetensors file of tensors plus a JSON config, in one directory.

The config travels twice: as `energy_head_config.json` for people and tools, and inside the safetensors
metadata so that a weights file moved next to the wrong JSON is caught.

Every checkpoint of the project (this head, a LoRA adapter, a joint run's both) is written through
`write_checkpoint_folder`: all its files into a staging folder first, then renamed over the old ones, so a crash
or a full disk never leaves a half-written checkpoint that looks complete, nor damages the previous one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
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


STAGING_DIRNAME = ".staging.tmp"
_OS_ERROR = re.compile(r"\(os error (\d+)\)")


def write_checkpoint_folder(folder: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Replace the checkpoint in `folder` as a whole: `write(staging)` puts every file of the new one in a staging
    folder inside `folder` (the same filesystem), and only when all are written is each renamed over its namesake.

    When writing fails (the disk is full) the previous checkpoint stays as it was, the staging folder is removed so
    it does not hold the space, and the error is an OSError naming the file (or the checkpoint folder, when the
    error does not say which file). The renames need no space. Files of `folder` the new checkpoint lacks (an
    earlier step's checkpoint folder, say) are left alone. Returns `folder`."""
    folder = Path(folder)
    staging = folder / STAGING_DIRNAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(staging, ignore_errors=True)  # what a killed writer left
        staging.mkdir()
        write(staging)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        error = _io_error(exc)
        if error is None:
            raise
        where = folder
        if error.filename and Path(error.filename).is_relative_to(staging):
            where = folder / Path(error.filename).relative_to(staging)
        elif error.filename:
            where = Path(error.filename)
        raise OSError(error.errno, error.strerror or str(error), str(where)) from exc
    _move_into(staging, folder)
    staging.rmdir()
    return folder


def _move_into(source: Path, target: Path) -> None:
    for entry in sorted(source.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            (target / entry.name).mkdir(exist_ok=True)
            _move_into(entry, target / entry.name)
            entry.rmdir()
        else:
            os.replace(entry, target / entry.name)


def _io_error(exc: BaseException) -> OSError | None:
    """The I/O error behind `exc`: an OSError, or safetensors' own error, which carries the errno only in its text."""
    if isinstance(exc, OSError):
        return exc
    if isinstance(exc, SafetensorError) and (found := _OS_ERROR.search(str(exc))):
        number = int(found.group(1))
        return OSError(number, os.strerror(number))
    return None


def save_tensors(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str] | None = None) -> None:
    """safetensors' save_file, whose I/O failures become OSErrors naming `path` (use inside a staging folder)."""
    try:
        save_file(tensors, str(path), metadata=metadata)
    except SafetensorError as exc:
        if (error := _io_error(exc)) is None:
            raise
        raise OSError(error.errno, error.strerror, str(path)) from exc


def save_energy_head(head: GoalConditionedEnergyHead, directory: str | os.PathLike) -> Path:
    """Write `head` to `directory` (created if needed; an older checkpoint there is replaced as a whole)."""
    return write_checkpoint_folder(directory, lambda staging: write_energy_head_files(head, staging))


def write_energy_head_files(head: GoalConditionedEnergyHead, staging: Path) -> None:
    """The head's two files into `staging`, for a caller that stages more files with them (its training meta)."""
    document = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "config": head.config.to_dict()}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    tensors = {name: t.detach().to("cpu").contiguous().clone() for name, t in head.state_dict().items()}
    staging.mkdir(parents=True, exist_ok=True)
    save_tensors(tensors, staging / WEIGHTS_FILENAME, metadata={"config": text})
    (staging / CONFIG_FILENAME).write_text(text, encoding="utf-8")


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
