"""Training: the Django app (training runs, checkpoints, metrics, iterations); data/ and the loops stay Django-free."""
