"""The llama.cpp engine against the transformers reference on a tiny random Llama (exported to an f32 GGUF):
the same logits through a left-padded prefill and decode steps, the same effect of a LoRA adapter (converted to
a GGUF adapter), rows that share a prompt, and log-probs over HTTP. Tolerance: 5e-2 absolute on logits of scale
~10 (llama.cpp keeps its KV cache in f16, 11 bits of mantissa: up to 2e-2 seen; docs/llama-cpp-engine.md)."""

from __future__ import annotations

import json

import httpx
import pytest
import torch

from prover.serving.decode_batch import DecodeBatch
from prover.serving.generation import Row, SamplingParams
from prover.serving.gguf_files import GGUFExportError, write_lora_gguf
from prover.serving.model_loading import ModelLoadError, load_model
from tests.serving.conftest import start_server, stop_server
from tests.serving.test_decode_batch import PROMPTS
from tests.serving.test_fused_llama import decode_logits

pytest.importorskip("llama_cpp", reason="llama-cpp-python is built by bin/_venv.sh")

TOLERANCE = 5e-2
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@pytest.fixture(autouse=True)
def model_cache(tmp_path, monkeypatch):
    """Exports and converted adapters go to a per-test cache, not the user's."""
    monkeypatch.setenv("BURNQED_MODEL_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def random_adapter(tiny_model_dir, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(3)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype="float32")
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=TARGETS, init_lora_weights=False)
    get_peft_model(base, lora).save_pretrained(tmp_path / "lora")
    return tmp_path / "lora"


def test_llama_cpp_logits_equal_transformers_through_prefill_and_decode(tiny_model_dir, model_cache):
    llama = load_model(tiny_model_dir, dtype="fp32", device="cpu", engine="llamacpp")
    reference = load_model(tiny_model_dir, dtype="fp32", device="cpu", engine="transformers")
    assert llama.engine == "llamacpp"
    assert list((model_cache / "gguf").glob("*.gguf")), "the folder was exported to the model cache"
    got, expected = decode_logits(llama, PROMPTS), decode_logits(reference, PROMPTS)
    assert expected.abs().max() > 1.0  # the tiny model's logits are far from uniform
    assert (got - expected).abs().max() <= TOLERANCE


def test_an_adapter_changes_llama_cpp_outputs_as_it_changes_transformers(tiny_model_dir, random_adapter):
    plain = decode_logits(load_model(tiny_model_dir, dtype="fp32", device="cpu", engine="llamacpp"), PROMPTS)
    adapted = decode_logits(
        load_model(tiny_model_dir, dtype="fp32", device="cpu", engine="llamacpp", adapter=random_adapter), PROMPTS)
    reference = decode_logits(
        load_model(tiny_model_dir, dtype="fp32", device="cpu", engine="transformers", adapter=random_adapter), PROMPTS)
    assert (adapted - plain).abs().max() > 0.1  # the adapter matters
    assert (adapted - reference).abs().max() <= TOLERANCE  # and matters the same way in both engines


def test_rows_sharing_a_prompt_and_rows_joining_late_decode_as_they_would_alone(tiny_model_dir):
    """Continuous batching on llama.cpp sequences: samples of one prompt share its cells, a row admitted while
    others decode, and finished rows leave; each row's greedy output equals the transformers engine's."""
    outputs = {}
    for engine in ("llamacpp", "transformers"):
        loaded = load_model(tiny_model_dir, dtype="fp32", device="cpu", engine=engine)
        batch = DecodeBatch(loaded)
        greedy = SamplingParams(temperature=0.0, max_new_tokens=6, ignore_eos=True)
        short = SamplingParams(temperature=0.0, max_new_tokens=2, ignore_eos=True)

        def row(prompt, params, tokenizer=loaded.tokenizer):
            return Row(prompt_ids=list(tokenizer(prompt)["input_ids"]), params=params)

        done = dict(batch.admit([("a1", row(PROMPTS[0], greedy)), ("a2", row(PROMPTS[0], greedy)),
                                 ("b", row(PROMPTS[1], short))]))
        done.update(batch.step())
        done.update(batch.admit([("c", row(PROMPTS[2], greedy))]))
        while len(batch):
            done.update(batch.step())
        outputs[engine] = {key: (c.output_ids, c.logprobs) for key, c in done.items()}
    llama, reference = outputs["llamacpp"], outputs["transformers"]
    assert set(llama) == {"a1", "a2", "b", "c"}
    for key in reference:
        assert llama[key][0] == reference[key][0], key
        assert max(abs(x - y) for x, y in zip(llama[key][1], reference[key][1], strict=True)) <= TOLERANCE
    assert len(llama["b"][0]) == 2 and llama["a1"] == llama["a2"]


def test_generate_over_http_on_llama_cpp_gives_transformers_log_probs(tiny_model_dir, model_cache):
    server = start_server(tiny_model_dir, "--engine", "llamacpp", "--dtype", "fp32",
                          env={"BURNQED_MODEL_CACHE": str(model_cache)})
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            info = client.get("/model_info").json()
            answer = client.post("/generate", json={
                "text": PROMPTS[0], "return_logprob": True,
                "sampling_params": {"temperature": 0, "max_new_tokens": 5, "ignore_eos": True},
            }).json()
    finally:
        stop_server(server)
    assert info["engine"] == "llamacpp"
    reference = load_model(tiny_model_dir, dtype="fp32", device="cpu", engine="transformers")
    prompt = list(reference.tokenizer(PROMPTS[0])["input_ids"])
    pairs = answer["meta_info"]["output_token_logprobs"]
    tokens = [token for _, token, *_ in pairs]
    with torch.inference_mode():
        logits = reference.model(torch.tensor([prompt + tokens])).logits[0].float()
    expected = torch.log_softmax(logits[len(prompt) - 1:-1], dim=-1)[torch.arange(len(tokens)), tokens]
    got = torch.tensor([logprob for logprob, *_ in pairs])
    assert (got - expected).abs().max() <= TOLERANCE


def test_an_adapter_llama_cpp_cannot_apply_is_refused_with_the_reason(tiny_model_dir, random_adapter, tmp_path):
    settings = json.loads((random_adapter / "adapter_config.json").read_text())
    settings["use_dora"] = True
    (random_adapter / "adapter_config.json").write_text(json.dumps(settings))
    config = json.loads((tiny_model_dir / "config.json").read_text())
    with pytest.raises(GGUFExportError, match="DoRA"):
        write_lora_gguf(random_adapter, config, tmp_path / "out.gguf")
    assert not (tmp_path / "out.gguf").exists()
    with pytest.raises(ModelLoadError, match="llamacpp cannot serve"):
        load_model(tiny_model_dir, dtype="fp32", device="cpu", engine="llamacpp", adapter=random_adapter)
