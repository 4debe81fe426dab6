"""The kinds of job the service runs, registered by the apps that define them (in AppConfig.ready()).

The consumer finds a job's model by its kind, the reaper visits every kind, and each kind may say what
else must happen when its worker is found dead (a search run also closes its theorem results).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class JobKind:
    model: type
    on_reaped: Callable[[object], None] | None = None
    reaped: bool = True  # False for a job with no worker of its own (an iteration: its steps are reaped)


_KINDS: dict[str, JobKind] = {}


def register(model: type, *, on_reaped: Callable[[object], None] | None = None, reaped: bool = True) -> None:
    kind = model.channel_kind
    if not kind:
        raise ValueError(f"{model.__name__} must name its channel_kind")
    _KINDS[kind] = JobKind(model, on_reaped, reaped)


def kinds() -> dict[str, JobKind]:
    return dict(_KINDS)


def model_of(kind: str) -> type:
    return _KINDS[kind].model
