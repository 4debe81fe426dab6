"""What an iteration is: the one definition of its settings (the launch form and the API derive from it).

Each iteration trains the policy on what earlier iterations found (plus seed data), trains decoupled EBMs,
evaluates on held-out theorems at one node budget, searches the training theorems for the next iteration's
data and measures the embeddings on a fixed probe set. Every run it launches takes `run` (the run settings
of prover.engine.spec.RunSpec: servers, Lean, workers) and its own dataset and search settings; every training
run takes the loop's own settings from `sft`, `joint` and `ebm`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from prover.engine.config import SearchConfig
from prover.engine.spec import DEFAULT_STRATEGY, SpecError, checked_values, setting

PolicyTraining = Literal["sft", "joint", "none"]
CONFIGS = ("A", "B", "C")  # BurnQED's attribution configs (docs/expert-iteration.md#configs-a-b-and-c)


def _search() -> SearchConfig:
    return SearchConfig.for_strategy(DEFAULT_STRATEGY)


@dataclass(frozen=True)
class IterationSpec:
    train_dataset: str | int = field(metadata=setting(
        "theorems searched for training data (never an evaluation theorem: names are checked)", required=True))
    eval_dataset: str | int = field(metadata=setting("held-out theorems every evaluation runs on", required=True))
    train_split: str = field(default="", metadata=setting("only training theorems of this split; empty for all"))
    train_limit: int | None = field(default=None, metadata=setting(
        "at most this many training theorems (in name order); null for all", minimum=1, maximum=100_000))
    eval_split: str = field(default="", metadata=setting("only held-out theorems of this split; empty for all"))
    eval_limit: int | None = field(default=None, metadata=setting(
        "at most this many held-out theorems (in name order); null for all", minimum=1, maximum=100_000))
    policy_training: PolicyTraining = field(default="sft", metadata=setting(
        "how the policy learns each iteration: LoRA SFT, joint SFT + EBM through the same LoRA, or not at all",
        choices=("sft", "joint", "none")))
    configs: tuple[str, ...] = field(default=CONFIGS, metadata=setting(
        "EBM configs to evaluate: A (previous policy + decoupled EBM), B (this policy + decoupled EBM on its "
        "embeddings), C (this policy + its jointly trained EBM)", choices=CONFIGS))
    chain_length: int = field(default=1, metadata=setting(
        "iterations to run one after the other, each starting from the last", minimum=1, maximum=20))
    model_path: str = field(default="", metadata=setting(
        "base model folder for the training loops; empty: the embedded model"))
    base_adapter: int | None = field(default=None, metadata=setting(
        "LoRA checkpoint (artifact id) the first iteration starts from; empty: the base model", minimum=1))
    seed_data: tuple[int, ...] = field(default=(), metadata=setting(
        "SFT data (artifact ids of kind sft_data) every policy training uses besides the harvested proofs"))
    search: SearchConfig = field(default_factory=_search, metadata=setting(
        "search settings of every evaluation (the same node budget for LLM-only and LLM+EBM)"))
    train_search: SearchConfig = field(default_factory=_search, metadata=setting(
        "search settings on the training theorems (probe tactics may help find first proofs)"))
    run: dict[str, Any] = field(default_factory=dict, metadata=setting(
        "run settings for every run it launches (policy_url, encoder_url, lean, lean_workers, concurrency, "
        "chunk_size, prompt_format)"))
    sft: dict[str, Any] = field(default_factory=dict, metadata=setting("LoRA SFT loop settings (max_steps, ...)"))
    joint: dict[str, Any] = field(default_factory=dict, metadata=setting("joint training loop settings"))
    ebm: dict[str, Any] = field(default_factory=dict, metadata=setting("EBM training loop settings (steps, ...)"))

    # Run settings an iteration chooses itself, per run.
    OWN_RUN_SETTINGS = ("dataset", "split", "theorems", "limit", "search", "adapter", "ebm_path")

    @classmethod
    def from_mapping(cls, raw: Any) -> IterationSpec:
        values = checked_values(cls, raw, what="the iteration config")
        clash = sorted(set(values["run"]) & set(cls.OWN_RUN_SETTINGS))
        if clash:
            raise SpecError({f"run.{clash[0]}": ["chosen by the iteration for each run, not settable here"]}, values)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out.update(configs=list(self.configs), seed_data=list(self.seed_data), search=self.search.to_dict(),
                   train_search=self.train_search.to_dict())
        return out

    def loop_settings(self, kind: str) -> Mapping[str, Any]:
        return {"sft": self.sft, "joint": self.joint, "ebm": self.ebm}.get(kind, {})
