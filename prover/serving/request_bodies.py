"""Parse and validate /generate and /encode JSON bodies; every rejection names the offending field.

/generate follows SGLang's native `GenerateReqInput` for the subset the policy client uses; fields SGLang has
but this server does not implement are rejected by name rather than silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prover.serving.generation import SamplingParams

MAX_N = 256
_SAMPLING_KEYS = {
    "max_new_tokens", "temperature", "top_p", "top_k", "stop", "stop_token_ids", "ignore_eos", "n",
    "skip_special_tokens",
}  # fmt: skip
# Accepted only at their SGLang defaults, because clients commonly send them explicitly.
_TOP_LEVEL_DEFAULTS = {"stream": False, "logprob_start_len": -1, "top_logprobs_num": 0, "return_hidden_states": False}


class BadRequest(ValueError):
    """A request body is invalid; `field` is the dotted path of the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class GenerateBody:
    texts: list[str]
    is_batch: bool
    params: list[SamplingParams]  # one per text
    return_logprob: bool
    return_text_in_logprobs: bool
    lora_path: str | None = None  # the LoRA adapter to apply (a loaded adapter's name, or its folder)


@dataclass
class EncodeBody:
    texts: list[str]
    is_batch: bool
    hidden_size: int | None
    lora_path: str | None = None


def _lora_path(body: dict, n_texts: int) -> str | None:
    """SGLang's `lora_path`: one name or folder, or one per text; this server applies one adapter per request."""
    value = body.get("lora_path")
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and v for v in values):
        raise BadRequest("lora_path", "must be a non-empty string or a list of them, one per text")
    if isinstance(value, list) and len(values) != n_texts:
        raise BadRequest("lora_path", f"a list must have one entry per text ({n_texts}), got {len(values)}")
    if len(set(values)) > 1:
        raise BadRequest("lora_path", "this server applies one adapter per request; send one request per adapter")
    return values[0]


def _require_object(body: Any) -> dict:
    if not isinstance(body, dict):
        raise BadRequest("body", "must be a JSON object")
    return body


def _texts(body: dict) -> tuple[list[str], bool]:
    if "text" not in body:
        if "input_ids" in body:
            raise BadRequest("input_ids", "is not supported by this server; send 'text'")
        raise BadRequest("text", "is required (a string or a non-empty list of strings)")
    text = body["text"]
    if isinstance(text, str):
        return [text], False
    if not isinstance(text, list) or not text:
        raise BadRequest("text", "must be a string or a non-empty list of strings")
    for i, item in enumerate(text):
        if not isinstance(item, str):
            raise BadRequest(f"text[{i}]", f"must be a string, not {type(item).__name__}")
    return list(text), True


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(field, "must be true or false")
    return value


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(field, "must be a number")
    return float(value)


def _integer(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(field, "must be an integer")
    return value


def parse_sampling_params(raw: Any, field: str = "sampling_params") -> SamplingParams:
    if raw is None:
        return SamplingParams()
    if not isinstance(raw, dict):
        raise BadRequest(field, "must be an object")
    for key in raw:
        if key not in _SAMPLING_KEYS:
            raise BadRequest(f"{field}.{key}", "is not supported by this server")
    values: dict[str, Any] = {}
    if raw.get("max_new_tokens") is not None:
        values["max_new_tokens"] = _integer(raw["max_new_tokens"], f"{field}.max_new_tokens")
        if values["max_new_tokens"] < 1:
            raise BadRequest(f"{field}.max_new_tokens", "must be >= 1")
    if raw.get("temperature") is not None:
        values["temperature"] = _number(raw["temperature"], f"{field}.temperature")
        if not 0.0 <= values["temperature"] < float("inf"):
            raise BadRequest(f"{field}.temperature", "must be a finite number >= 0 (0 means greedy)")
    if raw.get("top_p") is not None:
        values["top_p"] = _number(raw["top_p"], f"{field}.top_p")
        if not 0.0 < values["top_p"] <= 1.0:
            raise BadRequest(f"{field}.top_p", "must be in (0, 1]")
    if raw.get("top_k") is not None:
        values["top_k"] = _integer(raw["top_k"], f"{field}.top_k")
        if values["top_k"] == 0 or values["top_k"] < -1:
            raise BadRequest(f"{field}.top_k", "must be -1 (disabled) or >= 1")
    if raw.get("stop") is not None:
        stop = raw["stop"]
        stops = [stop] if isinstance(stop, str) else stop
        if not isinstance(stops, list):
            raise BadRequest(f"{field}.stop", "must be a string or a list of strings")
        for i, s in enumerate(stops):
            if not isinstance(s, str) or not s:
                raise BadRequest(f"{field}.stop[{i}]", "must be a non-empty string")
        values["stop"] = tuple(stops)
    if raw.get("stop_token_ids") is not None:
        ids = raw["stop_token_ids"]
        if not isinstance(ids, list):
            raise BadRequest(f"{field}.stop_token_ids", "must be a list of integers")
        values["stop_token_ids"] = tuple(_integer(v, f"{field}.stop_token_ids[{i}]") for i, v in enumerate(ids))
    if raw.get("ignore_eos") is not None:
        values["ignore_eos"] = _bool(raw["ignore_eos"], f"{field}.ignore_eos")
    if raw.get("skip_special_tokens") is not None and not _bool(
        raw["skip_special_tokens"], f"{field}.skip_special_tokens"
    ):
        raise BadRequest(f"{field}.skip_special_tokens", "only true (the SGLang default) is supported")
    if raw.get("n") is not None:
        values["n"] = _integer(raw["n"], f"{field}.n")
        if not 1 <= values["n"] <= MAX_N:
            raise BadRequest(f"{field}.n", f"must be between 1 and {MAX_N}")
    return SamplingParams(**values)


def parse_generate_body(body: Any) -> GenerateBody:
    body = _require_object(body)
    known = {"text", "input_ids", "sampling_params", "return_logprob", "return_text_in_logprobs", "rid", "lora_path"}
    for key in body:
        if key in _TOP_LEVEL_DEFAULTS:
            if body[key] not in (None, _TOP_LEVEL_DEFAULTS[key]):
                raise BadRequest(key, f"only {_TOP_LEVEL_DEFAULTS[key]!r} is supported by this server")
        elif key not in known:
            raise BadRequest(key, "is not a field of /generate")
    texts, is_batch = _texts(body)
    raw_params = body.get("sampling_params")
    if isinstance(raw_params, list):
        if not is_batch or len(raw_params) != len(texts):
            raise BadRequest("sampling_params", "a list must have one object per item of 'text'")
        params = [parse_sampling_params(p, f"sampling_params[{i}]") for i, p in enumerate(raw_params)]
    else:
        params = [parse_sampling_params(raw_params)] * len(texts)
    return_logprob = body.get("return_logprob")
    return_text = body.get("return_text_in_logprobs")
    return GenerateBody(
        texts=texts,
        is_batch=is_batch,
        params=params,
        return_logprob=_bool(return_logprob, "return_logprob") if return_logprob is not None else False,
        return_text_in_logprobs=_bool(return_text, "return_text_in_logprobs") if return_text is not None else False,
        lora_path=_lora_path(body, len(texts)),
    )


def parse_encode_body(body: Any) -> EncodeBody:
    body = _require_object(body)
    for key in body:
        if key not in ("text", "hidden_size", "lora_path"):
            raise BadRequest(key, "is not a field of /encode (expected 'text' and optional 'hidden_size', 'lora_path')")
    texts, is_batch = _texts(body)
    hidden_size = body.get("hidden_size")
    if hidden_size is not None:
        hidden_size = _integer(hidden_size, "hidden_size")
    return EncodeBody(texts=texts, is_batch=is_batch, hidden_size=hidden_size, lora_path=_lora_path(body, len(texts)))
