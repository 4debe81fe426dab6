"""LoRA adapters named per request (SGLang's `lora_path`), on the real server process: the same numbers as the
peft model in process, /load_lora_adapter names, a root that fences folders in, and a bounded set kept loaded."""

from __future__ import annotations

import pytest
import torch

from tests.serving.conftest import start_server, stop_server
from tests.serving.test_adapter_and_options import adapted, adapter_dir  # noqa: F401 (fixtures)
from tests.serving.test_encode import TEXTS
from tests.serving.test_generate import PROMPT, teacher_forced_logprobs


@pytest.fixture(scope="module")
def second_adapter(tiny_model_dir, tmp_path_factory):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(2)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype="float32")
    folder = tmp_path_factory.mktemp("lora-2")
    get_peft_model(base, LoraConfig(r=2, lora_alpha=4, target_modules=["k_proj", "o_proj"],
                                    init_lora_weights=False)).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def multi_server(tiny_model_dir, adapter_dir):  # noqa: F811
    running = start_server(tiny_model_dir, "--dtype", "fp32", "--max-loras", "1",
                           "--lora-root", str(adapter_dir))
    yield running
    stop_server(running)


def test_a_request_with_lora_path_gets_the_adapted_model_and_one_without_the_base(multi_server, adapted, tiny_model,  # noqa: F811
                                                                                 adapter_dir):  # noqa: F811
    model, tokenizer = tiny_model
    body = {"text": PROMPT, "sampling_params": {"max_new_tokens": 8, "temperature": 0.8}, "return_logprob": True}
    with multi_server.client() as http:
        with_adapter = http.post("/generate", json={**body, "lora_path": str(adapter_dir)}).json()
        vector = torch.tensor(http.post("/encode", json={"text": PROMPT, "lora_path": str(adapter_dir)}).json()["embedding"])
        without = http.post("/generate", json=body).json()
        base_vectors = torch.tensor(http.post("/encode", json={"text": TEXTS}).json()["embeddings"])
        info = http.get("/model_info").json()
    prompt_ids = list(tokenizer(PROMPT)["input_ids"])
    triples = with_adapter["meta_info"]["output_token_logprobs"]
    expected = teacher_forced_logprobs(adapted, prompt_ids, [t for _, t, _ in triples], 0.8)
    assert torch.allclose(torch.tensor([lp for lp, _, _ in triples]), expected, atol=1e-4)
    with torch.no_grad():
        hidden = adapted.get_base_model().model(input_ids=torch.tensor([prompt_ids])).last_hidden_state[0]
    assert torch.allclose(vector, hidden.mean(0), atol=1e-4)
    base_triples = without["meta_info"]["output_token_logprobs"]
    assert torch.allclose(torch.tensor([lp for lp, _, _ in base_triples]),
                          teacher_forced_logprobs(model, prompt_ids, [t for _, t, _ in base_triples], 0.8), atol=1e-4)
    assert base_vectors.shape[0] == len(TEXTS)
    assert info["lora_loading"] is True and info["loras_loaded"] == [str(adapter_dir.resolve())]


def test_names_roots_and_eviction(multi_server, adapter_dir, second_adapter, tmp_path):  # noqa: F811
    with multi_server.client() as http:
        loaded = http.post("/load_lora_adapter", json={"lora_name": "first", "lora_path": str(adapter_dir)})
        assert loaded.status_code == 200, loaded.text
        by_name = http.post("/encode", json={"text": PROMPT, "lora_path": "first"})
        assert by_name.status_code == 200
        outside = http.post("/encode", json={"text": PROMPT, "lora_path": str(second_adapter)})
        assert outside.status_code == 400 and outside.json()["field"] == "lora_path"
        assert "adapter roots" in outside.json()["error"]
        inside = adapter_dir / "not-an-adapter"
        inside.mkdir(exist_ok=True)
        not_adapter = http.post("/generate", json={"text": PROMPT, "lora_path": str(inside)})
        assert not_adapter.status_code == 400 and "no adapter_config.json" in not_adapter.json()["error"]
        mixed = http.post("/generate", json={"text": [PROMPT, PROMPT], "lora_path": ["first", str(adapter_dir)]})
        assert mixed.status_code == 400 and "one adapter per request" in mixed.json()["error"]
        assert http.post("/unload_lora_adapter", json={"lora_name": "first"}).json() == {"success": True}
        assert http.get("/model_info").json()["loras_loaded"] == []
        assert http.post("/encode", json={"text": PROMPT, "lora_path": "first"}).status_code == 400


def test_a_server_started_without_adapter_loading_refuses_lora_path(tiny_model_dir, adapter_dir):  # noqa: F811
    running = start_server(tiny_model_dir, "--dtype", "fp32", "--max-loras", "0")
    try:
        with running.client() as http:
            reply = http.post("/generate", json={"text": PROMPT, "lora_path": str(adapter_dir)})
    finally:
        stop_server(running)
    assert reply.status_code == 400 and "without adapter loading" in reply.json()["error"]


def test_eviction_keeps_the_most_recent_adapters(tiny_model_dir, adapter_dir, second_adapter):  # noqa: F811
    running = start_server(tiny_model_dir, "--dtype", "fp32", "--max-loras", "1")
    try:
        with running.client() as http:
            for folder in (adapter_dir, second_adapter):
                assert http.post("/encode", json={"text": PROMPT, "lora_path": str(folder)}).status_code == 200
            kept = http.get("/model_info").json()["loras_loaded"]
    finally:
        stop_server(running)
    assert kept == [str(second_adapter.resolve())]
