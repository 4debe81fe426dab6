"""Bad arguments to the client fail before anything is sent, saying which argument and why."""

from __future__ import annotations

import pytest

from prover.policy.client import PolicyClient
from tests.policy.sglang_double import SGLangDouble

GOOD = {"max_new_tokens": 16, "temperature": 0.8, "top_p": 0.95}


@pytest.mark.parametrize(
    ("prompts", "overrides", "error", "message"),
    [
        ("⊢ True", {}, TypeError, "prompts must be a list of strings, got str"),
        (["⊢ True", 3], {}, TypeError, "prompts[1] must be a str, got int"),
        (["⊢ True", " "], {}, ValueError, "prompts[1] is empty"),
        (["⊢ True"], {"n": 0}, ValueError, "n must be an integer >= 1, got 0"),
        (["⊢ True"], {"max_new_tokens": 0}, ValueError, "max_new_tokens must be an integer >= 1"),
        (["⊢ True"], {"temperature": -0.1}, ValueError, "temperature must be >= 0"),
        (["⊢ True"], {"top_p": 0.0}, ValueError, "top_p must be > 0"),
        (["⊢ True"], {"top_p": 1.5}, ValueError, "top_p must be in (0, 1]"),
        (["⊢ True"], {"temperature": float("nan")}, ValueError, "temperature must be a finite number"),
        (["⊢ True"], {"stop": "```"}, TypeError, "stop must be a list of strings or None, got str"),
        (["⊢ True"], {"stop": ["```", ""]}, ValueError, "stop[1] must be a non-empty string"),
    ],
)
async def test_bad_generate_arguments(
    sglang: SGLangDouble, make_client, prompts, overrides, error: type[Exception], message: str
) -> None:
    client = make_client(sglang.base_url)
    with pytest.raises(error) as caught:
        await client.generate(prompts, **{**GOOD, **overrides})
    assert message in str(caught.value)
    assert sglang.requests == []


@pytest.mark.parametrize(
    ("base_url", "options", "message"),
    [
        ("localhost:30000", {}, "base_url must be an http:// or https:// URL"),
        ("http://h", {"chunk_size": 0}, "chunk_size must be an integer >= 1"),
        ("http://h", {"max_retries": -1}, "max_retries must be an integer >= 0"),
        ("http://h", {"timeout_min_s": 10.0, "timeout_max_s": 5.0}, "timeout_min_s (10.0) must not exceed"),
        ("http://h", {"connect_timeout_s": 0}, "connect_timeout_s must be > 0"),
    ],
)
def test_bad_client_settings(base_url: str, options: dict, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        PolicyClient(base_url, **options)
    assert message in str(caught.value)


def test_client_from_config() -> None:
    client = PolicyClient.from_config({"base_url": "http://gpu-1:30000/", "chunk_size": 8, "max_retries": 0})
    assert (client.base_url, client.chunk_size, client.max_retries) == ("http://gpu-1:30000", 8, 0)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"base_url": "http://h", "chunk": 8}, "unknown keys ['chunk']; known keys: ["),
        ({"chunk_size": 8}, "needs base_url"),
        ({"base_url": "http://h", "circuit_breaker": None}, "unknown keys ['circuit_breaker']"),
    ],
)
def test_bad_config_is_rejected(config: dict, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        PolicyClient.from_config(config)
    assert message in str(caught.value)
