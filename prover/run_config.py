"""The configuration of a run, validated field by field: what to prove, how to search, which backends.

One place turns a user's mapping (form, JSON body, cloned run) into the normalised dict stored on the Run.
Every problem is reported with its field (dotted inside `search`), all at once.
"""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from django.conf import settings

from prover.engine.config import ConfigError, SearchConfig

LEAN_BACKENDS = ("minilean", "pantograph")

# field -> (default, description). Defaults that depend on the deployment come from settings.
RUN_FIELDS: dict[str, str] = {
    "dataset": "dataset name or id",
    "split": "only theorems of this split (e.g. test)",
    "theorems": "only these theorem names (a subset of the dataset)",
    "limit": "at most this many theorems (after the filters, in name order)",
    "search": "search settings: strategy, budgets, sampling (prover.engine.config.SearchConfig)",
    "policy_url": "SGLang-compatible /generate server",
    "encoder_url": "/encode server for the EBM (required with ebm_path)",
    "ebm_path": "EBM checkpoint folder (safetensors + config.json); empty for LLM-only search",
    "prompt_format": "prompt format name (prover.policy.prompts)",
    "lean": "minilean (the stand-in) or pantograph (real Lean)",
    "pantograph_repl": "the pantograph-repl command, for lean=pantograph",
    "lean_workers": "Lean REPL processes per task",
    "concurrency": "theorems searched at once per task",
    "chunk_size": "theorems per Celery task: smaller chunks spread a run over more workers",
    "allow_lean_version_mismatch": "run even if the dataset declares another Lean version",
}


def defaults() -> dict[str, Any]:
    return {
        "split": "",
        "theorems": [],
        "limit": None,
        "search": {"strategy": "best_first"},
        "policy_url": settings.BURNQED_POLICY_URL,
        "encoder_url": settings.BURNQED_ENCODER_URL,
        "ebm_path": "",
        "prompt_format": "deepseek-prover",
        "lean": settings.BURNQED_LEAN,
        "pantograph_repl": "pantograph-repl",
        "lean_workers": 1,
        "concurrency": 1,
        "chunk_size": 4,
        "allow_lean_version_mismatch": False,
    }


def _url_error(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return "must be an http(s) URL"
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return f"must be an http(s) URL, got {value!r}"
    return None


def _positive_int(value: Any, upper: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= upper:
        return f"must be an integer from 1 to {upper}, got {value!r}"
    return None


def normalise(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """(config, errors): the config with defaults filled in and `search` expanded to every engine field."""
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not isinstance(raw, Mapping):
        return {}, {"non_field_errors": ["the run config must be a JSON object"]}
    for key in sorted(set(raw) - set(RUN_FIELDS)):
        fail(key, f"unknown field; known fields: {', '.join(RUN_FIELDS)}")
    config = {**defaults(), **{k: v for k, v in raw.items() if k in RUN_FIELDS}}

    if not config.get("dataset") and config.get("dataset") != 0:
        fail("dataset", "choose a dataset")
    if not isinstance(config["split"], str):
        fail("split", "must be a string")
    names = config["theorems"]
    if isinstance(names, str):
        names = [n for n in (part.strip() for part in names.replace(",", "\n").splitlines()) if n]
        config["theorems"] = names
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        fail("theorems", "must be a list of theorem names")
    if config["limit"] not in (None, "") and (error := _positive_int(config["limit"], 100_000)):
        fail("limit", error)
    if config["limit"] == "":
        config["limit"] = None

    search = config["search"]
    if not isinstance(search, Mapping):
        fail("search", "must be an object of search settings")
    else:
        try:
            config["search"] = SearchConfig.from_mapping(search, where="search").to_dict()
        except ConfigError as exc:
            # "search: max_depth: must be >= 1" -> field search.max_depth
            parts = str(exc).split(": ", 2)
            if len(parts) == 3 and " " not in parts[1]:
                fail(f"search.{parts[1]}", parts[2])
            else:
                fail("search", str(exc).removeprefix("search: "))

    if error := _url_error(config["policy_url"]):
        fail("policy_url", error)
    if config["ebm_path"]:
        if not config["encoder_url"]:
            fail("encoder_url", "an EBM needs an /encode server")
        elif error := _url_error(config["encoder_url"]):
            fail("encoder_url", error)
    if config["lean"] not in LEAN_BACKENDS:
        fail("lean", f"must be one of {', '.join(LEAN_BACKENDS)}, got {config['lean']!r}")
    for name, upper in (("lean_workers", 64), ("concurrency", 64), ("chunk_size", 10_000)):
        if error := _positive_int(config[name], upper):
            fail(name, error)
    if not isinstance(config["allow_lean_version_mismatch"], bool):
        fail("allow_lean_version_mismatch", "must be true or false")
    return config, errors
