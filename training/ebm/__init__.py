"""EBM training (decoupled, frozen embeddings): samples from trajectory files, an InfoNCE loop for
GoalConditionedEnergyHead, checkpoints with their lineage, and a CLI. No Django here."""
