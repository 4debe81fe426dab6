"""SGLang's native ``/generate`` wire format, as the client sends and reads it.

Request::

    {"text": str | [str], "sampling_params": {"max_new_tokens": int, "temperature": float,
     "top_p": float, "stop": [str]}, "return_logprob": true}

Reply: one object for a string ``text``, a list of objects (same order) for a list ``text``::

    {"text": str, "meta_info": {"prompt_tokens": int, "completion_tokens": int,
     "finish_reason": {"type": "stop" | "length" | "abort", ...} | null,
     "output_token_logprobs": [[logprob, token_id, token_text | null], ...], ...}}

``sampling_params.n`` is never sent: samples are requested by repeating the prompt in the ``text`` list,
which every SGLang version (and ``prover.serving``) answers in the same order (BurnQED found native
``n > 1`` unreliable: docs/policy.md#sglang-wire-format).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from prover.policy.completion import Completion
from prover.policy.errors import PolicyProtocolError


def generate_request_body(
    texts: Sequence[str], *, max_new_tokens: int, temperature: float, top_p: float, stop: Sequence[str] | None,
    lora_path: str | None = None,
) -> dict[str, Any]:
    """The JSON body for one ``/generate`` call. A single text goes as a string, several as a list.

    ``lora_path`` names the LoRA adapter the server applies to these texts (SGLang's per-request field: an
    adapter the server loaded by that name or path)."""
    sampling_params: dict[str, Any] = {
        "max_new_tokens": max_new_tokens,
        "temperature": temperature,
        "top_p": top_p,
    }
    if stop:
        sampling_params["stop"] = list(stop)
    body = {
        "text": texts[0] if len(texts) == 1 else list(texts),
        "sampling_params": sampling_params,
        "return_logprob": True,
    }
    if lora_path:
        body["lora_path"] = lora_path if len(texts) == 1 else [lora_path] * len(texts)
    return body


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _token_count(meta: dict, key: str, where: str) -> int:
    value = meta.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise PolicyProtocolError(f"{where}: meta_info.{key} is {value!r}, expected a non-negative integer")
    return value


def _finish_reason(meta: dict, where: str) -> str | None:
    reason = meta.get("finish_reason")
    if reason is None:
        return None
    if isinstance(reason, str):
        return reason
    if isinstance(reason, dict) and isinstance(reason.get("type"), str):
        return reason["type"]
    raise PolicyProtocolError(
        f"{where}: meta_info.finish_reason is {reason!r}, expected {{'type': str, ...}}"
    )


def _summed_logprob(meta: dict, where: str) -> float:
    entries = meta.get("output_token_logprobs")
    if not isinstance(entries, list):
        raise PolicyProtocolError(
            f"{where}: meta_info.output_token_logprobs is {type(entries).__name__}, expected a list "
            "(was return_logprob ignored by the server?)"
        )
    total = 0.0
    for j, entry in enumerate(entries):
        if not isinstance(entry, list | tuple) or not entry or not _is_number(entry[0]):
            raise PolicyProtocolError(
                f"{where}: meta_info.output_token_logprobs[{j}] is {entry!r}, expected [logprob, token_id, text]"
            )
        total += float(entry[0])
    if math.isnan(total):
        raise PolicyProtocolError(f"{where}: meta_info.output_token_logprobs contains NaN")
    return total


def _completion(item: object, where: str, max_new_tokens: int) -> Completion:
    if not isinstance(item, dict):
        raise PolicyProtocolError(
            f"{where} is {type(item).__name__}, expected an object with text and meta_info"
        )
    text = item.get("text")
    meta = item.get("meta_info")
    if not isinstance(text, str):
        raise PolicyProtocolError(f"{where}: text is {type(text).__name__}, expected a string")
    if not isinstance(meta, dict):
        raise PolicyProtocolError(f"{where}: meta_info is {type(meta).__name__}, expected an object")
    completion_tokens = _token_count(meta, "completion_tokens", where)
    finish_reason = _finish_reason(meta, where)
    truncated = (
        finish_reason == "length" if finish_reason is not None else completion_tokens >= max_new_tokens
    )
    return Completion(
        # A model may emit NUL (random or small models do). No Lean tactic holds one, and PostgreSQL text and
        # jsonb cannot store one, so it becomes U+FFFD here: the candidate stays (and fails in Lean) as it was.
        text=text.replace("\x00", "\ufffd"),
        logprob=_summed_logprob(meta, where),
        prompt_tokens=_token_count(meta, "prompt_tokens", where),
        completion_tokens=completion_tokens,
        finish_reason=finish_reason,
        truncated=truncated,
    )


def parse_generate_reply(reply: object, *, sent: int, max_new_tokens: int) -> list[Completion]:
    """Completions from a ``/generate`` reply to a request that sent ``sent`` texts (in that order)."""
    if sent == 1:
        return [_completion(reply, "reply", max_new_tokens)]
    if not isinstance(reply, list):
        raise PolicyProtocolError(f"reply is {type(reply).__name__}, expected a list of {sent} objects")
    if len(reply) != sent:
        raise PolicyProtocolError(f"reply has {len(reply)} items for {sent} texts sent")
    return [_completion(item, f"reply[{i}]", max_new_tokens) for i, item in enumerate(reply)]
