"""The training loops the service can run, by kind: how to build a loop's config from a run's stored config,
and how to run it. The loops themselves are core code (training/sft, training/ebm) with no Django in them."""

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class LoopConfigError(ValueError):
    """A training config the loop refuses; `field` names the offending key when it can be told."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Loop:
    build: Callable[[Mapping[str, Any], str], Any]  # (config, output_dir) -> the loop's validated config
    run: Callable[..., Any]  # (config, on_metric=, cancel=) -> result with .status, .output_dir, .meta
    checkpoint_kind: str


def _dataclass_config(config_class, error_class, values: Mapping[str, Any], output_dir: str):
    fields = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise LoopConfigError(f"unknown setting(s) {unknown}; known: {sorted(fields - {'output_dir'})}", unknown[0])
    try:
        return config_class(**{**values, "output_dir": output_dir}).validate()
    except TypeError as exc:  # a required setting is missing
        raise LoopConfigError(str(exc).replace("__init__() ", "")) from None
    except error_class as exc:
        first = str(exc).split()[0].rstrip(":")
        raise LoopConfigError(str(exc), first if first in fields else None) from None


def _sft() -> Loop:
    from training.sft.train import SFTConfig, SFTConfigError, train_sft

    return Loop(lambda values, out: _dataclass_config(SFTConfig, SFTConfigError, values, out), train_sft, "lora")


@dataclass(frozen=True)
class EbmJob:
    """What the EBM loop needs besides its EbmTrainConfig: the data, where embeddings come from, a start head."""

    trajectory_files: list[str]
    output_dir: str
    config: Any
    encoder_url: str = ""
    hidden_size: int = 0
    model_path: str = ""
    backbone_id: str = ""
    init_from: str = ""
    adapter: str = ""  # embeddings of the model with this LoRA adapter applied


@dataclass(frozen=True)
class EbmOutcome:
    status: str
    output_dir: str
    meta: dict


_EBM_JOB_KEYS = ("trajectory_files", "encoder_url", "hidden_size", "model_path", "backbone_id", "init_from", "adapter")


def _build_ebm(values: Mapping[str, Any], output_dir: str) -> EbmJob:
    from training.ebm.samples import SampleConfig
    from training.ebm.train import EbmTrainConfig

    job = {k: values[k] for k in _EBM_JOB_KEYS if k in values}
    files = job.get("trajectory_files")
    if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
        raise LoopConfigError("trajectory_files: give a list of trajectory Parquet files", "trajectory_files")
    if bool(job.get("encoder_url")) == bool(job.get("model_path")):
        raise LoopConfigError("give either encoder_url (with hidden_size) or model_path, for the embeddings", "encoder_url")
    if job.get("encoder_url") and not (isinstance(job.get("hidden_size"), int) and job["hidden_size"] > 0):
        raise LoopConfigError("hidden_size: the encoder's embedding width is required with encoder_url", "hidden_size")
    settings = {k: v for k, v in values.items() if k not in _EBM_JOB_KEYS}
    known = {f.name for f in dataclasses.fields(EbmTrainConfig)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise LoopConfigError(f"unknown setting(s) {unknown}; known: {sorted(known | set(_EBM_JOB_KEYS))}", unknown[0])
    try:
        if isinstance(settings.get("samples"), Mapping):
            settings["samples"] = SampleConfig(**settings["samples"])
        config = EbmTrainConfig(**settings)
    except (TypeError, ValueError) as exc:
        raise LoopConfigError(str(exc).removeprefix("invalid EbmTrainConfig: ")) from None
    return EbmJob(trajectory_files=list(files), output_dir=output_dir, config=config, **{k: v for k, v in job.items()
                                                                                         if k != "trajectory_files"})


def _run_ebm(job: EbmJob, *, on_metric=None, cancel=None) -> EbmOutcome:
    import json
    from pathlib import Path

    from training.ebm.embeddings import HttpEmbedder, InProcessEmbedder
    from training.ebm.train import META_FILENAME, train_energy_head

    if job.encoder_url:
        embedder = HttpEmbedder(job.encoder_url, hidden_size=job.hidden_size, backbone_id=job.backbone_id or job.encoder_url,
                                adapter=job.adapter or None)
    else:
        embedder = InProcessEmbedder(job.model_path, device=job.config.device, backbone_id=job.backbone_id or None,
                                     adapter=job.adapter or None)
    try:
        head = None
        if job.init_from:
            from prover.value import load_energy_head

            head = load_energy_head(job.init_from, expected_embedding_dim=embedder.embedding_dim)
        result = train_energy_head(job.trajectory_files, embedder, job.output_dir, job.config, on_metric=on_metric,
                                   should_cancel=cancel, head=head)
    finally:
        embedder.close()
    meta_path = Path(job.output_dir) / META_FILENAME
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return EbmOutcome("cancelled" if result.stop_reason == "cancelled" else "completed",
                      str(result.checkpoint_dir or job.output_dir), meta)


def _ebm() -> Loop:
    return Loop(_build_ebm, _run_ebm, "ebm")


LOOPS: dict[str, Callable[[], Loop]] = {"sft": _sft, "ebm": _ebm}


def loop_for(kind: str) -> Loop:
    if kind not in LOOPS:
        raise LoopConfigError(f"unknown training kind {kind!r}; known: {sorted(LOOPS)}", "kind")
    return LOOPS[kind]()
