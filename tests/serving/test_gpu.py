"""CUDA paths: bf16 on the GPU and nf4 through bitsandbytes (skipped on machines without CUDA)."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from tests.serving.conftest import start_server, stop_server
from tests.serving.test_encode import TEXTS, in_process_mean_pool
from tests.serving.test_generate import PROMPT

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


def check_server_answers(running, tiny_model, *, min_cosine: float) -> dict:
    model, tokenizer = tiny_model
    with running.client() as http:
        info = http.get("/model_info").json()
        reply = http.post(
            "/generate",
            json={"text": [PROMPT] * 3, "sampling_params": {"max_new_tokens": 8, "temperature": 0.7, "top_p": 0.9},
                  "return_logprob": True},
        )  # fmt: skip
        vectors = http.post("/encode", json={"text": TEXTS})
    assert reply.status_code == 200, reply.text
    for item in reply.json():
        assert item["meta_info"]["completion_tokens"] == len(item["meta_info"]["output_token_logprobs"]) >= 1
        assert all(lp <= 0 for lp, _, _ in item["meta_info"]["output_token_logprobs"])
    assert vectors.status_code == 200, vectors.text
    got = torch.tensor(vectors.json()["embeddings"])
    cosine = torch.nn.functional.cosine_similarity(got, in_process_mean_pool(model, tokenizer, TEXTS), dim=1)
    assert (cosine > min_cosine).all(), cosine
    return info


def test_bf16_on_cuda(tiny_model_dir, tiny_model):
    running = start_server(tiny_model_dir, "--device", "cuda", "--dtype", "bf16")
    try:
        info = check_server_answers(running, tiny_model, min_cosine=0.99)
    finally:
        stop_server(running)
    assert info["device"] == "cuda" and info["dtype"] == "bf16"


@pytest.mark.skipif(importlib.util.find_spec("bitsandbytes") is None, reason="needs bitsandbytes")
def test_nf4_on_cuda_with_a_lora_adapter(tiny_model_dir, tiny_model, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype="float32")
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])  # default init: a no-op update
    get_peft_model(base, config).save_pretrained(tmp_path / "lora")
    running = start_server(tiny_model_dir, "--device", "cuda", "--quantize", "nf4", "--adapter", str(tmp_path / "lora"))
    try:
        # 4-bit weights of a random 64-wide model move the vectors; they must stay close, not equal.
        info = check_server_answers(running, tiny_model, min_cosine=0.9)
    finally:
        stop_server(running)
    assert info["quantization"] == "nf4" and info["adapter_merged"] is False
