"""/generate against a real server subprocess over a tiny random Llama, checked against the model in-process."""

from __future__ import annotations

import pytest
import torch

PROMPT = "x : ℝ\nh₀ : 0 < x\n⊢ x ^ 2 ≥ 0\n-/\nexample := by\n  "
OTHER_PROMPT = "⊢ ∀ n : ℕ, n + 0 = n"


def teacher_forced_logprobs(model, prompt_ids: list[int], output_ids: list[int], temperature: float) -> torch.Tensor:
    """Log-probs of `output_ids` given the prompt, from one full forward pass (no KV cache, no padding)."""
    with torch.no_grad():
        logits = model(torch.tensor([prompt_ids + output_ids])).logits[0].float()
    steps = logits[len(prompt_ids) - 1 : len(prompt_ids) - 1 + len(output_ids)]
    scale = temperature if temperature > 0 else 1.0
    return torch.log_softmax(steps / scale, dim=-1).gather(1, torch.tensor(output_ids).unsqueeze(1)).squeeze(1)


def greedy(client, text, max_new_tokens=16, **extra):
    body = {"text": text, "sampling_params": {"max_new_tokens": max_new_tokens, "temperature": 0, **extra}}
    response = client.post("/generate", json={**body, "return_logprob": True})
    assert response.status_code == 200, response.text
    return response.json()


def test_single_text_returns_one_object_with_sglang_meta_info(client, tiny_model):
    _, tokenizer = tiny_model
    reply = greedy(client, PROMPT, max_new_tokens=12)
    assert isinstance(reply, dict)
    meta = reply["meta_info"]
    assert meta["prompt_tokens"] == len(tokenizer(PROMPT)["input_ids"])
    assert meta["completion_tokens"] == len(meta["output_token_logprobs"]) == 12
    assert meta["finish_reason"] == {"type": "length", "length": 12}
    for logprob, token_id, text in meta["output_token_logprobs"]:
        assert logprob <= 0.0 and isinstance(token_id, int) and text is None
    ids = [t for _, t, _ in meta["output_token_logprobs"]]
    assert reply["text"] == tokenizer.decode(ids, skip_special_tokens=True)


def test_greedy_matches_in_process_argmax_decoding(client, tiny_model):
    model, tokenizer = tiny_model
    reply = greedy(client, PROMPT, max_new_tokens=10)
    ids = list(tokenizer(PROMPT)["input_ids"])
    expected = []
    with torch.no_grad():
        for _ in range(10):
            token = int(model(torch.tensor([ids])).logits[0, -1].argmax())
            expected.append(token)
            ids.append(token)
    assert [t for _, t, _ in reply["meta_info"]["output_token_logprobs"]] == expected


def test_greedy_is_deterministic_and_independent_of_batch_neighbours(client):
    alone = greedy(client, PROMPT)
    again = greedy(client, PROMPT)
    assert alone["text"] == again["text"]
    # Left padding: the short prompt shares a batch with a longer one and must decode exactly as alone.
    batch = greedy(client, [OTHER_PROMPT, PROMPT])
    other_alone = greedy(client, OTHER_PROMPT)
    assert [item["text"] for item in batch] == [other_alone["text"], alone["text"]]
    for item, single in zip(batch, [other_alone, alone], strict=True):
        got = torch.tensor([lp for lp, _, _ in item["meta_info"]["output_token_logprobs"]])
        want = torch.tensor([lp for lp, _, _ in single["meta_info"]["output_token_logprobs"]])
        assert torch.allclose(got, want, atol=1e-4)


def test_list_of_texts_with_n_is_a_list_grouped_by_prompt(client, tiny_model):
    _, tokenizer = tiny_model
    response = client.post(
        "/generate",
        json={"text": [PROMPT, OTHER_PROMPT], "sampling_params": {"max_new_tokens": 4, "temperature": 0, "n": 3}},
    )
    assert response.status_code == 200, response.text
    items = response.json()
    assert isinstance(items, list) and len(items) == 6
    prompt_tokens = [item["meta_info"]["prompt_tokens"] for item in items]
    assert prompt_tokens == [len(tokenizer(PROMPT)["input_ids"])] * 3 + [len(tokenizer(OTHER_PROMPT)["input_ids"])] * 3
    assert len({item["text"] for item in items[:3]}) == 1  # greedy: the three samples of a prompt agree
    assert "output_token_logprobs" not in items[0]["meta_info"]  # only when asked for


def test_single_text_with_n_returns_a_list(client):
    response = client.post("/generate", json={"text": PROMPT, "sampling_params": {"max_new_tokens": 3, "n": 4}})
    assert response.status_code == 200, response.text
    assert len(response.json()) == 4


@pytest.mark.parametrize("temperature, top_p", [(0.7, 0.9), (1.3, 1.0), (0.0, 1.0)])
def test_logprobs_equal_teacher_forced_recomputation(client, tiny_model, temperature, top_p):
    model, tokenizer = tiny_model
    response = client.post(
        "/generate",
        json={
            "text": [PROMPT, OTHER_PROMPT],
            "sampling_params": {"max_new_tokens": 12, "temperature": temperature, "top_p": top_p},
            "return_logprob": True,
        },
    )
    assert response.status_code == 200, response.text
    for text, item in zip([PROMPT, OTHER_PROMPT], response.json(), strict=True):
        triples = item["meta_info"]["output_token_logprobs"]
        reported = torch.tensor([lp for lp, _, _ in triples])
        expected = teacher_forced_logprobs(
            model, list(tokenizer(text)["input_ids"]), [t for _, t, _ in triples], temperature
        )
        assert torch.allclose(reported, expected, atol=1e-4), (reported, expected)


def test_sampling_differs_from_greedy_and_respects_top_p(client, tiny_model):
    model, tokenizer = tiny_model
    body = {"text": [PROMPT] * 8, "sampling_params": {"max_new_tokens": 6, "temperature": 1.0, "top_p": 0.5}}
    items = client.post("/generate", json={**body, "return_logprob": True}).json()
    texts = {item["text"] for item in items}
    assert len(texts) > 1, "eight samples at temperature 1 all came out identical"
    # Every first token must lie in the top-p=0.5 nucleus of the first-step distribution.
    with torch.no_grad():
        probs = torch.softmax(model(torch.tensor([tokenizer(PROMPT)["input_ids"]])).logits[0, -1], dim=-1)
    sorted_probs, sorted_ids = probs.sort(descending=True)
    nucleus = set(sorted_ids[(sorted_probs.cumsum(0) - sorted_probs) <= 0.5].tolist())
    assert {item["meta_info"]["output_token_logprobs"][0][1] for item in items} <= nucleus


def test_stop_string_truncates_before_the_stop_like_sglang(client):
    full = greedy(client, PROMPT, max_new_tokens=24)
    text = full["text"]
    assert len(text) >= 6, f"the tiny model produced too little text to cut: {text!r}"
    stop = text[len(text) // 2 : len(text) // 2 + 2]
    cut = text.find(stop)
    stopped = greedy(client, PROMPT, max_new_tokens=24, stop=[stop])
    assert stopped["text"] == text[:cut]
    assert stopped["meta_info"]["finish_reason"] == {"type": "stop", "matched": stop}
    # The token that completed the stop string was generated and is counted, as in SGLang.
    n = stopped["meta_info"]["completion_tokens"]
    assert n == len(stopped["meta_info"]["output_token_logprobs"]) < 24
    assert stopped["meta_info"]["output_token_logprobs"] == full["meta_info"]["output_token_logprobs"][:n]


def test_stop_token_id_finishes_with_the_matched_id(client):
    full = greedy(client, PROMPT, max_new_tokens=10)
    ids = [t for _, t, _ in full["meta_info"]["output_token_logprobs"]]
    target = ids[3]
    stopped = greedy(client, PROMPT, max_new_tokens=10, stop_token_ids=[target])
    assert stopped["meta_info"]["finish_reason"] == {"type": "stop", "matched": target}
    assert stopped["meta_info"]["completion_tokens"] == ids.index(target) + 1


def test_logprob_token_text_when_asked(client, tiny_model):
    _, tokenizer = tiny_model
    reply = client.post(
        "/generate",
        json={"text": PROMPT, "sampling_params": {"max_new_tokens": 3, "temperature": 0},
              "return_logprob": True, "return_text_in_logprobs": True},
    ).json()  # fmt: skip
    for _, token_id, text in reply["meta_info"]["output_token_logprobs"]:
        assert text == tokenizer.decode([token_id])


async def test_concurrent_requests_are_batched_and_each_gets_its_own_answer(server):
    import asyncio

    import httpx

    before = server.stats()
    prompts = [f"⊢ {i} + {i} = {2 * i}" for i in range(6)]
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
        singles = [
            (await http.post("/generate", json={"text": p, "sampling_params": {"max_new_tokens": 5, "temperature": 0}})).json()
            for p in prompts
        ]
        replies = await asyncio.gather(
            *[http.post("/generate", json={"text": p, "sampling_params": {"max_new_tokens": 5, "temperature": 0}})
              for p in prompts]
        )  # fmt: skip
    assert [r.json()["text"] for r in replies] == [s["text"] for s in singles]
    after = server.stats()
    assert after["generate_requests"] - before["generate_requests"] == 12
    assert after["generate_batches"] - before["generate_batches"] < 12


def test_special_token_stop_strings_are_matched_by_id(tiny_model):
    from prover.serving.generation import special_stop_ids

    _, tokenizer = tiny_model
    assert special_stop_ids(tokenizer, ("</s>", "```", "\n\n")) == {tokenizer.eos_token_id: "</s>"}


async def test_the_server_answers_health_while_a_long_generation_runs(server):
    import asyncio

    import httpx

    long_body = {"text": [PROMPT] * 16, "sampling_params": {"max_new_tokens": 900, "ignore_eos": True}}
    async with httpx.AsyncClient(base_url=server.url, timeout=300) as http:
        generation = asyncio.create_task(http.post("/generate", json=long_body))
        while server.stats()["generate_forward_passes"] == 0:  # wait until decoding has started
            await asyncio.sleep(0.01)
        health = await http.get("/health")
        assert health.status_code == 200
        assert not generation.done(), "generation finished before /health was answered"
        reply = await generation
    assert reply.status_code == 200
    assert {item["meta_info"]["completion_tokens"] for item in reply.json()} == {900}


async def test_a_short_request_joins_a_running_long_generation_and_returns_first(server, client):
    import asyncio

    import httpx

    short_body = {"text": OTHER_PROMPT, "sampling_params": {"max_new_tokens": 3, "temperature": 0}, "return_logprob": True}
    alone = client.post("/generate", json=short_body).json()
    long_body = {"text": [PROMPT] * 4, "sampling_params": {"max_new_tokens": 800, "ignore_eos": True}}
    before = server.stats()
    async with httpx.AsyncClient(base_url=server.url, timeout=300) as http:
        long_task = asyncio.create_task(http.post("/generate", json=long_body))
        while server.stats()["generate_forward_passes"] == before["generate_forward_passes"]:
            await asyncio.sleep(0.01)
        short = await http.post("/generate", json=short_body)
        assert not long_task.done(), "the long generation finished before the short request was answered"
        long_reply = await long_task
    assert short.json()["text"] == alone["text"]
    got = torch.tensor([lp for lp, _, _ in short.json()["meta_info"]["output_token_logprobs"]])
    want = torch.tensor([lp for lp, _, _ in alone["meta_info"]["output_token_logprobs"]])
    assert torch.allclose(got, want, atol=1e-4)
    assert long_reply.status_code == 200
    after = server.stats()
    assert after["generate_batches"] - before["generate_batches"] == 2  # the long rows, then the short row joining them


async def test_a_disconnected_client_stops_costing_forward_passes(server):
    import asyncio

    import httpx

    before = server.stats()
    body = {"text": [PROMPT] * 3, "sampling_params": {"max_new_tokens": 900, "ignore_eos": True}}
    async with httpx.AsyncClient(base_url=server.url, timeout=300) as http:
        task = asyncio.create_task(http.post("/generate", json=body))
        while server.stats()["generate_forward_passes"] == before["generate_forward_passes"]:
            await asyncio.sleep(0.01)
        task.cancel()  # closes the connection mid-generation
        try:
            await task
        except asyncio.CancelledError:
            pass
    while server.stats()["generate_aborted_rows"] - before["generate_aborted_rows"] < 3:
        await asyncio.sleep(0.05)
    after = server.stats()
    assert after["generate_output_tokens"] == before["generate_output_tokens"]  # nothing was answered
    assert after["generate_forward_passes"] - before["generate_forward_passes"] < 900
