"""SFT data: split by theorem name, the sorry filter, example text, loss masking, BOS handling, padding."""

from __future__ import annotations

import pytest

from prover.policy.prompts import DEEPSEEK_BOS, format_prompt, training_completion
from tests.training.sft_helpers import pair_rows, tiny_tokenizer, write_jsonl
from theorem_data.errors import DataFileError
from theorem_data.splits import is_validation, name_fraction, split_by_name
from training.sft.dataset import (
    IGNORE_INDEX,
    collate,
    load_examples,
    prompt_token_ids,
    tokenize_example,
    tokenize_examples,
)

# ------------------------------------------------------------------------------------------------- split


def test_split_by_name_has_no_overlap_and_is_deterministic():
    items = [(f"theorem_{i % 400}", step) for i in range(2000) for step in range(1)]
    train, val = split_by_name(items, lambda it: it[0], 0.1)
    train_names, val_names = {n for n, _ in train}, {n for n, _ in val}
    assert train_names and val_names and not train_names & val_names
    assert len(train) + len(val) == len(items)
    again_train, again_val = split_by_name(list(reversed(items)), lambda it: it[0], 0.1)
    assert {n for n, _ in again_val} == val_names and {n for n, _ in again_train} == train_names
    assert 0.05 < len(val_names) / 400 < 0.15
    assert all(is_validation(n, 0.1) for n in val_names)


def test_split_fraction_is_a_pure_function_of_the_name_and_validated():
    assert name_fraction("mathd_algebra_478") == name_fraction("mathd_algebra_478")
    assert 0.0 <= name_fraction("x") <= 1.0
    assert split_by_name(["a", "b"], str, 0.0) == (["a", "b"], [])
    for bad in (-0.1, 1.0, 2):
        with pytest.raises(ValueError, match="val_fraction"):
            split_by_name(["a"], str, bad)
    with pytest.raises(ValueError):
        name_fraction("")


# --------------------------------------------------------------------------------------------- examples


def test_examples_from_pairs_and_proof_paths_use_the_shared_prompt(tmp_path):
    pairs = write_jsonl(tmp_path / "pairs.jsonl", [{"name": "a", "state_before": "⊢ 1 = 1", "tactic": "rfl"}])
    paths = write_jsonl(tmp_path / "paths.jsonl",
                        [{"theorem": "b", "state": "x : ℕ\n⊢ x = x", "tactic": "  rfl", "depth": 0}])
    loaded = load_examples([pairs, paths], "deepseek-prover")
    assert [(e.theorem, e.state) for e in loaded.examples] == [("a", "⊢ 1 = 1"), ("b", "x : ℕ\n⊢ x = x")]
    example = loaded.examples[1]
    assert example.text == format_prompt("deepseek-prover", state="x : ℕ\n⊢ x = x") + training_completion(
        "deepseek-prover", "  rfl")
    assert [f["records"] for f in loaded.files] == [1, 1] and all(len(f["sha256"]) == 64 for f in loaded.files)


def test_a_sorry_anywhere_rejects_the_whole_theorem_across_files(tmp_path):
    first = write_jsonl(tmp_path / "one.jsonl", [
        {"name": "bad", "state_before": "⊢ p", "tactic": "intro h"},
        {"name": "good", "state_before": "⊢ q", "tactic": "simp"},
        {"name": "ax", "state_before": "⊢ r", "tactic": "exact sorryAx _"},
    ])
    second = write_jsonl(tmp_path / "two.jsonl", [
        {"theorem": "bad", "state": "h : p\n⊢ p", "tactic": "exact sorry"},
        {"theorem": "cheater", "state": "⊢ s", "tactic": "admit"},
        {"theorem": "fine", "state": "⊢ t", "tactic": "exact sorry_lemma"},  # an identifier, not the word
    ])
    loaded = load_examples([first, second], "goal-proofstep")
    assert sorted(loaded.theorems) == ["fine", "good"]
    assert set(loaded.rejected_theorems) == {"bad", "ax", "cheater"}
    assert "two.jsonl:1" in loaded.rejected_theorems["bad"]


def test_duplicate_steps_are_dropped_once(tmp_path):
    row = {"name": "a", "state_before": "⊢ 1 = 1", "tactic": "rfl"}
    path = write_jsonl(tmp_path / "dup.jsonl", [row, row, {**row, "tactic": "rfl "}])
    loaded = load_examples([path], "goal-proofstep")
    assert len(loaded.examples) == 1 and loaded.duplicates == 2
    assert len(load_examples([path], "goal-proofstep", dedupe=False).examples) == 3


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"name": "a", "state_before": "⊢ p"', "malformed JSON"),
        ('["a"]', "JSON object"),
        ('{"name": "a", "tactic": "simp"}', "missing tactic state"),
        ('{"name": "a", "state_before": "⊢ p", "tactic": 3}', "'tactic' must be a string"),
        ('{"name": "a", "state_before": "⊢ p", "tactic": "  "}', "empty tactic"),
    ],
)
def test_bad_records_name_the_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"name": "ok", "state_before": "⊢ p", "tactic": "simp"}\n\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=message) as info:
        load_examples([path], "deepseek-prover")
    assert info.value.line == 3 and str(path) in str(info.value) and "line 3" in str(info.value)


def test_missing_or_empty_files_and_theorem_formats_are_refused(tmp_path):
    with pytest.raises(DataFileError, match="cannot open"):
        load_examples([tmp_path / "nope.jsonl"], "deepseek-prover")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(DataFileError, match="empty file"):
        load_examples([tmp_path / "empty.jsonl"], "deepseek-prover")
    with pytest.raises(ValueError, match="theorem statement"):
        load_examples([tmp_path / "empty.jsonl"], "deepseek-whole-proof")


def test_the_bundled_minif2f_tactic_pairs_load():
    loaded = load_examples(["data/tactic_pairs/minif2f_test_tactic_pairs_internlm2.jsonl"], "deepseek-prover")
    assert len(loaded.examples) > 100
    assert not any("sorry" in e.tactic for e in loaded.examples)


# -------------------------------------------------------------------------------------------- tokenising


def test_prompt_tokens_are_masked_and_completion_tokens_are_labels():
    tok = tiny_tokenizer()
    prompt = format_prompt("goal-proofstep", state="x : ℕ\n⊢ x + 0 = x")
    completion = training_completion("goal-proofstep", "simp [Nat.add_comm]")
    item = tokenize_example(tok, prompt, completion, max_length=512, bos_in_text=False)
    assert item.input_ids[: item.prompt_length] == prompt_token_ids(tok, prompt, bos_in_text=False)
    assert item.labels[: item.prompt_length] == [IGNORE_INDEX] * item.prompt_length
    assert item.labels[item.prompt_length :] == item.input_ids[item.prompt_length :]
    assert tok.decode(item.input_ids[item.prompt_length :]) == completion + tok.eos_token
    assert tok.decode(item.input_ids[: item.prompt_length]) == prompt
    assert item.trained_tokens == len(item.input_ids) - item.prompt_length


def test_completion_is_tokenised_after_the_prompt_even_when_bpe_merges_across_the_boundary():
    tok = tiny_tokenizer()
    # The deepseek prompt ends with two spaces of indentation, which byte-level BPE would merge with the tactic.
    prompt = format_prompt("deepseek-prover", state="⊢ 2 = 2")
    completion = training_completion("deepseek-prover", "norm_num")
    plain = list(tok(prompt, add_special_tokens=False)["input_ids"])
    assert list(tok(prompt + completion, add_special_tokens=False)["input_ids"])[: len(plain)] != plain  # merged
    item = tokenize_example(tok, prompt, completion, max_length=512, bos_in_text=True)
    assert item.input_ids[: item.prompt_length] == plain
    assert tok.decode(item.input_ids[item.prompt_length :]).startswith("norm_num")


def _bos_adding_tokenizer():
    """The tiny tokenizer with the DeepSeek BOS marker as its BOS token, prepended by default like DeepSeek's."""
    from tokenizers.processors import TemplateProcessing

    from prover.serving.tiny_model import build_tiny_tokenizer

    tok = build_tiny_tokenizer()
    tok.add_special_tokens({"bos_token": DEEPSEEK_BOS})
    tok._tokenizer.post_processor = TemplateProcessing(
        single=f"{DEEPSEEK_BOS} $A", special_tokens=[(DEEPSEEK_BOS, tok.bos_token_id)])
    return tok


def test_bos_in_text_gives_exactly_one_bos():
    tok = _bos_adding_tokenizer()
    bos = tok.bos_token_id
    prompt = format_prompt("deepseek-prover", state="⊢ 1 = 1")
    assert list(tok(prompt)["input_ids"])[:2] == [bos, bos]  # what a naive trainer would feed
    item = tokenize_example(tok, prompt, training_completion("deepseek-prover", "rfl"), max_length=512,
                            bos_in_text=True)
    assert item.input_ids[0] == bos and item.input_ids.count(bos) == 1
    # A format without the marker gets the tokenizer's own BOS, once.
    plain = format_prompt("goal-proofstep", state="⊢ 1 = 1")
    item = tokenize_example(tok, plain, "rfl", max_length=512, bos_in_text=False)
    assert item.input_ids[0] == bos and item.input_ids.count(bos) == 1


def test_truncation_keeps_the_prompt_and_drops_examples_with_no_room():
    tok = tiny_tokenizer()
    prompt = format_prompt("goal-proofstep", state="⊢ 1 = 1")
    n = len(prompt_token_ids(tok, prompt, bos_in_text=False))
    item = tokenize_example(tok, prompt, "nlinarith [sq_nonneg (a - b), sq_nonneg (a + b)]", max_length=n + 2,
                            bos_in_text=False)
    assert item.truncated and len(item.input_ids) == len(item.labels) == n + 2 and item.trained_tokens == 2
    assert tokenize_example(tok, prompt, "rfl", max_length=n, bos_in_text=False) is None


def test_tokenize_examples_counts_and_collate_pads_right(tmp_path):
    tok = tiny_tokenizer()
    loaded = load_examples([write_jsonl(tmp_path / "p.jsonl", pair_rows(3))], "goal-proofstep")
    items, counts = tokenize_examples(tok, loaded.examples, "goal-proofstep", max_length=512)
    assert counts == {"kept": 6, "dropped_too_long": 0, "truncated": 0}
    ids, mask, labels = collate(items[:3], pad_id=tok.pad_token_id)
    for row, item in enumerate(items[:3]):
        n = len(item.input_ids)
        assert ids[row, :n].tolist() == item.input_ids and mask[row, :n].all() and not mask[row, n:].any()
        assert (ids[row, n:] == tok.pad_token_id).all() and (labels[row, n:] == IGNORE_INDEX).all()
