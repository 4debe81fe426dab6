"""Masked mean-pooled embeddings from the backbone's last hidden state, in sub-batches that halve on OOM.

Texts are right-padded and the pool is sum(h * mask) / sum(mask) over real tokens only, computed in
float32 whatever the model dtype, so a text's vector does not depend on what it was batched with. Texts are
sorted by length before they are cut into sub-batches, so a sub-batch holds texts of similar length and the
forward spends little on padding (proof states vary from a line to hundreds of tokens); vectors come back in
the order asked.
A zero or non-finite vector means something broke (SGLang's batched hidden states came back as zeros,
docs/value-model.md#embeddings); it raises instead of being returned.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import torch

from prover.serving.model_loading import LoadedModel, pad_token_id


class EmbeddingError(RuntimeError):
    """A computed embedding is zero or not finite."""


def tokenize_for_encoding(loaded: LoadedModel, texts: list[str], max_length: int) -> list[list[int]]:
    # Truncation is done here, not by the tokenizer: asking a fast tokenizer to truncate reconfigures its
    # Rust object, which races ("Already borrowed") with the generation thread decoding at the same time.
    encoded = loaded.tokenizer(texts, add_special_tokens=True)
    return [list(ids)[:max_length] for ids in encoded["input_ids"]]


def mean_pool_batch(
    loaded: LoadedModel,
    token_ids: list[list[int]],
    *,
    model_lock: threading.Lock | None = None,
    forward_hook: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """One forward pass over right-padded `token_ids`; returns float32 [len(token_ids), hidden] on CPU."""
    width = max(len(ids) for ids in token_ids)
    input_ids = torch.full((len(token_ids), width), pad_token_id(loaded.tokenizer), dtype=torch.long)
    mask = torch.zeros((len(token_ids), width), dtype=torch.long)
    for i, ids in enumerate(token_ids):
        input_ids[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        mask[i, : len(ids)] = 1
    input_ids, mask = input_ids.to(loaded.device), mask.to(loaded.device)
    if forward_hook is not None:
        forward_hook(len(token_ids))
    with model_lock or threading.Lock(), torch.inference_mode():
        if loaded.runner is not None:
            hidden = loaded.runner.last_hidden_state(input_ids, mask)
        else:
            hidden = loaded.decoder()(input_ids=input_ids, attention_mask=mask).last_hidden_state
    weights = mask.unsqueeze(-1).to(torch.float32)
    pooled = (hidden.to(torch.float32) * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
    return pooled.cpu()


def check_embeddings(vectors: torch.Tensor, offset: int = 0, *, names: list[int] | None = None) -> None:
    """Raise for a zero or non-finite row; it is named text[names[i]] (or text[offset + i])."""
    finite = torch.isfinite(vectors).all(dim=1)
    nonzero = vectors.abs().amax(dim=1) > 0
    for i in range(vectors.shape[0]):
        name = names[i] if names is not None else offset + i
        if not bool(finite[i]):
            raise EmbeddingError(f"embedding of text[{name}] has non-finite values (NaN/inf)")
        if not bool(nonzero[i]):
            raise EmbeddingError(f"embedding of text[{name}] is all zeros")


def encode_with_halving(
    loaded: LoadedModel,
    token_ids: list[list[int]],
    *,
    max_batch_size: int,
    model_lock: threading.Lock | None = None,
    forward_hook: Callable[[int], None] | None = None,
    on_oom: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """Embed all texts in sub-batches of at most `max_batch_size`, halving the size after each OOM.

    The smaller size sticks for the rest of the call (memory that ran out once will run out again);
    an OOM at size 1 is re-raised. `on_oom(failed_size)` is told about each halving.
    """
    order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
    by_length = [token_ids[i] for i in order]
    results: list[torch.Tensor] = []
    size = max(1, max_batch_size)
    start = 0
    while start < len(by_length):
        chunk = by_length[start : start + size]
        try:
            vectors = mean_pool_batch(loaded, chunk, model_lock=model_lock, forward_hook=forward_hook)
        except torch.OutOfMemoryError:
            if loaded.device.startswith("cuda"):
                torch.cuda.empty_cache()
            if len(chunk) == 1:
                raise
            if on_oom is not None:
                on_oom(len(chunk))
            size = (len(chunk) + 1) // 2  # rounding up keeps a failing 3 at 2 rather than 1
            continue
        check_embeddings(vectors, names=order[start : start + len(chunk)])
        results.append(vectors)
        start += len(chunk)
    sorted_vectors = torch.cat(results, dim=0)
    vectors = torch.empty_like(sorted_vectors)
    vectors[torch.tensor(order)] = sorted_vectors
    return vectors
