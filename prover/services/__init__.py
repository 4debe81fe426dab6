"""Service functions: the only way views, API endpoints, admin actions, commands and tasks change state.

Keyword-only, one per action. They validate, write atomically and raise ServiceError with a message a
user can act on.
"""

from jobs.errors import ServiceError

from .comparison import compare_runs
from .datasets import ImportSummary, import_dataset, import_upload
from .finish import close_reaped_run, finish_run
from .import_jobs import queue_import, runs_in_background
from .launch import cancel_run, launch_run, validate_spec

__all__ = [
    "ImportSummary", "ServiceError", "cancel_run", "close_reaped_run", "compare_runs", "finish_run",
    "import_dataset", "import_upload", "launch_run", "queue_import", "runs_in_background", "validate_spec",
]
