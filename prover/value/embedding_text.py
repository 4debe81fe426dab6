"""The text that is embedded for a proof state, by name.

BurnQED v1 trained its EBM on one wrapping of the state text and searched with another, so the head saw
different inputs at training and at search time. A head's checkpoint therefore records the format name, and
the scorer wraps states with exactly that format (docs/value-model.md#embeddings).

`raw_state` (the state string itself) is BurnQED's v2 choice, shared with the separation probes. A chat-prompt
format would be added here by name, so that it can never be used by accident under the raw name.
"""

from __future__ import annotations

from collections.abc import Callable


def raw_state(state: str) -> str:
    return state


EMBEDDING_TEXT_FORMATS: dict[str, Callable[[str], str]] = {
    "raw_state": raw_state,
}


def embedding_text_format(name: str) -> Callable[[str], str]:
    """The formatter registered under `name`; an unknown name is an error listing the known ones."""
    try:
        return EMBEDDING_TEXT_FORMATS[name]
    except KeyError:
        raise ValueError(
            f"unknown embedding text format {name!r}; known: {sorted(EMBEDDING_TEXT_FORMATS)}"
        ) from None
