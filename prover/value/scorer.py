"""Batch scoring of proof states with a GoalConditionedEnergyHead: one encode call and one forward per batch.

Search uses it deferred (docs/value-model.md#scoring): collect every new child of a round, then
`await scorer.score(children, goal)`. The goal is encoded in the same /encode request as the states (and
cached after its first use), so a round costs one HTTP request and one forward, however many children.

Scores are energies: lower = more provable. They are `head(z_state, z_goal)` = raw energy / temperature.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from typing import Protocol

import torch

from prover.value.embedding_checks import check_embedding_rows, describe_text
from prover.value.embedding_text import embedding_text_format
from prover.value.energy_head import GoalConditionedEnergyHead
from prover.value.errors import ScoringError


class EmbeddingSource(Protocol):
    """Anything that embeds texts: EncoderClient over HTTP, or an in-process function."""

    async def encode(self, texts: Sequence[str]) -> torch.Tensor: ...


class EnergyScorer:
    """Scores states against their theorem's goal through an embedding source and an energy head."""

    def __init__(
        self,
        head: GoalConditionedEnergyHead,
        encoder: EmbeddingSource,
        *,
        max_forward_batch: int = 4096,
        forward_in_thread: bool = True,
    ) -> None:
        if max_forward_batch < 1:
            raise ValueError(f"max_forward_batch must be positive, got {max_forward_batch}")
        width = getattr(encoder, "hidden_size", None)
        if width is not None and width != head.config.embedding_dim:
            raise ValueError(
                f"encoder produces {width}-wide embeddings but the head expects {head.config.embedding_dim} "
                f"(backbone {head.config.backbone_id!r})"
            )
        self.head = head.eval()
        self.encoder = encoder
        self.max_forward_batch = max_forward_batch
        # A seed-size forward of a few hundred states takes tens of milliseconds on CPU; running it in a
        # worker thread (torch releases the GIL) keeps the event loop, and the Lean pool on it, responsive.
        self.forward_in_thread = forward_in_thread
        self._format_text = embedding_text_format(head.config.embedding_text_format)

    async def describe(self) -> dict:
        """The head's shape and the backbone it was trained on, and where embeddings come from."""
        config = self.head.config
        return {"backbone_id": config.backbone_id, "embedding_dim": config.embedding_dim,
                "hidden_dims": list(config.hidden_dims), "embedding_text_format": config.embedding_text_format,
                "encoder": getattr(self.encoder, "base_url", type(self.encoder).__name__)}

    async def __aenter__(self) -> EnergyScorer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the embedding source if it holds connections (an EncoderClient does)."""
        close = getattr(self.encoder, "aclose", None)
        if close is not None:
            await close()

    async def score(self, states: Sequence[str], goal: str) -> list[float]:
        """One energy per state (lower = more provable), in the order given."""
        if isinstance(states, str):
            raise TypeError("score() takes a list of states, not a single string")
        if not states:
            return []
        texts = [self._format_text(goal), *(self._format_text(s) for s in states)]
        embeddings = await self.encoder.encode(texts)
        goal_embedding, state_embeddings = embeddings[0], embeddings[1:]
        if self.forward_in_thread:
            return await asyncio.to_thread(self.score_embeddings, state_embeddings, goal_embedding, states)
        return self.score_embeddings(state_embeddings, goal_embedding, states)

    def score_embeddings(
        self,
        state_embeddings: torch.Tensor,
        goal_embedding: torch.Tensor,
        states: Sequence[str] | None = None,
    ) -> list[float]:
        """Energies for precomputed embeddings: (N, D) states against one (D,) goal. `states` only names errors."""
        if self.head.training:
            raise ScoringError("the energy head is in training mode (dropout would randomise scores); call head.eval()")
        if state_embeddings.ndim != 2:
            raise ScoringError(f"state embeddings must be (N, D), got shape {tuple(state_embeddings.shape)}")
        if state_embeddings.shape[0] == 0:
            return []
        parameter = self.head.log_temperature
        device, dtype = parameter.device, parameter.dtype
        goal = goal_embedding.to(device=device, dtype=dtype).reshape(1, -1)
        parts = []
        with torch.inference_mode():
            for start in range(0, state_embeddings.shape[0], self.max_forward_batch):
                chunk = state_embeddings[start : start + self.max_forward_batch].to(device=device, dtype=dtype)
                parts.append(self.head(chunk, goal).reshape(-1))
            energies = (parts[0] if len(parts) == 1 else torch.cat(parts)).float().cpu()
        if not bool(torch.isfinite(energies).all()):
            i = int((~torch.isfinite(energies)).nonzero()[0, 0])
            name = f" (state {describe_text(states[i])})" if states is not None else ""
            raise ScoringError(f"energy of state {i} of {len(energies)}{name} is {float(energies[i])}")
        return energies.tolist()


class _FunctionEmbeddingSource:
    def __init__(self, embed: Callable[[Sequence[str]], torch.Tensor], width: int) -> None:
        self._embed = embed
        self._width = width

    async def encode(self, texts: Sequence[str]) -> torch.Tensor:
        embeddings = self._embed(list(texts))
        if not isinstance(embeddings, torch.Tensor):
            raise ScoringError(f"embedding function returned {type(embeddings).__name__}, expected a torch.Tensor")
        check_embedding_rows(embeddings, texts, width=self._width, source="embedding function")
        return embeddings


class InProcessEnergyScorer(EnergyScorer):
    """The same scorer over an in-process embedding function `embed(texts) -> (len(texts), D) tensor`."""

    def __init__(
        self,
        head: GoalConditionedEnergyHead,
        embed: Callable[[Sequence[str]], torch.Tensor],
        *,
        max_forward_batch: int = 4096,
    ) -> None:
        # No thread hop: the caller is usually a bench or a training loop, not an event loop with Lean on it.
        super().__init__(
            head,
            _FunctionEmbeddingSource(embed, head.config.embedding_dim),
            max_forward_batch=max_forward_batch,
            forward_in_thread=False,
        )

    def score_sync(self, states: Sequence[str], goal: str) -> list[float]:
        """`score` for callers without an event loop."""
        return asyncio.run(self.score(states, goal))


def http_scorer_from_checkpoint(
    checkpoint_dir: str | os.PathLike,
    encoder_url: str,
    *,
    device: str | torch.device = "cpu",
    cache_entries: int = 20_000,
    max_batch_texts: int = 32,
) -> EnergyScorer:
    """What a search worker builds from a run's config: the checkpoint's head over an /encode server.

    The encoder client asks for the head's embedding width, so a server of another width fails on the
    first request with an EncodeError naming both widths. Close it with `await scorer.aclose()`.
    """
    # Imported here so that the scorer itself needs only torch (benchmarks on bare GPU machines).
    from prover.value.checkpoint import load_energy_head
    from prover.value.embedding_cache import EmbeddingCache
    from prover.value.encoder_client import EncoderClient

    head = load_energy_head(checkpoint_dir, device=device)
    client = EncoderClient(
        encoder_url,
        hidden_size=head.config.embedding_dim,
        max_batch_texts=max_batch_texts,
        cache=EmbeddingCache(cache_entries),
    )
    return EnergyScorer(head, client)
