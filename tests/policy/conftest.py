"""Fixtures for the policy tests: an SGLang double on loopback and clients configured for quick tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from prover.policy.client import PolicyClient
from tests.policy.sglang_double import SGLangDouble


@pytest.fixture
async def sglang() -> AsyncIterator[SGLangDouble]:
    server = SGLangDouble()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., PolicyClient]]:
    """Build clients with short backoffs and no minimum deadline; every client is closed afterwards."""
    clients: list[PolicyClient] = []

    def build(base_url: str, **overrides: Any) -> PolicyClient:
        options: dict[str, Any] = {
            "backoff_base_s": 0.01,
            "timeout_min_s": 0.0,
            "timeout_base_s": 30.0,
            "timeout_per_item_s": 1.0,
        }
        options.update(overrides)
        client = PolicyClient(base_url, **options)
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.aclose()
