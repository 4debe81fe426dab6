"""The prompt formats of the policy: the one place where prompt text is built.

Search, SFT data formatting and the encoder all call into this module, so the text a model is trained on,
sampled from and embedded from cannot drift apart (BurnQED trained on one template, sampled with a second
and embedded a third: docs/policy.md#one-text-everywhere).

A format is chosen by name from ``PROMPT_FORMATS``. Names are stored with runs and checkpoints, so a
format's text must never change once published: add a new name instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

# DeepSeek's chat markers are plain text in the prompt (the tokenizer maps them to its special tokens).
# They use U+FF5C FULLWIDTH VERTICAL LINE and U+2581 LOWER ONE EIGHTH BLOCK, not ASCII '|' and '_'.
DEEPSEEK_BOS = "<\uff5cbegin\u2581of\u2581sentence\uff5c>"
DEEPSEEK_USER = "<\uff5cUser\uff5c>"
DEEPSEEK_ASSISTANT = "<\uff5cAssistant\uff5c>"

DEFAULT_PROMPT_FORMAT = "deepseek-prover"

# The encoder embeds states through the same template the policy samples from (one embedding input
# everywhere: docs/policy.md#one-text-everywhere). The EBM, the probes and search-time scoring must all call
# `embedding_text`.
EMBEDDING_PROMPT_FORMAT = DEFAULT_PROMPT_FORMAT

PromptInput = Literal["state", "theorem"]


@dataclass(frozen=True)
class PromptFormat:
    """A named prompt format.

    ``needs`` says what the prompt is built from: a tactic state (step search and state-rooted whole
    proofs) or a ``theorem … := by`` statement (whole proofs from the root, pass@N).
    ``continuation_indent`` is the indentation that the prompt itself already supplies to the first
    generated line; later lines of a multi-line completion carry it explicitly.
    ``completion_terminator`` is what a training completion ends with so that the model learns to emit a
    stop sequence (the trainer still appends the tokenizer's EOS).
    ``bos_in_text`` says that the prompt text already starts with the model's BOS marker, so a tokenizer
    that adds BOS by default yields two. Trainer, encoder and local server must tokenize it exactly as the
    production server does, whichever way that is (check with the real tokenizer: docs/policy.md#prompt-formats).
    """

    name: str
    needs: PromptInput
    build: Callable[[str], str]
    step_stop: tuple[str, ...]
    proof_stop: tuple[str, ...]
    continuation_indent: str
    completion_terminator: str
    bos_in_text: bool
    description: str


def _deepseek_state_prompt(state: str) -> str:
    message = "Complete the following Lean 4 code:\n\n```lean4\n/- tactic state:\n" + state + "\n-/\n```"
    return (
        DEEPSEEK_BOS
        + DEEPSEEK_USER
        + message
        + DEEPSEEK_ASSISTANT
        + "```lean4\n/- tactic state:\n"
        + state
        + "\n-/\nexample := by\n  "
    )


def _deepseek_theorem_prompt(statement: str) -> str:
    # The assistant turn repeats the statement so that the model continues the proof body, exactly as the
    # state format primes `example := by`.
    message = "Complete the following Lean 4 code:\n\n```lean4\n" + statement + "\n```"
    return DEEPSEEK_BOS + DEEPSEEK_USER + message + DEEPSEEK_ASSISTANT + "```lean4\n" + statement + "\n  "


def _goal_proofstep_prompt(state: str) -> str:
    return "[GOAL]" + state + "[PROOFSTEP]\n"


PROMPT_FORMATS: dict[str, PromptFormat] = {
    fmt.name: fmt
    for fmt in (
        PromptFormat(
            name="deepseek-prover",
            needs="state",
            build=_deepseek_state_prompt,
            step_stop=("```", "\n\n"),
            proof_stop=("```",),
            continuation_indent="  ",
            completion_terminator="\n```",
            bos_in_text=True,
            description="DeepSeek-Prover-V2 chat template over a tactic state, assistant primed with "
            "`example := by` (BurnQED's prompt, byte for byte).",
        ),
        PromptFormat(
            name="deepseek-whole-proof",
            needs="theorem",
            build=_deepseek_theorem_prompt,
            step_stop=("```", "\n\n"),
            proof_stop=("```",),
            continuation_indent="  ",
            completion_terminator="\n```",
            bos_in_text=True,
            description="DeepSeek-Prover-V2 chat template that continues a `theorem … := by` statement "
            "(whole proofs from the root: hybrid root expansion, pass@N).",
        ),
        PromptFormat(
            name="goal-proofstep",
            needs="state",
            build=_goal_proofstep_prompt,
            step_stop=("\n\n", "[GOAL]"),
            proof_stop=("[GOAL]",),
            continuation_indent="",
            completion_terminator="",
            bos_in_text=False,
            description="`[GOAL]state[PROOFSTEP]` step format, for small models fine-tuned "
            "from scratch; the tactic ends with EOS.",
        ),
    )
}


def get_prompt_format(name: str) -> PromptFormat:
    """Look a format up by name (case-insensitive); unknown names list the known ones."""
    if not isinstance(name, str):
        raise TypeError(f"prompt format name must be a str, got {type(name).__name__}")
    fmt = PROMPT_FORMATS.get(name.strip().lower())
    if fmt is None:
        known = ", ".join(sorted(PROMPT_FORMATS))
        raise ValueError(f"unknown prompt format {name!r}; known formats: {known}")
    return fmt


def _require_text(value: object, what: str, fmt_name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"prompt format {fmt_name!r}: {what} must be a str, got {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"prompt format {fmt_name!r}: {what} is empty")
    return value


def normalize_theorem_statement(statement: str) -> str:
    """Return ``statement`` ending in ``:= by``, with a trailing ``sorry`` placeholder removed.

    Benchmark files store statements as ``theorem … := by sorry`` or ``theorem … := by``; the model must
    see the open ``:= by`` and never the placeholder.
    """
    text = statement.rstrip()
    if text.endswith("sorry"):
        text = text[: -len("sorry")].rstrip()
    if not text.endswith(":= by"):
        tail = text[-40:]
        raise ValueError(
            f"theorem statement must end with ':= by' (optionally followed by 'sorry'); it ends with {tail!r}"
        )
    return text


def theorem_statement_from_expression(name: str, expression: str) -> str:
    """Build ``theorem NAME : EXPR := by`` from a benchmark's closed statement (``∀ … , goal``)."""
    if not name or any(ch.isspace() for ch in name):
        raise ValueError(f"theorem name must be a non-empty identifier without spaces, got {name!r}")
    _require_text(expression, "statement expression", "deepseek-whole-proof")
    return f"theorem {name} : {expression.strip()} := by"


def format_prompt(name: str, *, state: str | None = None, theorem_statement: str | None = None) -> str:
    """The full prompt text for format ``name``.

    State formats take ``state`` (goals joined with a blank line, exactly as search keys them); theorem
    formats take ``theorem_statement`` (``theorem … := by``, optionally preceded by a header of imports
    and ``open`` lines, which is kept verbatim). Passing the other one is an error rather than silently
    ignored, so a caller cannot believe it sent something the model never saw.
    """
    fmt = get_prompt_format(name)
    if fmt.needs == "state":
        if theorem_statement is not None:
            raise ValueError(
                f"prompt format {fmt.name!r} is built from a tactic state; got theorem_statement"
            )
        return fmt.build(_require_text(state, "state", fmt.name))
    if state is not None:
        raise ValueError(f"prompt format {fmt.name!r} is built from a theorem statement; got state")
    statement = _require_text(theorem_statement, "theorem_statement", fmt.name)
    return fmt.build(normalize_theorem_statement(statement))


def stop_sequences(name: str, *, whole_proof: bool) -> list[str]:
    """Stop strings for one tactic (step search) or a whole proof (hybrid, pass@N)."""
    fmt = get_prompt_format(name)
    return list(fmt.proof_stop if whole_proof else fmt.step_stop)


def training_completion(name: str, tactics: str) -> str:
    """The text a model should generate after ``format_prompt(name, …)`` to produce ``tactics``.

    ``tactics`` is one tactic, or a proof body as written in a Lean file. It is first shifted left by its
    first line's indentation (so that line starts the completion, as after the prompt's priming), then
    every later line gets the indentation that the prompt gives the first line: the training text has
    the layout that sampling produces.
    """
    fmt = get_prompt_format(name)
    body = _require_text(tactics, "tactics", fmt.name).strip("\n")
    lines = [line.rstrip() for line in body.split("\n")]
    shift = len(lines[0]) - len(lines[0].lstrip())
    rest = [line[min(shift, len(line) - len(line.lstrip())) :] for line in lines[1:]]
    indented = [fmt.continuation_indent + line if line.strip() else "" for line in rest]
    return "\n".join([lines[0].lstrip(), *indented]) + fmt.completion_terminator


def embedding_text(state: str, *, format_name: str = EMBEDDING_PROMPT_FORMAT) -> str:
    """The text the encoder embeds for a tactic state (the same everywhere: training, probes, search)."""
    fmt = get_prompt_format(format_name)
    if fmt.needs != "state":
        raise ValueError(
            f"prompt format {fmt.name!r} is not built from a tactic state; it cannot embed states"
        )
    return format_prompt(fmt.name, state=state)
