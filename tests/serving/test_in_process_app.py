"""The server embedded in another program's event loop: the model loop then runs in its own thread."""

from __future__ import annotations

import httpx
from aiohttp import web

from prover.serving.model_loading import load_model
from prover.serving.server import InferenceServer, ServerOptions


async def test_embedded_app_serves_generate_and_encode_and_stops_cleanly(tiny_model_dir):
    server = InferenceServer(load_model(tiny_model_dir, dtype="fp32", device="cpu"), ServerOptions(seed=0))
    runner = web.AppRunner(server.build_app(start_worker_thread=True))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            generated = await http.post("/generate", json={"text": "⊢ 2 = 2", "sampling_params": {"max_new_tokens": 3}})
            encoded = await http.post("/encode", json={"text": ["a", "⊢ b"]})
    finally:
        await runner.cleanup()
    assert generated.status_code == 200 and generated.json()["meta_info"]["completion_tokens"] >= 1
    assert encoded.status_code == 200 and len(encoded.json()["embeddings"]) == 2
    assert server.worker._thread is not None and not server.worker._thread.is_alive()
