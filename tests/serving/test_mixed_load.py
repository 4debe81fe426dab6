"""/generate and /encode at the same time share one model: both answer correctly, neither blocks the other."""

from __future__ import annotations

import asyncio

import httpx
import torch

from tests.serving.test_encode import TEXTS
from tests.serving.test_generate import PROMPT


async def test_interleaved_generate_and_encode_requests_all_succeed_with_correct_answers(server, client):
    generate_body = {"text": PROMPT, "sampling_params": {"max_new_tokens": 24, "temperature": 0, "stop": ["∀"]}}
    expected_text = client.post("/generate", json=generate_body).json()["text"]
    expected_vectors = torch.tensor(client.post("/encode", json={"text": TEXTS}).json()["embeddings"])

    async with httpx.AsyncClient(base_url=server.url, timeout=300) as http:
        calls = []
        for i in range(12):
            calls.append(http.post("/generate", json=generate_body))
            calls.append(http.post("/encode", json={"text": TEXTS[i % 3]}))
        replies = await asyncio.gather(*calls)
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies if r.status_code != 200]
    for i in range(12):
        assert replies[2 * i].json()["text"] == expected_text
        vector = torch.tensor(replies[2 * i + 1].json()["embedding"])
        assert torch.allclose(vector, expected_vectors[i % 3], atol=1e-5)
