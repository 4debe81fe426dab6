"""SFT examples from step files, and their tokenisation with loss masking on the completion only.

Inputs are JSONL files whose lines are either tactic pairs (``name``, ``state_before``, ``tactic``) or proof
paths from ``python -m prover export-proof-paths`` (``theorem``, ``state``, ``tactic``, ``depth``); both kinds
may be mixed. Each example's text is ``format_prompt(fmt, state=state) + training_completion(fmt, tactic)``,
the prompt search samples from (prover.policy.prompts), so training and sampling cannot drift apart.

A theorem with any tactic using ``sorry``/``admit``/``cheat`` (or ``sorryAx``) is dropped whole, in every
file (docs/training.md#sorry-filter).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prover.policy.banned_words import contains_banned_word
from prover.policy.prompts import format_prompt, get_prompt_format, training_completion
from theorem_data.errors import DataFileError

IGNORE_INDEX = -100
_SORRY_AX = re.compile(r"(?<![A-Za-z0-9_])sorryAx(?![A-Za-z0-9_])")


@dataclass(frozen=True)
class SFTExample:
    theorem: str
    state: str
    tactic: str
    prompt: str
    completion: str
    source: str = ""
    line: int = 0

    @property
    def text(self) -> str:
        return self.prompt + self.completion


@dataclass
class LoadedExamples:
    examples: list[SFTExample]
    files: list[dict] = field(default_factory=list)  # {"path", "sha256", "lines", "examples"}
    rejected_theorems: dict[str, str] = field(default_factory=dict)  # theorem -> "file:line: why"
    duplicates: int = 0

    @property
    def theorems(self) -> set[str]:
        return {e.theorem for e in self.examples}


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def uses_escape_hatch(tactic: str) -> bool:
    return contains_banned_word(tactic) or _SORRY_AX.search(tactic) is not None


def _field(record: dict, keys: Sequence[str], what: str, path: str, line: int) -> str:
    for key in keys:
        if key in record and record[key] is not None:
            value = record[key]
            if not isinstance(value, str):
                raise DataFileError(f"field {key!r} must be a string, got {type(value).__name__}", line=line, path=path)
            return value
    raise DataFileError(
        f"missing {what}: expected one of the fields {', '.join(repr(k) for k in keys)} "
        f"(tactic pairs: name/state_before/tactic; proof paths: theorem/state/tactic)",
        line=line,
        path=path,
    )


def _read_records(path: str) -> Iterable[tuple[int, dict]]:
    try:
        handle = open(path, encoding="utf-8")
    except OSError as exc:
        raise DataFileError(f"cannot open: {exc.strerror or exc}", path=path) from None
    with handle:
        try:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    value = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise DataFileError(f"malformed JSON ({exc.msg} at column {exc.colno})", line=number, path=path) from None
                if not isinstance(value, dict):
                    raise DataFileError("expected a JSON object on this line", line=number, path=path)
                yield number, value
        except UnicodeDecodeError as exc:
            raise DataFileError(f"not UTF-8 text ({exc.reason})", path=path) from None


def load_examples(
    paths: Sequence[str | Path], prompt_format: str, *, dedupe: bool = True
) -> LoadedExamples:
    """Read every file, drop whole theorems that cheat, drop repeated (theorem, state, tactic) steps.

    Raises DataFileError naming the file and the line of the first bad record.
    """
    fmt = get_prompt_format(prompt_format)
    if fmt.needs != "state":
        raise ValueError(f"prompt format {fmt.name!r} is built from a theorem statement; SFT steps need a state format")
    if not paths:
        raise ValueError("no data files given")
    raw: list[tuple[str, int, str, str, str]] = []
    rejected: dict[str, str] = {}
    files: list[dict] = []
    for given in paths:
        path = str(given)
        count = 0
        for line, record in _read_records(path):
            name = _field(record, ("name", "theorem"), "theorem name", path, line).strip()
            state = _field(record, ("state_before", "state"), "tactic state", path, line)
            tactic = _field(record, ("tactic",), "tactic", path, line)
            if not name:
                raise DataFileError("empty theorem name", line=line, path=path)
            if not state.strip():
                raise DataFileError(f"empty tactic state (theorem {name!r})", line=line, path=path)
            if not tactic.strip():
                raise DataFileError(f"empty tactic (theorem {name!r})", line=line, path=path)
            if uses_escape_hatch(tactic) and name not in rejected:
                rejected[name] = f"{path}:{line}: tactic {tactic.strip()[:80]!r} uses sorry/admit/cheat"
            raw.append((name, state, tactic, path, line))
            count += 1
        if count == 0:
            raise DataFileError("no records (empty file)", path=path)
        files.append({"path": path, "sha256": file_sha256(path), "records": count})

    examples: list[SFTExample] = []
    seen: set[tuple[str, str, str]] = set()
    duplicates = 0
    for name, state, tactic, path, line in raw:
        if name in rejected:
            continue
        key = (name, state, tactic.strip())
        if dedupe and key in seen:
            duplicates += 1
            continue
        seen.add(key)
        examples.append(
            SFTExample(
                theorem=name,
                state=state,
                tactic=tactic,
                prompt=format_prompt(fmt.name, state=state),
                completion=training_completion(fmt.name, tactic),
                source=path,
                line=line,
            )
        )
    for entry in files:
        entry["examples"] = sum(1 for e in examples if e.source == entry["path"])
    return LoadedExamples(examples=examples, files=files, rejected_theorems=rejected, duplicates=duplicates)


# ---------------------------------------------------------------------------------------------- tokenising


@dataclass(frozen=True)
class TokenizedExample:
    input_ids: list[int]
    labels: list[int]  # IGNORE_INDEX on the prompt, the token id on completion tokens (and the final EOS)
    prompt_length: int
    truncated: bool = False

    @property
    def trained_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


def _adds_bos(tokenizer) -> bool:
    """Whether the tokenizer prepends its BOS with add_special_tokens=True (Llama/DeepSeek yes, SmolLM2 no)."""
    bos = tokenizer.bos_token_id
    if bos is None:
        return False
    ids = list(tokenizer("a", add_special_tokens=True)["input_ids"])
    return bool(ids) and ids[0] == bos


def prompt_token_ids(tokenizer, prompt: str, *, bos_in_text: bool, adds_bos: bool | None = None) -> list[int]:
    """The prompt's ids with exactly the BOS the model sees at inference, never two.

    With ``bos_in_text`` the prompt text starts with the BOS marker, which the tokenizer maps to its BOS id:
    no BOS is added on top. Otherwise the tokenizer's own BOS is prepended when it adds one by default.
    """
    ids = list(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    bos = tokenizer.bos_token_id
    if adds_bos is None:
        adds_bos = _adds_bos(tokenizer)
    if not bos_in_text and adds_bos and bos is not None and (not ids or ids[0] != bos):
        ids = [bos, *ids]
    while bos is not None and len(ids) >= 2 and ids[0] == bos and ids[1] == bos:
        ids = ids[1:]
    return ids


def tokenize_example(
    tokenizer,
    prompt: str,
    completion: str,
    *,
    max_length: int,
    bos_in_text: bool,
    add_eos: bool = True,
    adds_bos: bool | None = None,
) -> TokenizedExample | None:
    """Prompt ids (labels -100) followed by completion ids (+ EOS) as labels; None when nothing is left to train.

    The mask is the prompt's token length. The completion's ids are those of the full text after the prompt's
    ids when the prompt tokenises to a prefix of the full text; when a BPE merge crosses the boundary they are
    the completion tokenised alone, since at inference the model continues the prompt's own ids.
    Sequences longer than ``max_length`` lose the end of the completion; an example whose prompt leaves no
    room for one completion token returns None.
    """
    if max_length < 2:
        raise ValueError(f"max_length must be at least 2, got {max_length}")
    prompt_ids = prompt_token_ids(tokenizer, prompt, bos_in_text=bos_in_text, adds_bos=adds_bos)
    plain_prompt = list(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    full = list(tokenizer(prompt + completion, add_special_tokens=False)["input_ids"])
    if full[: len(plain_prompt)] == plain_prompt:
        completion_ids = full[len(plain_prompt) :]
    else:
        completion_ids = list(tokenizer(completion, add_special_tokens=False)["input_ids"])
    if add_eos and tokenizer.eos_token_id is not None:
        completion_ids = [*completion_ids, int(tokenizer.eos_token_id)]
    if not completion_ids or len(prompt_ids) >= max_length:
        return None
    ids = prompt_ids + completion_ids
    truncated = len(ids) > max_length
    ids = ids[:max_length]
    labels = [IGNORE_INDEX] * len(prompt_ids) + ids[len(prompt_ids) :]
    return TokenizedExample(input_ids=ids, labels=labels, prompt_length=len(prompt_ids), truncated=truncated)


def tokenize_examples(
    tokenizer, examples: Sequence[SFTExample], prompt_format: str, *, max_length: int
) -> tuple[list[TokenizedExample], dict]:
    """Tokenise every example; returns the kept ones and counts (kept, dropped_too_long, truncated)."""
    fmt = get_prompt_format(prompt_format)
    adds_bos = _adds_bos(tokenizer)
    kept: list[TokenizedExample] = []
    dropped = truncated = 0
    for example in examples:
        item = tokenize_example(
            tokenizer, example.prompt, example.completion, max_length=max_length,
            bos_in_text=fmt.bos_in_text, adds_bos=adds_bos,
        )
        if item is None:
            dropped += 1
            continue
        truncated += item.truncated
        kept.append(item)
    return kept, {"kept": len(kept), "dropped_too_long": dropped, "truncated": truncated}


def collate(batch: Sequence[TokenizedExample], pad_id: int):
    """Right-padded tensors: input_ids (pad_id), attention_mask (0 on pads), labels (-100 on pads)."""
    import torch

    width = max(len(item.input_ids) for item in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, item in enumerate(batch):
        n = len(item.input_ids)
        input_ids[row, :n] = torch.tensor(item.input_ids, dtype=torch.long)
        labels[row, :n] = torch.tensor(item.labels, dtype=torch.long)
        mask[row, :n] = 1
    return input_ids, mask, labels
