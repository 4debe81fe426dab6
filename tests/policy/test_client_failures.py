"""How the client behaves when the server fails: retries, 4xx errors, timeouts, the circuit breaker."""

from __future__ import annotations

import pytest

from prover.policy.circuit_breaker import CircuitBreaker
from prover.policy.errors import (
    CircuitOpenError,
    PolicyRequestError,
    PolicyServerError,
    PolicyTimeoutError,
    PolicyUnavailableError,
)
from tests.policy.sglang_double import SGLangDouble

SAMPLING = {"max_new_tokens": 32, "temperature": 0.8, "top_p": 0.95}


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_503_is_retried_until_success(sglang: SGLangDouble, make_client) -> None:
    sglang.completions["p"] = ["omega"]
    sglang.fail_next(2, 503)
    client = make_client(sglang.base_url, max_retries=2)

    [[completion]] = await client.generate(["p"], **SAMPLING)

    assert completion.text == "omega"
    assert len(sglang.requests) == 3
    assert (client.usage.requests, client.usage.retries) == (3, 2)
    assert client.breaker.state == "closed"


async def test_5xx_after_every_retry_is_a_server_error_with_the_servers_reason(
    sglang: SGLangDouble, make_client
) -> None:
    sglang.fail_next(3, 500, "CUDA error: device-side assert triggered")
    client = make_client(sglang.base_url, max_retries=2)

    with pytest.raises(PolicyServerError, match="device-side assert") as caught:
        await client.generate(["p"], **SAMPLING)

    assert caught.value.status == 500
    assert "3 attempt(s)" in str(caught.value)
    assert len(sglang.requests) == 3


async def test_4xx_fails_at_once_with_the_servers_message(sglang: SGLangDouble, make_client) -> None:
    sglang.fail_next(
        1, 400, "The input (9000 tokens) is longer than the model's context length (4096 tokens)."
    )
    client = make_client(sglang.base_url, max_retries=3)

    with pytest.raises(PolicyRequestError) as caught:
        await client.generate(["p"], **SAMPLING)

    assert caught.value.status == 400
    assert "context length (4096 tokens)" in str(caught.value)
    assert sglang.base_url in str(caught.value)
    assert len(sglang.requests) == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": {"message": "sglang style"}}, "sglang style"),
        (
            {"error": "serving style", "field": "sampling_params.top_p"},
            "serving style (field sampling_params.top_p)",
        ),
        ({"object": "error", "message": "openai style", "code": 400}, "openai style"),
        ({"detail": "fastapi style"}, "fastapi style"),
        ("plain text body", "plain text body"),
    ],
)
async def test_error_messages_are_read_from_every_usual_shape(
    sglang: SGLangDouble, make_client, body: object, expected: str
) -> None:
    sglang.fail_next(1, 422, body=body)
    client = make_client(sglang.base_url)

    with pytest.raises(PolicyRequestError) as caught:
        await client.generate(["p"], **SAMPLING)

    assert caught.value.server_message == expected


async def test_dropped_connection_is_retried(sglang: SGLangDouble, make_client) -> None:
    sglang.completions["p"] = ["ring"]
    sglang.drop_next(1)
    client = make_client(sglang.base_url, max_retries=1)

    [[completion]] = await client.generate(["p"], **SAMPLING)

    assert completion.text == "ring"
    assert len(sglang.requests) == 2


async def test_connection_refused_after_retries_is_unavailable(make_client, unused_tcp_port: int) -> None:
    client = make_client(f"http://127.0.0.1:{unused_tcp_port}", max_retries=2)

    with pytest.raises(PolicyUnavailableError, match="3 attempt"):
        await client.generate(["p"], **SAMPLING)

    assert client.usage.requests == 3


async def test_slow_server_times_out_without_retry(sglang: SGLangDouble, make_client) -> None:
    sglang.delay_s = 30.0
    client = make_client(sglang.base_url, timeout_base_s=0.2, timeout_per_item_s=0.0, max_retries=3)

    with pytest.raises(PolicyTimeoutError, match="no reply within 0.2 s"):
        await client.generate(["p"], **SAMPLING)

    assert len(sglang.requests) == 1


def test_deadline_grows_with_batch_size_within_bounds(make_client) -> None:
    client = make_client(
        "http://127.0.0.1:1",
        timeout_base_s=90.0,
        timeout_per_item_s=9.0,
        timeout_min_s=180.0,
        timeout_max_s=900.0,
    )
    assert client.timeout_for(1) == 180.0  # 99 s raised to the floor
    assert client.timeout_for(16) == 234.0
    assert client.timeout_for(32) == 378.0
    assert client.timeout_for(1000) == 900.0


async def test_one_failing_chunk_fails_the_whole_call(sglang: SGLangDouble, make_client) -> None:
    sglang.fail_next(1, 400, "bad chunk")
    client = make_client(sglang.base_url, chunk_size=1)

    with pytest.raises(PolicyRequestError, match="bad chunk"):
        await client.generate(["a", "b", "c"], **SAMPLING)


async def test_circuit_opens_after_consecutive_failures_and_recovers(
    sglang: SGLangDouble, make_client
) -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=30.0, clock=clock)
    client = make_client(sglang.base_url, max_retries=0, circuit_breaker=breaker)
    sglang.fail_next(2, 503)

    for _ in range(2):
        with pytest.raises(PolicyServerError):
            await client.generate(["p"], **SAMPLING)
    assert breaker.state == "open"

    with pytest.raises(CircuitOpenError, match="circuit open after 2 consecutive failed calls") as caught:
        await client.generate(["p"], **SAMPLING)
    assert caught.value.retry_after_s == pytest.approx(30.0)
    assert len(sglang.requests) == 2  # refused without contacting the server

    clock.now += 31.0
    result = await client.generate(["p", "q", "r"], **SAMPLING)  # one probe, the other texts wait for it
    assert len(result) == 3
    assert breaker.state == "closed"
    assert breaker.consecutive_failures == 0


async def test_failed_probe_reopens_the_circuit(sglang: SGLangDouble, make_client) -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=10.0, clock=clock)
    client = make_client(sglang.base_url, max_retries=0, circuit_breaker=breaker)
    sglang.fail_next(2, 502)

    with pytest.raises(PolicyServerError):
        await client.generate(["p"], **SAMPLING)
    clock.now += 11.0
    with pytest.raises(PolicyServerError):
        await client.generate(["p"], **SAMPLING)  # the probe fails
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError):
        await client.generate(["p"], **SAMPLING)
    assert len(sglang.requests) == 2


async def test_concurrent_chunks_wait_for_the_probe(sglang: SGLangDouble, make_client) -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=10.0, clock=clock)
    client = make_client(sglang.base_url, max_retries=0, chunk_size=1, circuit_breaker=breaker)
    sglang.fail_next(1, 503)
    with pytest.raises(PolicyServerError):
        await client.generate(["p"], **SAMPLING)
    clock.now += 11.0

    result = await client.generate(["a", "b", "c", "d"], **SAMPLING)

    assert [len(completions) for completions in result] == [1, 1, 1, 1]
    assert breaker.state == "closed"


async def test_client_errors_do_not_open_the_circuit(sglang: SGLangDouble, make_client) -> None:
    client = make_client(sglang.base_url, circuit_failure_threshold=1)
    sglang.fail_next(3, 400, "bad request")
    for _ in range(3):
        with pytest.raises(PolicyRequestError):
            await client.generate(["p"], **SAMPLING)
    assert client.breaker.state == "closed"


async def test_retried_failures_count_once_toward_the_circuit(sglang: SGLangDouble, make_client) -> None:
    client = make_client(sglang.base_url, max_retries=2, circuit_failure_threshold=2)
    sglang.fail_next(3, 503)
    with pytest.raises(PolicyServerError):
        await client.generate(["p"], **SAMPLING)
    assert client.breaker.consecutive_failures == 1
    assert client.breaker.state == "closed"
