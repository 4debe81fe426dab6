"""Contract test: the policy client against prover.serving (the embedded default's /generate) on loopback,
with a tiny random model. The client must read it exactly as it reads SGLang."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from prover.policy.client import PolicyClient
from prover.policy.errors import PolicyRequestError
from prover.policy.policy import Policy
from prover.policy.prompts import format_prompt


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers", reason="prover.serving needs the 'embedded' extra")
    from prover.serving.tiny_model import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture
async def local_server(tiny_model: Path) -> AsyncIterator[str]:
    from prover.serving.model_loading import load_model
    from prover.serving.server import InferenceServer, ServerOptions

    server = InferenceServer(load_model(tiny_model, dtype="fp32", device="cpu"), ServerOptions(seed=7))
    runner = web.AppRunner(server.build_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_generate_health_and_model_info(local_server: str) -> None:
    async with PolicyClient(local_server, timeout_min_s=0.0, chunk_size=3) as client:
        assert await client.health() is True
        assert (await client.model_info())["model_path"]

        prompts = [
            format_prompt("deepseek-prover", state="x : ℝ\n⊢ x ^ 2 ≥ 0"),
            format_prompt("goal-proofstep", state="⊢ True"),
        ]
        result = await client.generate(prompts, n=4, max_new_tokens=6, temperature=1.0, top_p=0.95)

    assert [len(completions) for completions in result] == [4, 4]
    for completions in result:
        for completion in completions:
            assert 1 <= completion.completion_tokens <= 6
            assert completion.prompt_tokens > 0
            assert completion.logprob < 0
            assert completion.truncated == (completion.finish_reason == "length")
    # The same prompt tokenizes the same way every time.
    assert len({c.prompt_tokens for c in result[0]}) == 1
    assert client.usage.completions == 8


async def test_local_server_rejections_are_request_errors(local_server: str) -> None:
    async with PolicyClient(local_server, timeout_min_s=0.0) as client:
        with pytest.raises(PolicyRequestError, match="context length"):
            await client.generate(["⊢ True"], max_new_tokens=10**6, temperature=1.0)


async def test_policy_over_the_local_server(local_server: str) -> None:
    async with PolicyClient(local_server, timeout_min_s=0.0) as client:
        [proposals] = await Policy(client).propose_tactics(["n : ℕ\n⊢ n + 0 = n"], n=4, max_new_tokens=8)

    assert len(proposals.completions) == 4
    assert len(proposals.candidates) <= 4
    assert [c.logprob for c in proposals.candidates] == sorted(
        (c.logprob for c in proposals.candidates), reverse=True
    )


async def test_a_search_round_of_candidates_is_one_request_and_one_prefill_per_state(tiny_model: Path) -> None:
    """best_first asks for k candidates of each of batch_expansion_size states in one call; the client must
    send them as one request, and the server must prefill each state's prompt once for its k samples."""
    from prover.serving.model_loading import load_model
    from prover.serving.server import InferenceServer, ServerOptions

    prefill_rows: list[int] = []
    server = InferenceServer(load_model(tiny_model, dtype="fp32", device="cpu"), ServerOptions(seed=7))
    forward = server.loaded.runner.forward

    def counting_forward(input_ids, mask, positions, cache):
        if input_ids.shape[1] > 1:
            prefill_rows.append(input_ids.shape[0])
        return forward(input_ids, mask, positions, cache)

    server.loaded.runner.forward = counting_forward
    runner = web.AppRunner(server.build_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with PolicyClient(f"http://127.0.0.1:{port}", timeout_min_s=0.0) as client:
            proposals = await Policy(client).propose_tactics(["x : ℝ\n⊢ x ^ 2 ≥ 0", "n : ℕ\n⊢ n + 0 = n"], n=32,
                                                            max_new_tokens=4)
            assert client.usage.requests == 1
    finally:
        await runner.cleanup()
    assert [len(p.completions) for p in proposals] == [32, 32]
    stats = server.counters.snapshot()
    assert stats["generate_requests"] == 1 and stats["generate_batches"] == 1 and stats["generate_rows"] == 64
    assert prefill_rows == [2]  # 64 rows, two distinct prompts
