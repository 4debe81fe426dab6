"""Async client for an `/encode` server (prover.serving or BurnQED's encode_server), with an LRU cache.

Wire format (docs/value-model.md#embeddings):
  single  POST /encode {"text": "...", "hidden_size": D}          -> {"embedding": [D floats]}
  batch   POST /encode {"text": ["...", ...], "hidden_size": D}   -> {"embeddings": [[D floats], ...]}
                                                                   or [{"embedding": [...]}, ...] (SGLang)
Unlike BurnQED's client, a null, zero or non-finite item is an error, never a silent zero vector: broken
encoders fail that way quietly (docs/value-model.md#embeddings). Texts already cached or already being fetched
by a concurrent call are not sent again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpx
import torch

from prover.value.embedding_cache import EmbeddingCache
from prover.value.embedding_checks import check_embedding_rows, describe_text
from prover.value.errors import EncodeError

SINGLE_TIMEOUT_S = 10.0


def batch_timeout_s(n_texts: int) -> float:
    """BurnQED's batch timeout: 15 s per text, at least 30 s, at most 90 s."""
    return float(min(max(15 * n_texts, 30), 90))


class EncoderClient:
    """Turns texts into embeddings through `POST {base_url}/encode`; results are cached by text."""

    def __init__(
        self,
        base_url: str,
        *,
        hidden_size: int,
        max_batch_texts: int = 32,
        cache: EmbeddingCache | None = None,
        http_client: httpx.AsyncClient | None = None,
        lora_path: str | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"encoder base_url must start with http:// or https://, got {base_url!r}")
        if hidden_size < 1:
            raise ValueError(f"hidden_size must be positive, got {hidden_size}")
        if max_batch_texts < 1:
            raise ValueError(f"max_batch_texts must be positive, got {max_batch_texts}")
        self.url = base_url.rstrip("/") + "/encode"
        self.lora_path = lora_path or None  # the LoRA adapter the server applies before pooling
        self.hidden_size = hidden_size
        self.max_batch_texts = max_batch_texts
        self.cache = cache if cache is not None else EmbeddingCache()
        self.requests_sent = 0
        self._http = http_client or httpx.AsyncClient()
        self._owns_http = http_client is None
        self._in_flight: dict[str, asyncio.Future[torch.Tensor]] = {}

    async def __aenter__(self) -> EncoderClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def encode_one(self, text: str) -> torch.Tensor:
        """The embedding of one text, shape (hidden_size,), float32."""
        return (await self.encode([text]))[0]

    async def encode(self, texts: Sequence[str]) -> torch.Tensor:
        """Embeddings of `texts` in order, shape (len(texts), hidden_size), float32."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts; use encode_one() for a single text")
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text {i} must be a str, got {type(text).__name__}")
            if not text.strip():
                raise ValueError(
                    f"text {i} is empty: a finished proof has no state to embed; score terminal states without the EBM"
                )
        found: dict[str, torch.Tensor] = {}
        waiting: dict[str, asyncio.Future[torch.Tensor]] = {}
        to_fetch: list[str] = []
        for text in dict.fromkeys(texts):
            cached = self.cache.get(text)
            if cached is not None:
                found[text] = cached
            elif text in self._in_flight:
                waiting[text] = self._in_flight[text]
            else:
                to_fetch.append(text)

        if to_fetch:
            loop = asyncio.get_running_loop()
            futures = {text: loop.create_future() for text in to_fetch}
            self._in_flight.update(futures)
            try:
                chunks = [to_fetch[i : i + self.max_batch_texts] for i in range(0, len(to_fetch), self.max_batch_texts)]
                results = await asyncio.gather(*(self._fetch(chunk) for chunk in chunks))
            except BaseException as exc:
                for future in futures.values():
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else EncodeError("encode cancelled"))
                        # Waiters may not exist; mark it read so asyncio does not log it as lost.
                        future.exception()
                raise
            finally:
                for text in to_fetch:
                    self._in_flight.pop(text, None)
            for chunk, vectors in zip(chunks, results, strict=True):
                for text, vector in zip(chunk, vectors, strict=True):
                    self.cache.put(text, vector)
                    futures[text].set_result(vector)
                    found[text] = vector
        for text, future in waiting.items():
            found[text] = await future
        if not texts:
            return torch.empty(0, self.hidden_size)
        return torch.stack([found[text] for text in texts])

    async def _fetch(self, chunk: list[str]) -> torch.Tensor:
        single = len(chunk) == 1
        body = {"text": chunk[0] if single else chunk, "hidden_size": self.hidden_size}
        if self.lora_path:
            body["lora_path"] = self.lora_path
        timeout = SINGLE_TIMEOUT_S if single else batch_timeout_s(len(chunk))
        where = f"/encode at {self.url} ({len(chunk)} text{'s' if len(chunk) != 1 else ''}, first {describe_text(chunk[0])})"
        self.requests_sent += 1
        try:
            response = await self._http.post(self.url, json=body, timeout=timeout)
        except httpx.TimeoutException as exc:
            raise EncodeError(f"{where}: no answer within {timeout:.0f} s") from exc
        except httpx.HTTPError as exc:
            raise EncodeError(f"{where}: request failed: {exc!r}") from exc
        if response.status_code != 200:
            raise EncodeError(f"{where}: HTTP {response.status_code}: {response.text[:300]}")
        try:
            payload = response.json()
        except ValueError as exc:
            raise EncodeError(f"{where}: reply is not JSON: {response.text[:200]!r}") from exc
        rows = self._rows_from_reply(payload, single=single, where=where)
        if len(rows) != len(chunk):
            raise EncodeError(f"{where}: sent {len(chunk)} texts, got {len(rows)} embeddings back")
        for i, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != self.hidden_size:
                size = len(row) if isinstance(row, list) else type(row).__name__
                raise EncodeError(
                    f"{where}: embedding {i} (text {describe_text(chunk[i])}) is {size}, "
                    f"expected a list of {self.hidden_size} numbers"
                )
        try:
            vectors = torch.tensor(rows, dtype=torch.float32)
        except (TypeError, ValueError) as exc:
            raise EncodeError(f"{where}: embeddings hold something other than numbers: {exc}") from exc
        check_embedding_rows(vectors, chunk, width=self.hidden_size, source=where)
        return vectors

    @staticmethod
    def _rows_from_reply(payload: object, *, single: bool, where: str) -> list:
        if single and isinstance(payload, dict) and "embedding" in payload:
            return [payload["embedding"]]
        if isinstance(payload, dict) and isinstance(payload.get("embeddings"), list):
            return payload["embeddings"]
        if isinstance(payload, list) and all(isinstance(item, dict) and "embedding" in item for item in payload):
            return [item["embedding"] for item in payload]
        keys = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
        raise EncodeError(
            f"{where}: reply has neither 'embedding', 'embeddings' nor a list of {{'embedding': ...}} (got {keys})"
        )
