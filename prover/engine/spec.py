"""What a run is: the one definition of a run's settings, their types, defaults, bounds and meaning.

The launch form, the API's request schema, clone-and-edit, the launch service and the worker all derive from
`RunSpec`: nothing else lists the fields. Defaults come from here and, under `search`, from the engine's
`SearchConfig` (whose budgets depend on the strategy). Three settings default to the deployment's own
(`policy_url`, `encoder_url`, `lean`): the caller passes them. Errors carry the field path (`search.max_depth`),
all of them at once.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import urlparse

from prover.engine.adapters import StackSettings
from prover.engine.config import ConfigError, SearchConfig
from prover.policy.prompts import DEFAULT_PROMPT_FORMAT, PROMPT_FORMATS

Lean = Literal["minilean", "pantograph"]
LEAN_BACKENDS: tuple[str, ...] = get_args(Lean)
DEFAULT_STRATEGY = "best_first"  # BurnQED's original design; the engine's own default (hybrid) is for the CLI


def setting(help: str, *, minimum: int | None = None, maximum: int | None = None, choices: tuple[str, ...] = (),
            deployment: bool = False, required: bool = False) -> dict[str, Any]:
    """A field's metadata: what it means, its bounds, and whether its default is the deployment's."""
    return {"help": help, "minimum": minimum, "maximum": maximum, "choices": choices, "deployment": deployment,
            "required": required}


class SpecError(ValueError):
    """Every problem of a run config, as field path -> messages; `valid` holds the fields that passed, so a
    caller can check more about them (e.g. that the theorems exist) and report everything at once."""

    def __init__(self, errors: dict[str, list[str]], valid: dict[str, Any] | None = None) -> None:
        self.errors = errors
        self.valid = valid or {}
        super().__init__("; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items()))


@dataclass(frozen=True)
class RunSpec:
    dataset: str | int = field(metadata=setting("dataset name or id", required=True))
    split: str = field(default="", metadata=setting("only theorems of this split (e.g. test); empty for all"))
    theorems: tuple[str, ...] = field(default=(), metadata=setting(
        "only these theorem names (a subset of the dataset); empty for all"))
    limit: int | None = field(default=None, metadata=setting(
        "at most this many theorems (after the filters, in name order); null for all", minimum=1, maximum=100_000))
    search: SearchConfig = field(default_factory=lambda: SearchConfig.for_strategy(DEFAULT_STRATEGY), metadata=setting(
        "search settings (strategy, budgets, sampling, value model); budgets default by strategy"))
    policy_url: str = field(default="", metadata=setting("SGLang-compatible /generate server", deployment=True))
    encoder_url: str = field(default="", metadata=setting(
        "/encode server for the EBM (required with ebm_path)", deployment=True))
    adapter: str = field(default="", metadata=setting(
        "LoRA adapter folder the policy server and the encoder apply (a checkpoint); empty: the served model as is"))
    ebm_path: str = field(default="", metadata=setting(
        "EBM checkpoint folder (safetensors + config.json); empty for LLM-only search"))
    prompt_format: str = field(default=DEFAULT_PROMPT_FORMAT, metadata=setting(
        "how proof states become prompts", choices=tuple(PROMPT_FORMATS)))
    lean: Lean = field(default="minilean", metadata=setting(
        "minilean (the stand-in verifier) or pantograph (real Lean)", choices=LEAN_BACKENDS, deployment=True))
    # A Lean REPL with Mathlib holds gigabytes: 16 per task is what one large machine runs (docs/security.md#bounds).
    lean_workers: int = field(default=1, metadata=setting("Lean REPL processes per task", minimum=1, maximum=16))
    concurrency: int = field(default=1, metadata=setting(
        "theorems searched at once per task (at most lean_workers are busy)", minimum=1, maximum=64))
    chunk_size: int = field(default=4, metadata=setting(
        "theorems per worker task: smaller chunks spread a run over more workers", minimum=1, maximum=10_000))
    allow_lean_version_mismatch: bool = field(default=False, metadata=setting(
        "run even if the dataset declares another Lean version than the workers run"))

    @classmethod
    def from_mapping(cls, raw: Any, *, deployment: Mapping[str, Any] | None = None) -> RunSpec:
        """Validate a user's mapping (form, JSON body, cloned run) over the defaults; raises SpecError."""
        values = checked_values(cls, raw, deployment=deployment, what="the run config")
        if values["ebm_path"] and not values["encoder_url"]:
            raise SpecError({"encoder_url": ["an EBM needs an /encode server"]}, values)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored on the Run: every field, `search` expanded to every engine setting."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["theorems"] = list(self.theorems)
        out["search"] = self.search.to_dict()
        return out

    def stack_settings(self, *, pantograph_repl: str) -> StackSettings:
        """Where this run's backends are; the REPL program is the worker's own setting, never a run's."""
        return StackSettings(policy_url=self.policy_url, encoder_url=self.encoder_url or None,
                             ebm_path=self.ebm_path or None, lean=self.lean, pantograph_repl=pantograph_repl,
                             num_workers=self.lean_workers, prompt_format=self.prompt_format,
                             adapter=self.adapter or None)


def spec_fields(spec: type = RunSpec) -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(spec)


def field_type(f: dataclasses.Field, spec: type = RunSpec) -> Any:
    """The field's resolved annotation (the module uses postponed annotations)."""
    return typing.get_type_hints(spec)[f.name]


def checked_values(spec: type, raw: Any, *, deployment: Mapping[str, Any] | None = None,
                   what: str = "the config") -> dict[str, Any]:
    """Every field of the dataclass `spec` (fields described with `setting()`) from a user's mapping, checked and
    in canonical types, defaults filled in; SpecError with every problem (and the fields that passed)."""
    if not isinstance(raw, Mapping):
        raise SpecError({"non_field_errors": [f"{what} must be a JSON object"]})
    errors: dict[str, list[str]] = {}
    known = {f.name: f for f in dataclasses.fields(spec)}
    for key in sorted(set(raw) - set(known)):
        errors.setdefault(key, []).append(f"unknown field; known fields: {', '.join(known)}")
    values: dict[str, Any] = {}
    for name, f in known.items():
        value = raw[name] if name in raw else _default(f, deployment or {})
        try:
            values[name] = _checked(f, value, field_type(f, spec))
        except _FieldErrors as exc:
            for path, message in exc.items:
                errors.setdefault(path, []).append(message)
    if errors:
        raise SpecError(errors, values)
    return values


def _default(f: dataclasses.Field, deployment: Mapping[str, Any]) -> Any:
    if f.metadata["deployment"] and f.name in deployment:
        return deployment[f.name]
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


class _FieldErrors(Exception):
    def __init__(self, *items: tuple[str, str]) -> None:
        self.items = items


def _checked(f: dataclasses.Field, value: Any, kind: Any) -> Any:
    """The field's value in its canonical type, or _FieldErrors naming the path and the problem."""
    name, meta = f.name, f.metadata

    def fail(message: str) -> typing.NoReturn:
        raise _FieldErrors((name, message))

    if kind is SearchConfig:
        if isinstance(value, SearchConfig):
            return value
        if not isinstance(value, Mapping):
            fail("must be an object of search settings")
        try:
            return SearchConfig.from_mapping({"strategy": DEFAULT_STRATEGY, **value}, where=name)
        except ConfigError as exc:
            raise _FieldErrors((f"{name}.{exc.field}" if exc.field else name, exc.detail)) from None
    if name.endswith("dataset"):
        if isinstance(value, bool) or not isinstance(value, str | int) or value in ("", None):
            fail("choose a dataset (its name or id)")
        return value
    if kind == tuple[str, ...]:
        if isinstance(value, str):  # a form's text box: one per line or comma-separated
            value = [part.strip() for part in value.replace(",", "\n").splitlines()]
            value = [part for part in value if part]
        if not isinstance(value, list | tuple) or not all(isinstance(n, str) and n.strip() for n in value):
            fail("must be a list of names")
        unknown = [n for n in value if meta["choices"] and n.strip() not in meta["choices"]]
        if unknown:
            fail(f"each must be one of {', '.join(meta['choices'])}, got {', '.join(map(repr, unknown))}")
        return tuple(n.strip() for n in value)
    if kind == tuple[int, ...]:
        if not isinstance(value, list | tuple) or not all(isinstance(n, int) and not isinstance(n, bool) for n in value):
            fail("must be a list of ids")
        return tuple(value)
    if kind == dict[str, Any]:
        if not isinstance(value, Mapping):
            fail("must be an object of settings")
        return dict(value)
    if kind is bool:
        if not isinstance(value, bool):
            fail(f"must be true or false, got {value!r}")
        return value
    if kind in (int, int | None):
        if value is None or value == "":
            if kind is int:
                fail("is required")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            fail(f"must be an integer, got {value!r}")
        low, high = meta["minimum"], meta["maximum"]
        if (low is not None and value < low) or (high is not None and value > high):
            fail(f"must be an integer from {low} to {high}, got {value}")
        return value
    if not isinstance(value, str):
        fail(f"must be a string, got {value!r}")
    value = value.strip()
    if meta["choices"] and value not in meta["choices"]:
        fail(f"must be one of {', '.join(meta['choices'])}, got {value!r}")
    if name.endswith("_url") and value and (error := _url_error(value)):
        fail(error)
    if name == "policy_url" and not value:
        fail("must be an http(s) URL")
    return value


def _url_error(value: str) -> str | None:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return f"must be an http(s) URL, got {value!r}"
    return None
