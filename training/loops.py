"""The training loops the service can run, by kind: how to build a loop's config from a run's stored config,
how to run it, and which artifacts its result leaves. The loops themselves are core code (training/sft,
training/ebm, training/joint, training/probes) with no Django in them."""

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
class Extra:
    """An artifact a run leaves besides its checkpoint (the joint head, a probe set); its parent is the checkpoint."""

    kind: str
    path: str
    meta: dict


def _no_extras(result: Any) -> list[Extra]:
    return []


@dataclass(frozen=True)
class Loop:
    build: Callable[[Mapping[str, Any], str], Any]  # (config, output_dir) -> the loop's validated config
    run: Callable[..., Any]  # (config, on_metric=, cancel=) -> result with .status, .output_dir, .meta
    checkpoint_kind: str  # "" when the run leaves no checkpoint of its own (probes)
    extras: Callable[[Any], list[Extra]] = _no_extras


def _dataclass_config(config_class, error_class, values: Mapping[str, Any], output_dir: str):
    fields = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise LoopConfigError(f"unknown setting(s) {unknown}; known: {sorted(fields - {'output_dir'})}", unknown[0])
    required = [f.name for f in dataclasses.fields(config_class) if f.name != "output_dir"
                and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    missing = [name for name in required if name not in values]
    if missing:
        raise LoopConfigError(f"{missing[0]} is required (required: {required})", missing[0])
    try:
        return config_class(**{**values, "output_dir": output_dir}).validate()
    except TypeError as exc:  # a setting of the wrong shape
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


def _joint() -> Loop:
    from training.joint.train import JointConfig, JointConfigError, train_joint

    def head(result) -> list[Extra]:
        return [Extra("ebm", result.head_dir, {**result.meta, "kind": "ebm", "trained_with": "joint"})]

    return Loop(lambda values, out: _dataclass_config(JointConfig, JointConfigError, values, out), train_joint, "lora",
                head)


@dataclass(frozen=True)
class ProbesJob:
    """Probe one policy (base model + adapter) and its heads on a fixed probe set (built here when not given)."""

    model_path: str
    output_dir: str
    adapter: str = ""
    heads: dict = dataclasses.field(default_factory=dict)  # config name (A, B, C) -> head folder
    probe_set: str = ""
    trajectory_files: list = dataclasses.field(default_factory=list)
    per_class: int = 200
    seed: int = 42
    device: str = "cpu"
    embed_max_length: int = 512


@dataclass(frozen=True)
class ProbesOutcome:
    status: str
    output_dir: str
    meta: dict
    built_probe_set: str = ""


def _build_probes(values: Mapping[str, Any], output_dir: str) -> ProbesJob:
    from pathlib import Path

    known = {f.name for f in dataclasses.fields(ProbesJob)} - {"output_dir"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise LoopConfigError(f"unknown setting(s) {unknown}; known: {sorted(known)}", unknown[0])
    model_path = values.get("model_path")
    if not isinstance(model_path, str) or not (Path(model_path) / "config.json").is_file():
        raise LoopConfigError(f"model_path {model_path!r} is not a transformers model folder (no config.json)",
                              "model_path")
    adapter = values.get("adapter") or ""
    if adapter and not (Path(adapter) / "adapter_config.json").is_file():
        raise LoopConfigError(f"adapter {adapter} is not a peft adapter folder (no adapter_config.json)", "adapter")
    heads = values.get("heads") or {}
    if not isinstance(heads, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in heads.items()):
        raise LoopConfigError("heads: give an object {name: head folder}", "heads")
    for name, path in heads.items():
        if not (Path(path) / "energy_head_config.json").is_file():
            raise LoopConfigError(f"heads.{name}: {path} is not an energy head folder (no energy_head_config.json)",
                                  "heads")
    probe_set = values.get("probe_set") or ""
    files = values.get("trajectory_files") or []
    if probe_set and not Path(probe_set).is_file():
        raise LoopConfigError(f"probe_set: {probe_set} does not exist", "probe_set")
    if not probe_set and not (isinstance(files, list) and files and all(isinstance(f, str) for f in files)):
        raise LoopConfigError("give a probe_set, or trajectories to build one from (trajectory_files)", "probe_set")
    for name in ("per_class", "seed", "embed_max_length"):
        if name in values and not (isinstance(values[name], int) and values[name] >= (0 if name == "seed" else 1)):
            raise LoopConfigError(f"{name} must be a positive integer, got {values[name]!r}", name)
    return ProbesJob(**{**values, "heads": dict(heads), "trajectory_files": list(files), "output_dir": output_dir})


def _run_probes(job: ProbesJob, *, on_metric=None, cancel=None) -> ProbesOutcome:
    import json
    from pathlib import Path

    from prover.value import load_energy_head
    from training.ebm.embeddings import InProcessEmbedder
    from training.probes import build_probe_set, compute_probes, load_probe_set, save_probe_set

    out = Path(job.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    built = ""
    if job.probe_set:
        probe_set = load_probe_set(job.probe_set)
    else:
        probe_set = build_probe_set(job.trajectory_files, per_class=job.per_class, seed=job.seed)
        built = str(save_probe_set(probe_set, out / "probe_set.json"))
    if cancel is not None and cancel():
        return ProbesOutcome("cancelled", str(out), {"status": "cancelled"}, built)
    embedder = InProcessEmbedder(job.model_path, device=job.device, adapter=job.adapter or None,
                                 max_length=job.embed_max_length)
    heads = {name: load_energy_head(path, expected_embedding_dim=embedder.embedding_dim)
             for name, path in job.heads.items()}
    metrics = compute_probes(embedder.embed, probe_set, heads=heads)
    for name, value in metrics.items():
        if on_metric is not None:
            on_metric(name, value, 0)
    meta = {"kind": "probes", "status": "completed", "model_path": job.model_path, "adapter": job.adapter,
            "heads": job.heads, "probe_set": job.probe_set or built, "probe_set_meta": probe_set.meta,
            "metrics": metrics}
    (out / "probes.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return ProbesOutcome("completed", str(out), meta, built)


def _probes() -> Loop:
    def probe_set(result: ProbesOutcome) -> list[Extra]:
        return [Extra("probe_set", result.built_probe_set, result.meta["probe_set_meta"])] if result.built_probe_set else []

    return Loop(_build_probes, _run_probes, "", probe_set)


LOOPS: dict[str, Callable[[], Loop]] = {"sft": _sft, "ebm": _ebm, "joint": _joint, "probes": _probes}


def loop_for(kind: str) -> Loop:
    if kind not in LOOPS:
        raise LoopConfigError(f"unknown training kind {kind!r}; known: {sorted(LOOPS)}", "kind")
    return LOOPS[kind]()
