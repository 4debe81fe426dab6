"""Embedding sources for EBM training: a small sync protocol, a cache, and two adapters.

`Embedder.embed(texts) -> Tensor[n, D]`. `HttpEmbedder` goes through `prover.value.EncoderClient`
(`POST /encode`, production); `InProcessEmbedder` mean-pools a transformers model's last hidden state with
`prover.serving.encoding` (tests, small runs) -- the same pooling the encode server uses, so a head
trained on either serves with the other. `CachedEmbedder` embeds each distinct text once and refuses
empty texts (a terminal has no state text; docs/value-model.md#embeddings).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import torch


class EmbeddingError(RuntimeError):
    """An embedding source failed or returned something unusable."""


@runtime_checkable
class Embedder(Protocol):
    embedding_dim: int
    backbone_id: str

    def embed(self, texts: Sequence[str]) -> torch.Tensor: ...


def _check_texts(texts: Sequence[str]) -> None:
    if isinstance(texts, str):
        raise TypeError("embed() takes a sequence of texts, not a single string")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text {i} must be a str, got {type(text).__name__}")
        if not text.strip():
            raise ValueError(f"text {i} is empty: terminal states have no text and are never embedded")


class CachedEmbedder:
    """Wraps an embedder: each distinct text goes to it once, in batches of at most `batch_size`."""

    def __init__(self, inner: Embedder, *, batch_size: int = 64) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.inner = inner
        self.batch_size = batch_size
        self.embedding_dim = inner.embedding_dim
        self.backbone_id = inner.backbone_id
        self._cache: dict[str, torch.Tensor] = {}
        self.texts_embedded = 0

    def __len__(self) -> int:
        return len(self._cache)

    def embed(self, texts: Sequence[str]) -> torch.Tensor:
        _check_texts(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        for start in range(0, len(missing), self.batch_size):
            chunk = missing[start:start + self.batch_size]
            vectors = self.inner.embed(chunk)
            if not isinstance(vectors, torch.Tensor) or vectors.shape != (len(chunk), self.embedding_dim):
                shape = tuple(vectors.shape) if isinstance(vectors, torch.Tensor) else type(vectors).__name__
                raise EmbeddingError(f"embedder returned {shape} for {len(chunk)} texts, "
                                     f"expected ({len(chunk)}, {self.embedding_dim})")
            vectors = vectors.detach().to("cpu", torch.float32)
            bad = ~torch.isfinite(vectors).all(dim=1) | (vectors.abs().amax(dim=1) == 0)
            if bool(bad.any()):
                i = int(bad.nonzero()[0])
                raise EmbeddingError(f"embedding of {chunk[i][:60]!r} is zero or not finite, the mark of a "
                                     "broken encoder (docs/value-model.md#embeddings)")
            for text, vector in zip(chunk, vectors, strict=True):
                self._cache[text] = vector
            self.texts_embedded += len(chunk)
        if not texts:
            return torch.empty(0, self.embedding_dim)
        return torch.stack([self._cache[t] for t in texts])


class HttpEmbedder:
    """Sync adapter over the async `EncoderClient`; it owns a private event loop (and the client's pool)."""

    def __init__(self, base_url: str, *, hidden_size: int, backbone_id: str, max_batch_texts: int = 32,
                 adapter: str | None = None) -> None:
        from prover.value.embedding_cache import EmbeddingCache
        from prover.value.encoder_client import EncoderClient

        self.embedding_dim = hidden_size
        self.backbone_id = backbone_id
        self._loop = asyncio.new_event_loop()
        # The client's own LRU is off: CachedEmbedder keeps every vector the loop needs, once.
        self._client_factory = lambda: EncoderClient(base_url, hidden_size=hidden_size,
                                                     max_batch_texts=max_batch_texts, cache=EmbeddingCache(0),
                                                     lora_path=adapter)
        self._client = None

    def embed(self, texts: Sequence[str]) -> torch.Tensor:
        _check_texts(texts)

        async def run() -> torch.Tensor:
            if self._client is None:
                self._client = self._client_factory()
            return await self._client.encode(list(texts))

        try:
            return self._loop.run_until_complete(run())
        except Exception as exc:
            raise EmbeddingError(f"/encode failed: {exc}") from exc

    def close(self) -> None:
        if self._client is not None:
            self._loop.run_until_complete(self._client.aclose())
            self._client = None
        self._loop.close()


class InProcessEmbedder:
    """Masked mean pool of a transformers causal LM's last hidden state, in this process."""

    def __init__(self, model_path: str | Path, *, device: str = "cpu", dtype: str | None = None, max_length: int = 512,
                 max_batch_size: int = 16, backbone_id: str | None = None, adapter: str | Path | None = None) -> None:
        """`dtype` None: bf16 where the device computes it natively, else fp32 (as the encode server picks)."""
        from prover.serving.model_loading import load_model

        # With a LoRA adapter the embeddings are that policy's: what an EBM trained on them will be served.
        self.loaded = load_model(model_path, dtype=dtype, device=device, adapter=adapter or None)
        self.dtype, self.dtype_reason = self.loaded.dtype, self.loaded.dtype_reason
        self.embedding_dim = self.loaded.hidden_size
        self.backbone_id = backbone_id or str(model_path)
        self.max_length = max_length
        self.max_batch_size = max_batch_size

    def embed(self, texts: Sequence[str]) -> torch.Tensor:
        from prover.serving.encoding import encode_with_halving, tokenize_for_encoding

        _check_texts(texts)
        if not texts:
            return torch.empty(0, self.embedding_dim)
        token_ids = tokenize_for_encoding(self.loaded, list(texts), self.max_length)
        return encode_with_halving(self.loaded, token_ids, max_batch_size=self.max_batch_size)

    def close(self) -> None:
        pass
