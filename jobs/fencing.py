"""The deployment's fences (docs/security.md) applied to a user's config: the allowed service hosts and data
roots come from settings, the checks themselves are the pure functions of prover.engine.fences."""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from prover.engine.fences import FenceError, check_path, check_service_url

# Config keys, in any run or training config, that a worker reads as a server's base URL or as a file to open.
URL_KEYS = ("policy_url", "encoder_url")
PATH_KEYS = ("adapter", "ebm_path", "model_path", "init_adapter", "init_from", "data_files", "trajectory_files")
# Where a job writes is the service's choice alone.
SERVICE_OWNED_KEYS = ("output_dir",)


def service_hosts() -> list[str]:
    """BURNQED_SERVICE_HOSTS plus the hosts of the deployment's own policy and encoder URLs."""
    own = [urlsplit(url).hostname or "" for url in (settings.BURNQED_POLICY_URL, settings.BURNQED_ENCODER_URL) if url]
    return [*settings.BURNQED_SERVICE_HOSTS, *own]


def own_stores() -> list[tuple[str, int]]:
    """The (host, port) of the service's Redis and database: a run's URL must never point a worker at them."""
    stores = []
    redis = urlsplit(settings.REDIS_URL)
    if redis.hostname:
        stores.append((redis.hostname, redis.port or 6379))
    database = settings.DATABASES["default"]
    if database.get("HOST"):
        stores.append((database["HOST"], int(database.get("PORT") or 5432)))
    return stores


def read_roots() -> list[str]:
    """Folders a worker may read user-named files from: the data roots and the service's own artifact folders."""
    return [*map(str, settings.BURNQED_DATA_ROOTS), str(settings.BURNQED_CHECKPOINT_DIR),
            str(settings.BURNQED_TRAJECTORY_DIR)]


def fence_errors(config: Mapping[str, Any], *, prefix: str = "") -> dict[str, list[str]]:
    """Field errors for every URL, path and service-owned key of `config` that crosses a fence."""
    if not isinstance(config, Mapping):
        return {}
    errors: dict[str, list[str]] = {}
    hosts, roots, stores = service_hosts(), read_roots(), own_stores()
    for key in SERVICE_OWNED_KEYS:
        if key in config:
            errors[prefix + key] = ["is chosen by the service (under BURNQED_CHECKPOINT_DIR), never by a run"]
    for key in URL_KEYS:
        value = config.get(key)
        if isinstance(value, str) and value.strip():
            try:
                check_service_url(value.strip(), allowed_hosts=hosts, refused=stores)
            except FenceError as exc:
                errors.setdefault(prefix + key, []).append(str(exc))
    for key in PATH_KEYS:
        value = config.get(key)
        values = value if isinstance(value, list | tuple) else [value]
        for index, item in enumerate(values):
            if not (isinstance(item, str) and item.strip()):
                continue
            try:
                check_path(item, roots=roots)
            except FenceError as exc:
                where = f"{prefix}{key}[{index}]" if isinstance(value, list | tuple) else prefix + key
                errors.setdefault(where, []).append(str(exc))
    return errors
