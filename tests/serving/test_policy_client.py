"""The policy package's SGLang client (prover.policy.client) driving this server end to end."""

from __future__ import annotations

import math

from prover.policy.client import PolicyClient
from tests.serving.test_generate import OTHER_PROMPT, PROMPT


async def test_policy_client_generates_through_this_server(server, client):
    async with PolicyClient(server.url, chunk_size=4) as policy:
        assert await policy.health()
        info = await policy.model_info()
        grouped = await policy.generate([PROMPT, OTHER_PROMPT], n=3, max_new_tokens=8, temperature=0.0)
    assert info["model_path"] and info["hidden_size"] == 64
    assert [len(group) for group in grouped] == [3, 3]

    # The client's view (summed log-prob, token counts, truncation) must agree with the raw HTTP reply.
    for prompt, group in zip([PROMPT, OTHER_PROMPT], grouped, strict=True):
        raw = client.post(
            "/generate",
            json={"text": prompt, "sampling_params": {"max_new_tokens": 8, "temperature": 0}, "return_logprob": True},
        ).json()
        summed = sum(lp for lp, _, _ in raw["meta_info"]["output_token_logprobs"])
        for completion in group:
            assert completion.text == raw["text"]
            assert math.isclose(completion.logprob, summed, abs_tol=1e-3)
            assert completion.prompt_tokens == raw["meta_info"]["prompt_tokens"]
            assert completion.completion_tokens == raw["meta_info"]["completion_tokens"]
            assert completion.truncated == (raw["meta_info"]["finish_reason"]["type"] == "length")


async def test_policy_client_stop_strings_and_sampling(server):
    async with PolicyClient(server.url) as policy:
        greedy = (await policy.generate([PROMPT], max_new_tokens=20, temperature=0.0))[0][0]
        stop = greedy.text[len(greedy.text) // 2 :][:2]
        stopped = (await policy.generate([PROMPT], max_new_tokens=20, temperature=0.0, stop=[stop]))[0][0]
        sampled = (await policy.generate([PROMPT], n=6, max_new_tokens=6, temperature=1.0, top_p=0.95))[0]
    assert stopped.text == greedy.text[: greedy.text.find(stop)]
    assert stopped.finish_reason == "stop" and not stopped.truncated
    assert len({c.text for c in sampled}) > 1
    assert all(c.logprob < 0 for c in sampled)
