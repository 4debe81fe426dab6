"""EncoderClient against a loopback server speaking the /encode wire format over real HTTP."""

from __future__ import annotations

import asyncio
import socket

import pytest
import torch

from prover.value.embedding_cache import EmbeddingCache
from prover.value.encoder_client import EncoderClient, batch_timeout_s
from prover.value.errors import EncodeError

from .conftest import TINY_DIM, text_vector


def as_tensor(texts: list[str]) -> torch.Tensor:
    return torch.tensor([text_vector(t, TINY_DIM) for t in texts])


async def test_batch_uses_the_list_body_and_returns_rows_in_order(encode_server) -> None:
    texts = ["⊢ 1 + 1 = 2", "x : ℕ\n⊢ x ≤ x ^ 2", "⊢ True"]
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        embeddings = await client.encode(texts)
    assert encode_server.bodies == [{"text": texts, "hidden_size": TINY_DIM}]
    assert embeddings.dtype == torch.float32 and embeddings.shape == (3, TINY_DIM)
    torch.testing.assert_close(embeddings, as_tensor(texts))


async def test_single_text_uses_the_single_body(encode_server) -> None:
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        vector = await client.encode_one("⊢ 2 ≤ 3")
    assert encode_server.bodies == [{"text": "⊢ 2 ≤ 3", "hidden_size": TINY_DIM}]
    torch.testing.assert_close(vector, as_tensor(["⊢ 2 ≤ 3"])[0])


async def test_sglang_style_list_reply_is_accepted(encode_server) -> None:
    encode_server.reply_style = "sglang"
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        embeddings = await client.encode(["⊢ a", "⊢ b"])
    torch.testing.assert_close(embeddings, as_tensor(["⊢ a", "⊢ b"]))


async def test_second_call_is_served_from_the_cache_without_http(encode_server) -> None:
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        first = await client.encode(["⊢ a", "⊢ b"])
        second = await client.encode(["⊢ b", "⊢ a", "⊢ a"])
        assert encode_server.requests == 1 == client.requests_sent
        torch.testing.assert_close(second, first[[1, 0, 0]])
        # Only what is new goes over the wire.
        await client.encode(["⊢ a", "⊢ c"])
    assert encode_server.bodies[-1] == {"text": "⊢ c", "hidden_size": TINY_DIM}
    assert encode_server.requests == 2
    assert (client.cache.stats.hits, client.cache.stats.misses) == (3, 3)  # counted per distinct text


async def test_duplicates_in_one_call_are_sent_once(encode_server) -> None:
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        embeddings = await client.encode(["⊢ a", "⊢ b", "⊢ a"])
    assert encode_server.bodies == [{"text": ["⊢ a", "⊢ b"], "hidden_size": TINY_DIM}]
    torch.testing.assert_close(embeddings[0], embeddings[2])


async def test_cache_is_bounded_and_evicts_the_least_recently_used(encode_server) -> None:
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM, cache=EmbeddingCache(max_entries=2)) as client:
        await client.encode(["⊢ a", "⊢ b"])
        await client.encode(["⊢ a"])  # a is now more recent than b
        await client.encode(["⊢ c"])  # evicts b
        assert len(client.cache) == 2 and "⊢ b" not in client.cache and "⊢ a" in client.cache
        requests = encode_server.requests
        await client.encode(["⊢ b"])
    assert encode_server.requests == requests + 1
    assert client.cache.stats.evictions == 2


async def test_large_batches_are_split_into_sub_batches(encode_server) -> None:
    texts = [f"⊢ x{i} = x{i}" for i in range(10)]
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM, max_batch_texts=4) as client:
        embeddings = await client.encode(texts)
    assert [len(body["text"]) for body in encode_server.bodies] == [4, 4, 2]
    torch.testing.assert_close(embeddings, as_tensor(texts))


async def test_concurrent_calls_for_the_same_text_share_one_request(encode_server) -> None:
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        a, b = await asyncio.gather(client.encode(["⊢ goal", "⊢ s1"]), client.encode(["⊢ goal", "⊢ s2"]))
    sent = [t for body in encode_server.bodies for t in ([body["text"]] if isinstance(body["text"], str) else body["text"])]
    assert sorted(sent) == ["⊢ goal", "⊢ s1", "⊢ s2"]
    torch.testing.assert_close(a[0], b[0])


@pytest.mark.parametrize(
    ("bad_text", "message"),
    [("⊢ ZERO", "is the zero vector"), ("⊢ NAN", r"non-finite values \(NaN or inf\)"), ("⊢ NULL", "is NoneType")],
)
async def test_unusable_vectors_are_errors_naming_the_item(encode_server, bad_text, message) -> None:
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        with pytest.raises(EncodeError, match=rf"embedding 1 .*{bad_text[2:]}.*{message}"):
            await client.encode(["⊢ fine", bad_text])
        # Nothing from the failed batch is cached, so a retry asks again.
        assert len(client.cache) == 0


async def test_wrong_width_is_an_error(encode_server) -> None:
    encode_server.width_override = TINY_DIM + 1
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        with pytest.raises(EncodeError, match=f"embedding 0 .* is {TINY_DIM + 1}, expected a list of {TINY_DIM} numbers"):
            await client.encode(["⊢ a", "⊢ b"])


async def test_short_reply_is_an_error(encode_server) -> None:
    encode_server.drop_last = True
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        with pytest.raises(EncodeError, match="sent 3 texts, got 2 embeddings back"):
            await client.encode(["⊢ a", "⊢ b", "⊢ c"])


async def test_http_error_status_is_reported_with_the_body(encode_server) -> None:
    encode_server.status = 503
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        with pytest.raises(EncodeError, match="HTTP 503: backbone out of memory"):
            await client.encode(["⊢ a", "⊢ b"])


async def test_unreachable_server_is_an_encode_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with EncoderClient(f"http://127.0.0.1:{port}", hidden_size=TINY_DIM) as client:
        with pytest.raises(EncodeError, match="request failed"):
            await client.encode(["⊢ a"])


async def test_bad_texts_are_rejected_before_any_request(encode_server) -> None:
    async with EncoderClient(encode_server.url, hidden_size=TINY_DIM) as client:
        with pytest.raises(ValueError, match="text 1 is empty"):
            await client.encode(["⊢ a", "  "])
        with pytest.raises(TypeError, match="text 0 must be a str"):
            await client.encode([3])
        with pytest.raises(TypeError, match="use encode_one"):
            await client.encode("⊢ a")
        assert (await client.encode([])).shape == (0, TINY_DIM)
    assert encode_server.requests == 0


def test_client_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="must start with http"):
        EncoderClient("localhost:30001", hidden_size=8)
    assert batch_timeout_s(1) == 30 and batch_timeout_s(4) == 60 and batch_timeout_s(100) == 90
