"""Server options that change the model or the numbers: a LoRA adapter, the log-prob mode, nf4 refusal on CPU."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from tests.serving.conftest import ROOT, start_server, stop_server
from tests.serving.test_encode import TEXTS
from tests.serving.test_generate import PROMPT, teacher_forced_logprobs


@pytest.fixture(scope="module")
def adapter_dir(tiny_model_dir, tmp_path_factory):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype="float32")
    # init_lora_weights=False gives a non-zero update (the default init is an exact no-op until trained).
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    folder = tmp_path_factory.mktemp("lora")
    get_peft_model(base, config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def adapted(tiny_model_dir, adapter_dir):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype="float32")
    return PeftModel.from_pretrained(base, str(adapter_dir)).eval()


@pytest.fixture(scope="module")
def adapter_server(tiny_model_dir, adapter_dir):
    running = start_server(tiny_model_dir, "--dtype", "fp32", "--adapter", str(adapter_dir))
    yield running
    stop_server(running)


def test_adapter_is_reported_and_changes_outputs(adapter_server, client):
    with adapter_server.client() as http:
        info = http.get("/model_info").json()
        adapted_vectors = torch.tensor(http.post("/encode", json={"text": TEXTS}).json()["embeddings"])
    assert info["adapter"] is not None and info["adapter_merged"] is True
    base_vectors = torch.tensor(client.post("/encode", json={"text": TEXTS}).json()["embeddings"])
    assert (adapted_vectors - base_vectors).abs().max() > 1e-2


def test_adapter_outputs_equal_the_peft_model_in_process(adapter_server, adapted, tiny_model):
    _, tokenizer = tiny_model
    with adapter_server.client() as http:
        reply = http.post(
            "/generate",
            json={"text": PROMPT, "sampling_params": {"max_new_tokens": 8, "temperature": 0.8}, "return_logprob": True},
        ).json()
        vector = torch.tensor(http.post("/encode", json={"text": PROMPT}).json()["embedding"])
    triples = reply["meta_info"]["output_token_logprobs"]
    prompt_ids = list(tokenizer(PROMPT)["input_ids"])
    expected = teacher_forced_logprobs(adapted, prompt_ids, [t for _, t, _ in triples], 0.8)
    assert torch.allclose(torch.tensor([lp for lp, _, _ in triples]), expected, atol=1e-4)
    with torch.no_grad():
        hidden = adapted.get_base_model().model(input_ids=torch.tensor([prompt_ids])).last_hidden_state[0]
    assert torch.allclose(vector, hidden.mean(0), atol=1e-4)


def test_original_logprob_mode_reports_temperature_one(tiny_model_dir, tiny_model):
    model, tokenizer = tiny_model
    running = start_server(tiny_model_dir, "--dtype", "fp32", "--logprob-mode", "original")
    try:
        with running.client() as http:
            assert http.get("/model_info").json()["logprob_mode"] == "original"
            reply = http.post(
                "/generate",
                json={"text": PROMPT, "sampling_params": {"max_new_tokens": 8, "temperature": 0.5},
                      "return_logprob": True},
            ).json()  # fmt: skip
    finally:
        stop_server(running)
    triples = reply["meta_info"]["output_token_logprobs"]
    ids = [t for _, t, _ in triples]
    prompt_ids = list(tokenizer(PROMPT)["input_ids"])
    reported = torch.tensor([lp for lp, _, _ in triples])
    assert torch.allclose(reported, teacher_forced_logprobs(model, prompt_ids, ids, 1.0), atol=1e-4)
    assert not torch.allclose(reported, teacher_forced_logprobs(model, prompt_ids, ids, 0.5), atol=1e-3)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "prover.serving", "--port", "0", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on machines without CUDA")
def test_nf4_without_cuda_is_a_clear_startup_error(tiny_model_dir):
    result = run_cli("--model", str(tiny_model_dir), "--quantize", "nf4")
    assert result.returncode == 2
    assert "nf4" in result.stderr and "CUDA" in result.stderr


def test_missing_model_folder_is_a_clear_startup_error(tmp_path):
    result = run_cli("--model", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "no config.json" in result.stderr


def test_adapter_folder_without_adapter_config_is_a_clear_startup_error(tiny_model_dir, tmp_path):
    result = run_cli("--model", str(tiny_model_dir), "--adapter", str(tmp_path))
    assert result.returncode == 2
    assert "adapter_config.json" in result.stderr


async def test_api_key_is_required_everywhere_but_health(tiny_model_dir):
    import httpx

    from prover.policy.client import PolicyClient

    running = start_server(tiny_model_dir, "--dtype", "fp32", env={"BURNQED_SERVING_API_KEY": "s3cret"})
    try:
        async with httpx.AsyncClient(base_url=running.url, timeout=60) as http:
            assert (await http.get("/health")).status_code == 200
            for wrong in ({}, {"Authorization": "Bearer nope"}):
                denied = await http.post("/encode", json={"text": "a"}, headers=wrong)
                assert denied.status_code == 401 and denied.json()["field"] == "Authorization"
                assert (await http.get("/model_info", headers=wrong)).status_code == 401
        async with PolicyClient(running.url, api_key="s3cret") as policy:
            completions = await policy.generate(["⊢ 1 = 1"], max_new_tokens=2, temperature=0.0)
        assert completions[0][0].completion_tokens == 2
    finally:
        stop_server(running)
