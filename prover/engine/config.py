"""Search configuration: one typed, validated dataclass whose defaults are BurnQED's (docs/search.md#defaults).

Unknown keys are an error: silently dropped keys let stale configs run with defaults (docs/search.md#defaults).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

Strategy = Literal["best_first", "hybrid", "pass_at_n"]
STRATEGIES: tuple[str, ...] = get_args(Strategy)


class ConfigError(ValueError):
    """A search configuration value is invalid; the message names the field and the value, `field` names the
    setting alone (None when the problem is not one setting's), so forms and APIs can point at it."""

    def __init__(self, message: str, *, field: str | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.detail = detail if detail is not None else message.removeprefix(f"{field}: ") if field else message


@dataclass(frozen=True)
class SearchConfig:
    strategy: Strategy = "hybrid"

    # Budgets. None = unlimited. Checked between rounds (a round may overrun).
    max_depth: int = 25
    timeout_s: float = 600.0
    max_nodes: int | None = None
    max_completions: int | None = 256
    max_tokens: int | None = None
    max_rounds: int | None = 30

    # Sampling.
    temperature: float = 0.8
    top_p: float = 0.95

    # Value model. The EBM is used from depth `ebm_min_depth` on; `beta` ramps in over `ebm_ramp_depth`.
    alpha: float = 0.5
    beta: float = 0.5
    llm_temperature: float = 1.0
    ebm_temperature: float = 1.0
    ebm_min_depth: int = 0
    ebm_ramp_depth: int = 0

    # best_first: BurnQED v1's tactic-level search (docs/search.md#best-first-priority).
    num_candidates: int = 32
    batch_expansion_size: int = 1
    max_tactic_tokens: int = 48

    # hybrid: whole proofs replayed under a PUCT frontier (docs/search.md#hybrid-rounds).
    num_proofs: int = 32
    min_proofs: int = 4
    max_proof_tokens: int = 1024
    min_proof_tokens: int = 256
    tokens_decay_depth: int = 8
    max_temperature: float = 0.0
    exploration_c: float = 1.41
    goal_count_penalty: float = 0.3
    max_goal_unchanged_steps: int = 3
    max_consecutive_have: int = 4
    probe_tactics: tuple[str, ...] = field(default_factory=tuple)

    # pass_at_n: one round of N samples from the root (docs/search.md#pass-at-n).
    pass_n: int = 32
    pass_max_tokens: int = 8192

    # Every found proof is re-checked as a whole in a fresh process before it counts.
    recheck_proofs: bool = True

    # A tactic that kills the verifier (timeout, crash) is counted as a failed tactic and the proof restarts on
    # the new process, rebuilding states by replay, at most this many times (0 = end the theorem with `error`,
    # as BurnQED does: docs/search.md#verifier-failures).
    max_verifier_restarts: int = 3

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"strategy: {self.strategy!r} is not one of {list(STRATEGIES)}", field="strategy")
        if isinstance(self.probe_tactics, list):
            object.__setattr__(self, "probe_tactics", tuple(self.probe_tactics))
        for f in dataclasses.fields(self):
            _check_type(f.name, getattr(self, f.name), f.type)
        for name in ("max_depth", "num_candidates", "batch_expansion_size", "max_tactic_tokens", "num_proofs",
                     "min_proofs", "max_proof_tokens", "min_proof_tokens", "pass_n", "pass_max_tokens"):
            _require(name, getattr(self, name) >= 1, "must be >= 1")
        for name in ("max_nodes", "max_completions", "max_tokens", "max_rounds"):
            value = getattr(self, name)
            _require(name, value is None or value >= 1, "must be >= 1 or null (unlimited)")
        for name in ("ebm_min_depth", "ebm_ramp_depth", "tokens_decay_depth", "max_goal_unchanged_steps",
                     "max_consecutive_have", "max_verifier_restarts"):
            _require(name, getattr(self, name) >= 0, "must be >= 0")
        _require("timeout_s", self.timeout_s > 0, "must be > 0 seconds")
        for name, high in SETTING_MAXIMA.items():
            value = getattr(self, name)
            _require(name, value is None or value <= high, f"must be at most {high} (a bound a machine can honour)")
        _require("probe_tactics", len(self.probe_tactics) <= MAX_PROBE_TACTICS,
                 f"at most {MAX_PROBE_TACTICS} probe tactics")
        for i, tactic in enumerate(self.probe_tactics):
            _require(f"probe_tactics[{i}]", len(tactic) <= MAX_PROBE_TACTIC_CHARS,
                     f"must be at most {MAX_PROBE_TACTIC_CHARS} characters")
        _require("temperature", self.temperature >= 0, "must be >= 0")
        _require("top_p", 0 < self.top_p <= 1, "must be in (0, 1]")
        _require("alpha", 0 <= self.alpha <= 1, "must be in [0, 1]")
        _require("beta", self.beta >= 0, "must be >= 0")
        _require("exploration_c", self.exploration_c >= 0, "must be >= 0")
        _require("goal_count_penalty", self.goal_count_penalty >= 0, "must be >= 0")
        _require("min_proofs", self.min_proofs <= self.num_proofs,
                 f"must be <= num_proofs ({self.num_proofs})")
        _require("min_proof_tokens", self.min_proof_tokens <= self.max_proof_tokens,
                 f"must be <= max_proof_tokens ({self.max_proof_tokens})")
        for name in ("timeout_s", "temperature", "alpha", "beta", "llm_temperature", "ebm_temperature",
                     "exploration_c", "goal_count_penalty", "max_temperature", "top_p"):
            _require(name, math.isfinite(getattr(self, name)), "must be a finite number")
        for i, tactic in enumerate(self.probe_tactics):
            _require(f"probe_tactics[{i}]", bool(tactic.strip()), "must be a non-empty tactic")

    @classmethod
    def for_strategy(cls, strategy: str, **overrides: Any) -> SearchConfig:
        """The defaults for `strategy` (its budgets differ: docs/search.md#budgets), with `overrides` on top."""
        return cls.from_mapping({"strategy": strategy, **overrides})

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, where: str = "search config") -> SearchConfig:
        """Build from a mapping (TOML/JSON/form) over the defaults of its strategy; unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {unknown}; known keys: {sorted(known)}", field=unknown[0],
                              detail=f"unknown setting; known: {', '.join(sorted(known))}")
        strategy = values.get("strategy", "hybrid")
        if strategy not in STRATEGIES:
            raise ConfigError(f"{where}: strategy: {strategy!r} is not one of {list(STRATEGIES)}", field="strategy",
                              detail=f"{strategy!r} is not one of {list(STRATEGIES)}")
        try:
            return cls(**{**STRATEGY_BUDGETS[strategy], **dict(values)})
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}", field=exc.field, detail=exc.detail) from None

    def replace(self, **changes: Any) -> SearchConfig:
        return self.from_mapping({**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["probe_tactics"] = list(self.probe_tactics)
        return out


# Budgets that differ by strategy (docs/search.md#budgets). hybrid: BurnQED's defaults (no node cap); best_first: v1
# caps expansions at 600 and has no completion or round cap; pass_at_n: exactly one round of pass_n root samples.
STRATEGY_BUDGETS: dict[str, dict[str, Any]] = {
    "hybrid": {"max_nodes": None, "max_completions": 256, "max_rounds": 30},
    "best_first": {"max_nodes": 600, "max_completions": None, "max_rounds": None},
    "pass_at_n": {"max_nodes": None, "max_completions": None, "max_rounds": 1},
}


def _require(name: str, ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(f"{name}: {message}", field=name.split("[")[0])


_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "str": (str,),
}


def _check_type(name: str, value: Any, annotation: Any) -> None:
    text = str(annotation)
    if text.startswith("tuple"):
        if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{name}: expected a list of strings, got {value!r}", field=name)
        return
    if text == "Strategy":
        return
    optional = "None" in text
    if value is None:
        if not optional:
            raise ConfigError(f"{name}: must not be null", field=name)
        return
    base = text.split("|")[0].strip()
    allowed = _TYPES[base]
    # bool is an int in Python; a bool where a number is expected is almost always a typo.
    if isinstance(value, bool) and base != "bool" or not isinstance(value, allowed):
        raise ConfigError(f"{name}: expected {base}{' or null' if optional else ''}, got {value!r}", field=name)


# Upper bounds a machine can honour (docs/security.md#bounds): a run asking for more is refused at launch with the
# field named, instead of exhausting a worker. The API schema states them (maximum).
SETTING_MAXIMA: dict[str, int | float] = {
    "max_depth": 1_000, "timeout_s": 86_400.0, "max_nodes": 1_000_000, "max_completions": 1_000_000,
    "max_tokens": 1_000_000_000, "max_rounds": 100_000, "temperature": 10.0, "beta": 1_000.0,
    "llm_temperature": 1_000.0, "ebm_temperature": 1_000.0, "ebm_min_depth": 1_000, "ebm_ramp_depth": 1_000,
    "num_candidates": 512, "batch_expansion_size": 256, "max_tactic_tokens": 4_096, "num_proofs": 512,
    "min_proofs": 512, "max_proof_tokens": 32_768, "min_proof_tokens": 32_768, "tokens_decay_depth": 1_000,
    "max_temperature": 10.0, "exploration_c": 1_000.0, "goal_count_penalty": 1_000.0,
    "max_goal_unchanged_steps": 1_000, "max_consecutive_have": 1_000, "pass_n": 4_096, "pass_max_tokens": 32_768,
    "max_verifier_restarts": 100,
}
MAX_PROBE_TACTICS = 64
MAX_PROBE_TACTIC_CHARS = 1_000

# What each setting means, for the launch form and the API schema (a test checks every field has one).
SETTING_HELP: dict[str, str] = {
    "strategy": "best_first (tactic by tactic, BurnQED's original design), hybrid (whole proofs replayed, PUCT frontier) "
                "or pass_at_n (N whole proofs from the root)",
    "max_depth": "deepest proof state expanded",
    "timeout_s": "wall-clock budget per theorem, seconds",
    "max_nodes": "expanded nodes per theorem (null: unlimited)",
    "max_completions": "policy completions per theorem (null: unlimited)",
    "max_tokens": "generated tokens per theorem (null: unlimited)",
    "max_rounds": "search rounds per theorem (null: unlimited)",
    "temperature": "sampling temperature of the policy",
    "top_p": "nucleus sampling of the policy",
    "alpha": "weight of the policy's log-probability against the EBM in a node's priority",
    "beta": "weight of the EBM energy in a node's priority",
    "llm_temperature": "temperature applied to log-probabilities in the priority",
    "ebm_temperature": "temperature applied to energies in the priority",
    "ebm_min_depth": "the EBM scores states from this depth on",
    "ebm_ramp_depth": "the EBM's weight ramps in over this many levels after ebm_min_depth",
    "num_candidates": "tactics sampled per expansion (best_first)",
    "batch_expansion_size": "nodes expanded per round, their candidates sampled in one batch (best_first)",
    "max_tactic_tokens": "tokens per sampled tactic (best_first)",
    "num_proofs": "whole proofs sampled per expansion (hybrid)",
    "min_proofs": "fewest proofs sampled per expansion as the frontier deepens (hybrid)",
    "max_proof_tokens": "tokens per sampled proof at the root (hybrid)",
    "min_proof_tokens": "tokens per sampled proof deep in the tree (hybrid)",
    "tokens_decay_depth": "depth over which proof tokens fall from max to min (hybrid)",
    "max_temperature": "temperature reached deep in the tree; 0 keeps `temperature` (hybrid)",
    "exploration_c": "PUCT exploration constant (hybrid)",
    "goal_count_penalty": "priority penalty per open goal (hybrid)",
    "max_goal_unchanged_steps": "replayed steps that leave the goal unchanged before a proof is cut (hybrid)",
    "max_consecutive_have": "consecutive `have` steps before a proof is cut (hybrid)",
    "probe_tactics": "fixed tactics tried on every expanded state after the policy's own",
    "pass_n": "whole-proof samples from the root (pass_at_n)",
    "pass_max_tokens": "tokens per sample (pass_at_n)",
    "recheck_proofs": "re-check every found proof as a whole in a fresh verifier before it counts",
    "max_verifier_restarts": "times a proof restarts after a tactic killed its verifier (0: end with error)",
}
