"""The demo eval that the main job launches on the embedded stack: a handful of easy miniF2F-valid problems,
searched best-first by the local SmolLM2 server with minilean as the verifier.

When the repository carries a trained model (`data/embedded/model/adapter/`, a LoRA adapter of the embedded
backbone, and `data/embedded/model/ebm/`, an energy head sized for it, both produced by
`bench/expert_iteration.py`), the demo proves with them and with probe tactics off: every step on the run page is
then the policy's own. Without them, SmolLM2-135M has never seen Lean and its own tactics rarely work, so the
probe tactics (fixed tactics tried after the policy's candidates, docs/search.md#probe-tactics) are what close
the goals; the demo then shows the machinery end to end, not the model, and says so in the log.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from prover.value.checkpoint import CONFIG_FILENAME, WEIGHTS_FILENAME

MODEL_DIR = Path(__file__).resolve().parents[1] / "data/embedded/model"

DEMO_THEOREMS = [
    "mathd_algebra_10", "mathd_algebra_104", "mathd_algebra_109", "mathd_algebra_455", "mathd_algebra_462",
    "mathd_algebra_51", "amc12a_2008_p2", "mathd_numbertheory_102", "mathd_numbertheory_132", "mathd_numbertheory_136",
]

PROBE_TACTICS = ["intros", "norm_num", "linarith", "nlinarith", "positivity", "omega"]

DEMO_CONFIG = {
    "dataset": "minif2f-valid",
    "theorems": DEMO_THEOREMS,
    "chunk_size": 2,
    "search": {
        "strategy": "best_first",
        "num_candidates": 4,
        "max_tactic_tokens": 32,
        "max_nodes": 12,
        "timeout_s": 240,
        "probe_tactics": PROBE_TACTICS,
    },
}


@dataclass(frozen=True)
class TrainedModel:
    adapter: Path | None  # a peft LoRA folder (adapter_config.json), or None
    ebm: Path | None  # an energy-head folder (safetensors + config), or None

    @classmethod
    def find(cls, folder: Path = MODEL_DIR) -> TrainedModel:
        adapter, ebm = folder / "adapter", folder / "ebm"
        return cls(adapter if (adapter / "adapter_config.json").is_file() else None,
                   ebm if (ebm / WEIGHTS_FILENAME).is_file() and (ebm / CONFIG_FILENAME).is_file() else None)


def demo_config(*, policy_url: str, model: TrainedModel) -> tuple[dict, str]:
    """The demo's run config and one log line saying what it proves with (and why, when it falls back)."""
    config = copy.deepcopy(DEMO_CONFIG)
    if model.adapter is None:
        return config, (f"demo: no trained adapter in {MODEL_DIR} (run bench/expert_iteration.py to make one): "
                        "base SmolLM2 with probe tactics on; the proofs come from the probes, not the model")
    config["adapter"] = str(model.adapter)
    config["search"]["probe_tactics"] = []
    note = f"demo: trained adapter {model.adapter}, probe tactics off"
    if model.ebm is not None:
        # The embedded server answers /encode as well as /generate, with the same adapter applied.
        config["ebm_path"], config["encoder_url"] = str(model.ebm), policy_url
        note += f", EBM {model.ebm}"
    else:
        note += f"; no EBM head in {MODEL_DIR / 'ebm'}: LLM-only search"
    return config, note
