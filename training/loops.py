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


LOOPS: dict[str, Callable[[], Loop]] = {"sft": _sft}


def loop_for(kind: str) -> Loop:
    if kind not in LOOPS:
        raise LoopConfigError(f"unknown training kind {kind!r}; known: {sorted(LOOPS)}", "kind")
    return LOOPS[kind]()
