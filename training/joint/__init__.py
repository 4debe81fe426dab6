"""Joint training: LoRA SFT and the goal-conditioned EBM head through one backbone (docs/joint-training.md).
Plain Python: never imports Django.

    from training.joint import JointConfig, train_joint
"""

from training.joint.negatives import contrastive_rows
from training.joint.train import JointAbort, JointConfig, JointConfigError, JointResult, train_joint

__all__ = ["JointAbort", "JointConfig", "JointConfigError", "JointResult", "contrastive_rows", "train_joint"]
