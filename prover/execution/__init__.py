"""How a worker executes a run: the Celery side of one chunk, the recorder of its events, its files."""
