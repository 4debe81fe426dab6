"""Fixtures for prover.value: tiny heads, and a loopback /encode server speaking the real wire format.

The encode server stands in for a GPU backbone (which cannot run here): it answers BurnQED's
/encode bodies over real HTTP with deterministic vectors derived from each text, and records every request
so tests can count round trips.
"""

from __future__ import annotations

import hashlib
import socket
from dataclasses import dataclass, field

import pytest
import torch
from aiohttp import web

from prover.value.energy_head import EnergyHeadConfig, GoalConditionedEnergyHead

TINY_DIM = 64


def text_vector(text: str, dim: int) -> list[float]:
    """A deterministic pseudo-random vector for `text` (same text, same vector, in every process)."""
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(dim, generator=generator).tolist()


@dataclass
class EncodeServerDouble:
    """What the loopback server saw, and how it should misbehave."""

    dim: int
    url: str = ""
    bodies: list[dict] = field(default_factory=list)
    reply_style: str = "custom"  # "custom": {"embeddings": ...}; "sglang": [{"embedding": ...}, ...]
    status: int = 200
    drop_last: bool = False
    width_override: int | None = None

    @property
    def requests(self) -> int:
        return len(self.bodies)

    def embed(self, text: str) -> list[float] | None:
        # Markers in the text let tests provoke the failure modes of real encoders.
        if "ZERO" in text:
            return [0.0] * self.dim
        if "NAN" in text:
            return [float("nan")] + [1.0] * (self.dim - 1)
        if "NULL" in text:
            return None
        return text_vector(text, self.width_override or self.dim)


@pytest.fixture
async def encode_server() -> EncodeServerDouble:
    double = EncodeServerDouble(dim=TINY_DIM)

    async def encode(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        double.bodies.append(body)
        if double.status != 200:
            return web.Response(status=double.status, text="backbone out of memory")
        text = body["text"]
        if isinstance(text, str):
            return web.json_response({"embedding": double.embed(text)})
        vectors = [double.embed(t) for t in text]
        if double.drop_last:
            vectors = vectors[:-1]
        if double.reply_style == "sglang":
            return web.json_response([{"embedding": v} for v in vectors])
        return web.json_response({"embeddings": vectors})

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/encode", encode)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    port = sock.getsockname()[1]
    double.url = f"http://127.0.0.1:{port}"
    yield double
    await runner.cleanup()


@pytest.fixture
def tiny_config() -> EnergyHeadConfig:
    return EnergyHeadConfig.for_embedding_dim(TINY_DIM, backbone_id="tests/tiny-random")


@pytest.fixture
def tiny_head(tiny_config: EnergyHeadConfig) -> GoalConditionedEnergyHead:
    torch.manual_seed(0)
    return GoalConditionedEnergyHead(tiny_config).eval()
