"""Compute every probe for one checkpoint: embed the probe set's texts once, then the metrics
(docs/probes.md). Metric names are "probe/<name>"; with several heads, rank metrics are "probe/<head>/<name>"
and the unqualified rank names hold the best head's (the iteration table reads probe/rank1_depth4).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import torch

from prover.value.monitoring import centroid_l2
from training.probes.metrics import (
    delta_cosine,
    effective_dimension,
    linear_probe_accuracy,
    rank1_at_decision_points,
)
from training.probes.probe_set import ProbeSet

Embed = Callable[[Sequence[str]], torch.Tensor]
RANK_DEPTH = 4  # BurnQED's key figure: rank-1 at depth 4 and deeper


def _head_metrics(head, vectors: dict[str, torch.Tensor], probe_set: ProbeSet) -> dict[str, float]:
    energies = []
    was_training = head.training
    head.eval()
    # Embeddings come back on the CPU (as /encode gives them); the head may be training on a GPU.
    weight = next(head.parameters(), None)
    device = weight.device if weight is not None else torch.device("cpu")
    with torch.no_grad():
        for point in probe_set.decision_points:
            states = torch.stack([vectors[c.text] for c in point.children]).to(device)
            energies.append(head(states, vectors[point.goal].unsqueeze(0).to(device)).reshape(-1).tolist())
    head.train(was_training)
    positives = [[c.positive for c in p.children] for p in probe_set.decision_points]
    depths = [[c.depth for c in p.children] for p in probe_set.decision_points]
    overall = rank1_at_decision_points(energies, positives, depths)
    deep = rank1_at_decision_points(energies, positives, depths, min_depth=RANK_DEPTH)
    out = {"rank1": overall["rank1"], "rank1_random": overall["random"],
           "sibling_discrimination": overall["lift"], "energy_gap": overall["energy_gap"],
           "decision_points": overall["points"],
           "rank1_depth4": deep["rank1"], "rank1_depth4_random": deep["random"], "decision_points_depth4": deep["points"]}
    return {k: v for k, v in out.items() if not (isinstance(v, float) and math.isnan(v))}


def compute_probes(embed: Embed, probe_set: ProbeSet, *, heads: Mapping[str, torch.nn.Module] | None = None,
                   batch_size: int = 32) -> dict[str, float]:
    """All probe metrics of the embeddings `embed` gives (and of each head on them), by metric name."""
    heads = dict(heads or {})
    texts = probe_set.texts() if heads else [s.text for s in probe_set.states]
    vectors: dict[str, torch.Tensor] = {}
    for start in range(0, len(texts), batch_size):
        chunk = texts[start:start + batch_size]
        for text, vector in zip(chunk, embed(chunk).detach().to("cpu", torch.float32), strict=True):
            vectors[text] = vector
    pos = torch.stack([vectors[t] for t in probe_set.positive])
    neg = torch.stack([vectors[t] for t in probe_set.negative])
    metrics = {
        "probe/centroid_l2": centroid_l2(pos, neg),
        "probe/linear_probe_acc": linear_probe_accuracy(pos, neg),
        "probe/delta_cosine": delta_cosine(pos, neg),
        "probe/effective_dim": effective_dimension(torch.cat((pos, neg))),
        "probe/size": float(len(pos) + len(neg)),
    }
    metrics = {k: v for k, v in metrics.items() if not math.isnan(v)}
    per_head = {name: _head_metrics(head, vectors, probe_set) for name, head in heads.items()}
    for name, values in per_head.items():
        if len(per_head) > 1 or name:
            metrics.update({f"probe/{name}/{k}": v for k, v in values.items()})
    if per_head:
        def key(item):
            return (item[1].get("rank1_depth4", -1.0), item[1].get("rank1", -1.0))
        best_name, best = max(per_head.items(), key=key)
        metrics.update({f"probe/{k}": v for k, v in best.items()})
    return metrics


def model_embedder(model, tokenizer, *, device: str, max_length: int = 512) -> Embed:
    """Masked mean of the last hidden state of a (peft) causal LM being trained: the pooling the encode server
    uses (prover.serving.encoding), so in-training probes match a probe run on the saved checkpoint."""
    from prover.serving.model_loading import pad_token_id

    pad = pad_token_id(tokenizer)

    def embed(texts: Sequence[str]) -> torch.Tensor:
        ids = [list(x)[:max_length] for x in tokenizer(list(texts), add_special_tokens=True)["input_ids"]]
        width = max(len(x) for x in ids)
        input_ids = torch.full((len(ids), width), pad, dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for i, x in enumerate(ids):
            input_ids[i, :len(x)] = torch.tensor(x)
            mask[i, :len(x)] = 1
        causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
        was_training = model.training
        model.eval()
        with torch.no_grad():
            hidden = causal_lm.get_decoder()(input_ids=input_ids.to(device), attention_mask=mask.to(device)).last_hidden_state
        model.train(was_training)
        weights = mask.to(device).unsqueeze(-1).float()
        return ((hidden.float() * weights).sum(1) / weights.sum(1).clamp(min=1.0)).cpu()

    return embed
