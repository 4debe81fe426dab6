"""/encode: shapes, masked mean pool, padding invariance, coalescing, OOM halving, the value package's client."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import torch

from tests.serving.conftest import start_server, stop_server

TEXTS = [
    "⊢ ∀ x : ℝ, x ^ 2 ≥ 0",
    "n : ℕ\nh : 0 < n\n⊢ n ≠ 0 ∧ ¬(n = 0) → ⟨n, h⟩ = ⟨n, h⟩",
    "a",
]


def in_process_mean_pool(model, tokenizer, texts: list[str]) -> torch.Tensor:
    """Right-padded batch through the decoder, mean over real tokens: the definition /encode must follow."""
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    assert tokenizer.padding_side == "right"
    with torch.no_grad():
        hidden = model.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return (hidden * mask).sum(1) / mask.sum(1)


def test_single_text_gives_one_vector_of_hidden_size(client):
    reply = client.post("/encode", json={"text": TEXTS[0], "hidden_size": 64}).json()
    assert set(reply) == {"embedding"}
    assert len(reply["embedding"]) == 64


def test_batch_gives_one_vector_per_text_equal_to_in_process_mean_pool(client, tiny_model):
    model, tokenizer = tiny_model
    reply = client.post("/encode", json={"text": TEXTS}).json()
    vectors = torch.tensor(reply["embeddings"])
    assert vectors.shape == (3, 64)
    assert torch.allclose(vectors, in_process_mean_pool(model, tokenizer, TEXTS), atol=1e-5)
    assert not torch.allclose(vectors[0], vectors[1], atol=1e-3)  # different texts, different vectors


def test_vector_does_not_depend_on_batch_neighbours(client):
    alone = torch.tensor(client.post("/encode", json={"text": TEXTS[2]}).json()["embedding"])
    batched = torch.tensor(client.post("/encode", json={"text": TEXTS}).json()["embeddings"][2])
    assert torch.allclose(alone, batched, atol=1e-5)


def test_concurrent_requests_are_coalesced_into_fewer_forward_passes(server):
    before = server.stats()

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            return await asyncio.gather(*[http.post("/encode", json={"text": f"⊢ {i} < {i + 1}"}) for i in range(8)])

    replies = asyncio.run(fire())
    assert all(r.status_code == 200 for r in replies)
    after = server.stats()
    assert after["encode_requests"] - before["encode_requests"] == 8
    assert after["encode_forward_passes"] - before["encode_forward_passes"] < 8
    # Coalescing must not mix answers up: each reply is that text's own vector.
    with server.client() as http:
        for i, reply in enumerate(replies):
            alone = http.post("/encode", json={"text": f"⊢ {i} < {i + 1}"}).json()["embedding"]
            assert torch.allclose(torch.tensor(reply.json()["embedding"]), torch.tensor(alone), atol=1e-5)


async def test_value_package_encoder_client_drives_this_server(server):
    from prover.value.encoder_client import EncoderClient

    async with EncoderClient(server.url, hidden_size=64, max_batch_texts=2) as encoder:
        vectors = await encoder.encode(TEXTS)
    assert vectors.shape == (3, 64)
    with server.client() as http:
        direct = torch.tensor(http.post("/encode", json={"text": TEXTS}).json()["embeddings"])
    assert torch.allclose(vectors.float(), direct, atol=1e-5)


@pytest.fixture(scope="module")
def fault_server(tiny_model_dir):
    """Encode forwards of more than 2 texts and generate forwards of more than 3 rows raise
    torch.OutOfMemoryError (fault injection on the real paths)."""
    running = start_server(
        tiny_model_dir, "--dtype", "fp32", "--encode-max-batch", "8", "--encode-linger-ms", "100",
        env={"BURNQED_SERVING_FAULT_ENCODE_OOM_ABOVE": "2", "BURNQED_SERVING_FAULT_GENERATE_OOM_ABOVE": "3"},
    )  # fmt: skip
    yield running
    stop_server(running)


def test_out_of_memory_halves_the_sub_batch_until_it_fits(fault_server, tiny_model):
    model, tokenizer = tiny_model
    texts = [f"⊢ x{i} = x{i}" for i in range(7)]
    with fault_server.client() as http:
        reply = http.post("/encode", json={"text": texts})
    assert reply.status_code == 200, reply.text
    vectors = torch.tensor(reply.json()["embeddings"])
    assert torch.allclose(vectors, in_process_mean_pool(model, tokenizer, texts), atol=1e-5)
    stats = fault_server.stats()
    # 7 texts: a sub-batch of 7 fails, then 4 fails, then 2 + 2 + 2 + 1 succeed.
    assert stats["encode_oom_halvings"] == 2
    assert stats["encode_forward_passes"] == 4


def test_generation_out_of_memory_splits_the_batch_and_keeps_the_answers(fault_server, client):
    body = {"text": [f"⊢ {i} ≤ {i + 1}" for i in range(7)], "sampling_params": {"max_new_tokens": 5, "temperature": 0}}
    with fault_server.client() as http:
        reply = http.post("/generate", json=body)
    assert reply.status_code == 200, reply.text
    assert [item["text"] for item in reply.json()] == [item["text"] for item in client.post("/generate", json=body).json()]
    # Admitting 7 rows fails, then 4; 2 decode; once they drain, 5 fail and 3 decode; then the last 2.
    stats = fault_server.stats()
    assert stats["generate_oom_halvings"] == 3
    assert stats["generate_batches"] == 3


def test_out_of_memory_at_batch_size_one_is_raised_not_swallowed(tiny_model_dir):
    from prover.serving.encoding import encode_with_halving
    from prover.serving.model_loading import load_model

    loaded = load_model(tiny_model_dir, dtype="fp32", device="cpu")
    sizes: list[int] = []

    def always_oom(batch_size: int) -> None:
        sizes.append(batch_size)
        raise torch.OutOfMemoryError("injected")

    with pytest.raises(torch.OutOfMemoryError):
        encode_with_halving(loaded, [[5, 6, 7]] * 5, max_batch_size=4, forward_hook=always_oom)
    assert sizes == [4, 2, 1]


def test_zero_or_non_finite_vectors_are_errors_never_results():
    from prover.serving.encoding import EmbeddingError, check_embeddings

    check_embeddings(torch.ones(2, 4))
    with pytest.raises(EmbeddingError, match=r"text\[3\].*zeros"):
        check_embeddings(torch.zeros(1, 4), offset=3)
    with pytest.raises(EmbeddingError, match=r"text\[1\].*non-finite"):
        check_embeddings(torch.tensor([[1.0, 2.0], [float("nan"), 1.0]]))


def test_long_texts_are_truncated_to_max_length_tokens(client, tiny_model):
    from tests.serving.conftest import ENCODE_MAX_LENGTH

    model, tokenizer = tiny_model
    long_text = " ".join(f"h{i} : x{i} ≤ x{i + 1}" for i in range(60))
    ids = tokenizer(long_text)["input_ids"]
    assert len(ids) > ENCODE_MAX_LENGTH
    assert client.get("/model_info").json()["encode_max_length"] == ENCODE_MAX_LENGTH
    vector = torch.tensor(client.post("/encode", json={"text": long_text}).json()["embedding"])
    with torch.no_grad():
        hidden = model.model(input_ids=torch.tensor([ids[:ENCODE_MAX_LENGTH]])).last_hidden_state[0]
    assert torch.allclose(vector, hidden.mean(0), atol=1e-5)
