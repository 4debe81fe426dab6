"""The client against an SGLang double over real loopback HTTP: wire format, log-probs, tokens, batching."""

from __future__ import annotations

import pytest

from prover.policy.errors import PolicyProtocolError
from tests.policy.sglang_double import SGLangDouble, logprob_of

SAMPLING = {"max_new_tokens": 64, "temperature": 0.8, "top_p": 0.95}


async def test_single_prompt_is_sent_as_a_string(sglang: SGLangDouble, make_client) -> None:
    sglang.completions["⊢ 1 + 1 = 2"] = ["norm_num"]
    client = make_client(sglang.base_url)

    result = await client.generate(["⊢ 1 + 1 = 2"], n=1, stop=["```"], **SAMPLING)

    assert [[c.text for c in completions] for completions in result] == [["norm_num"]]
    assert sglang.requests == [
        {
            "text": "⊢ 1 + 1 = 2",
            "sampling_params": {"max_new_tokens": 64, "temperature": 0.8, "top_p": 0.95, "stop": ["```"]},
            "return_logprob": True,
        }
    ]


async def test_several_texts_are_sent_as_a_list_and_regrouped_per_prompt(
    sglang: SGLangDouble, make_client
) -> None:
    sglang.completions = {"A": ["a1", "a2", "a3"], "B": ["b1", "b2", "b3"]}
    client = make_client(sglang.base_url)

    result = await client.generate(["A", "B"], n=3, **SAMPLING)

    assert [[c.text for c in completions] for completions in result] == [
        ["a1", "a2", "a3"],
        ["b1", "b2", "b3"],
    ]
    assert sglang.requests[0]["text"] == ["A", "A", "A", "B", "B", "B"]
    assert "n" not in sglang.requests[0]["sampling_params"]
    assert "stop" not in sglang.requests[0]["sampling_params"]


async def test_logprob_is_the_sum_of_element_zero_of_each_output_token(
    sglang: SGLangDouble, make_client
) -> None:
    sglang.completions["goal"] = ["linarith", "ring"]
    client = make_client(sglang.base_url)

    [completions] = await client.generate(["goal"], n=2, **SAMPLING)

    sent = sglang.replies[0]
    for completion, item in zip(completions, sent, strict=True):
        assert completion.logprob == pytest.approx(
            sum(entry[0] for entry in item["meta_info"]["output_token_logprobs"])
        )
    assert completions[0].logprob == pytest.approx(sum(logprob_of(ch) for ch in "linarith"))
    assert completions[0].logprob != pytest.approx(completions[1].logprob)


async def test_known_logprobs_sum_exactly(sglang: SGLangDouble, make_client) -> None:
    # logprob_of gives -(ord % 7 + 1) / 8: 'a' (97 % 7 = 6) -> -7/8, 'b' (98 % 7 = 0) -> -1/8.
    sglang.completions["p"] = ["ab"]
    client = make_client(sglang.base_url)

    [[completion]] = await client.generate(["p"], **SAMPLING)

    assert completion.logprob == -1.0


async def test_token_counts_come_from_meta_info(sglang: SGLangDouble, make_client) -> None:
    prompt = "x : ℕ\n⊢ x + 0 = x"
    sglang.completions[prompt] = ["simp", "omega"]
    client = make_client(sglang.base_url)

    [completions] = await client.generate([prompt], n=2, **SAMPLING)

    assert [(c.prompt_tokens, c.completion_tokens) for c in completions] == [
        (len(prompt), 4),
        (len(prompt), 5),
    ]
    assert client.usage.prompt_tokens == 2 * len(prompt)
    assert client.usage.completion_tokens == 9
    assert client.usage.completions == 2


async def test_stop_and_length_are_reported(sglang: SGLangDouble, make_client) -> None:
    sglang.completions = {"stops": ["intro h\n```\nrest"], "long": ["x" * 50]}
    client = make_client(sglang.base_url)

    [[stopped], [cut]] = await client.generate(
        ["stops", "long"], max_new_tokens=10, temperature=0.0, top_p=1.0, stop=["```"]
    )

    assert (stopped.text, stopped.finish_reason, stopped.truncated) == ("intro h\n", "stop", False)
    assert (cut.text, cut.finish_reason, cut.truncated, cut.completion_tokens) == (
        "x" * 10,
        "length",
        True,
        10,
    )


async def test_texts_are_chunked_and_chunks_run_concurrently(sglang: SGLangDouble, make_client) -> None:
    sglang.completions = {p: [f"{p}-{i}" for i in range(5)] for p in ("P", "Q", "R")}
    sglang.hold_until_concurrent(
        4
    )  # 15 texts / chunks of 4 = 4 requests; all four must be in flight together
    client = make_client(sglang.base_url, chunk_size=4, max_retries=0)

    result = await client.generate(["P", "Q", "R"], n=5, **SAMPLING)

    assert sorted(sglang.texts_per_request) == [3, 4, 4, 4]
    assert sglang.max_in_flight == 4
    assert [[c.text for c in completions] for completions in result] == [
        [f"{p}-{i}" for i in range(5)] for p in ("P", "Q", "R")
    ]


async def test_concurrency_is_capped(sglang: SGLangDouble, make_client) -> None:
    client = make_client(sglang.base_url, chunk_size=1, max_concurrent_requests=2)

    result = await client.generate(["a", "b", "c", "d", "e"], **SAMPLING)

    assert len(result) == 5
    assert len(sglang.requests) == 5
    assert sglang.max_in_flight <= 2


async def test_unicode_survives_the_round_trip(sglang: SGLangDouble, make_client) -> None:
    state = "h₀ : ∀ x ∈ S, 0 < x\n⊢ ∑ i ∈ Finset.range n, i ≤ n ^ 2"
    sglang.completions[state] = ["exact ⟨h₀, by positivity⟩"]
    client = make_client(sglang.base_url)

    [[completion]] = await client.generate([state], **SAMPLING)

    assert sglang.requests[0]["text"] == state
    assert completion.text == "exact ⟨h₀, by positivity⟩"


async def test_empty_prompt_list_sends_nothing(sglang: SGLangDouble, make_client) -> None:
    client = make_client(sglang.base_url)
    assert await client.generate([], n=4, **SAMPLING) == []
    assert sglang.requests == []


async def test_malformed_reply_is_a_protocol_error_naming_the_field(
    sglang: SGLangDouble, make_client
) -> None:
    sglang.completions["p"] = ["ok"]
    client = make_client(sglang.base_url)
    original = sglang._generate_one

    def without_logprobs(prompt, params):
        item = original(prompt, params)
        del item["meta_info"]["output_token_logprobs"]
        return item

    sglang._generate_one = without_logprobs
    with pytest.raises(PolicyProtocolError, match="output_token_logprobs"):
        await client.generate(["p"], **SAMPLING)


async def test_health_and_model_info(sglang: SGLangDouble, make_client) -> None:
    client = make_client(sglang.base_url)
    assert await client.health() is True
    assert (await client.model_info())["model_path"] == sglang.model_path


async def test_health_falls_back_to_a_generate_probe(sglang: SGLangDouble, make_client) -> None:
    sglang.health_status = 404
    client = make_client(sglang.base_url)
    assert await client.health() is True
    assert sglang.requests[-1]["sampling_params"]["max_new_tokens"] == 1


async def test_health_is_false_when_nothing_listens(make_client, unused_tcp_port: int) -> None:
    client = make_client(f"http://127.0.0.1:{unused_tcp_port}")
    assert await client.health() is False
