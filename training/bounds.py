"""Upper bounds a machine can honour on training settings, for every loop (docs/security.md#bounds): the launch
refuses a config past them with the setting named, before a worker tries to allocate it."""

from collections.abc import Mapping
from typing import Any

TRAINING_MAXIMA: dict[str, int | float] = {
    "max_steps": 1_000_000, "steps": 1_000_000, "batch_size": 4_096, "grad_accum": 1_024, "max_length": 32_768,
    "lora_r": 1_024, "lora_alpha": 4_096, "eval_every": 1_000_000, "eval_max_examples": 1_000_000,
    "log_every": 1_000_000, "bucket_batches": 100_000, "warmup_steps": 1_000_000, "checkpoint_every": 1_000_000,
    "temperature_check_every": 1_000_000, "temperature_patience_steps": 1_000_000, "embed_batch_size": 4_096,
    "eval_batch_size": 16_384, "hidden_size": 65_536, "learning_rate": 1.0,
}
MAX_LIST_ITEMS = 10_000  # data files, trajectory files, target modules, hidden dims


def bound_errors(config: Mapping[str, Any], *, prefix: str = "") -> dict[str, list[str]]:
    """Field errors for the numeric settings of `config` past their bound (types are the loop's to check)."""
    errors: dict[str, list[str]] = {}
    for key, value in config.items():
        high = TRAINING_MAXIMA.get(key)
        if high is not None and isinstance(value, int | float) and not isinstance(value, bool) and not value <= high:
            errors[prefix + key] = [f"must be at most {high} (a bound a machine can honour), got {value}"]
        if isinstance(value, list | tuple) and len(value) > MAX_LIST_ITEMS:
            errors[prefix + key] = [f"at most {MAX_LIST_ITEMS} items, got {len(value)}"]
        if isinstance(value, Mapping):
            for name, messages in bound_errors(value, prefix=f"{prefix}{key}.").items():
                errors[name] = messages
    return errors
