"""LoRA supervised fine-tuning of the policy on (state, tactic) steps. Plain Python: never imports Django.

    from training.sft import SFTConfig, train_sft, load_examples, tokenize_example
"""

from training.sft.dataset import (
    LoadedExamples,
    SFTExample,
    TokenizedExample,
    load_examples,
    tokenize_example,
    tokenize_examples,
)
from training.sft.train import SFTCancelled, SFTConfig, SFTConfigError, SFTResult, train_sft

__all__ = [
    "LoadedExamples",
    "SFTCancelled",
    "SFTConfig",
    "SFTConfigError",
    "SFTExample",
    "SFTResult",
    "TokenizedExample",
    "load_examples",
    "tokenize_example",
    "tokenize_examples",
    "train_sft",
]
