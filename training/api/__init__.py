"""REST API of the training app: training runs, their metric curves, checkpoints."""
