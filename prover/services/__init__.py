"""Service functions: the only way views, API endpoints, admin actions, commands and tasks change state.

Keyword-only, one per action. They validate, write atomically and raise ServiceError with a message a
user can act on.
"""

from .datasets import ImportSummary, import_dataset, import_upload
from .errors import ServiceError
from .launch import cancel_run, finish_run, launch_run, reap_stale_runs  # noqa: E402
from .runs import InvalidTransition, transition_run

__all__ = [
    "ImportSummary", "InvalidTransition", "ServiceError", "cancel_run", "finish_run",
    "import_dataset", "import_upload", "launch_run", "reap_stale_runs", "transition_run",
]
