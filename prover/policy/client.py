"""The policy client: sampling completions from a server that speaks SGLang's native ``/generate``.

The same client talks to a real SGLang server and to ``prover.serving``; it relies on nothing but the wire
format (``prover.policy.sglang_wire``).

Failure handling, and why:
* 5xx replies and connection errors are retried with exponential backoff: SGLang answers 503 while it is
  overloaded or restarting, and such failures pass.
* A 4xx reply fails at once with the server's own message: the request is wrong and will stay wrong.
* A request that outlives its deadline fails at once and is not retried: the same batch on the same server
  would most likely time out again, and a search round should not wait twice. The deadline grows with the
  number of texts in the request, because the server generates them together.
* Calls that keep failing open a circuit breaker, so that workers fail fast while the server is down
  instead of each spending its whole retry schedule.
"""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from prover.policy.circuit_breaker import CircuitBreaker
from prover.policy.completion import Completion
from prover.policy.errors import (
    PolicyError,
    PolicyProtocolError,
    PolicyRequestError,
    PolicyServerError,
    PolicyTimeoutError,
    PolicyUnavailableError,
)
from prover.policy.sglang_wire import generate_request_body, parse_generate_reply

T = TypeVar("T")

# Transport failures where the server never produced a reply, so sending the request again is safe.
_RETRYABLE_TRANSPORT_ERRORS = (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ConnectTimeout)


@dataclass
class PolicyUsage:
    """Running totals for one client: what was asked of the server and what it spent."""

    requests: int = 0
    retries: int = 0
    completions: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


def _positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return float(value)


def _count(name: str, value: int, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _server_message(response: httpx.Response) -> str:
    """The reason a server gave for an error reply, whichever of the usual shapes it used."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        error = payload.get("error")
        message = error.get("message") if isinstance(error, dict) else error
        message = message or payload.get("message") or payload.get("detail")
        if message:
            field = payload.get("field")
            message = str(message)
            message = f"{message} (field {field})" if field and str(field) not in message else message
            return _shown(message)
    if isinstance(payload, str) and payload.strip():
        return _shown(payload)
    text = response.text.strip()
    return _shown(text) if text else "(empty body)"


# A server's error text ends up in run errors that viewers read: a short, printable excerpt is enough to say why.
SERVER_MESSAGE_CHARS = 200


def _shown(text: str) -> str:
    text = "".join(c if c.isprintable() else " " for c in text.strip())
    return text[:SERVER_MESSAGE_CHARS] + ("..." if len(text) > SERVER_MESSAGE_CHARS else "")


class PolicyClient:
    """Async client for a policy server speaking SGLang's ``/generate``.

    One instance can be shared by concurrent tasks of one event loop.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout_base_s: float = 90.0,
        timeout_per_item_s: float = 9.0,
        timeout_min_s: float = 180.0,
        timeout_max_s: float = 900.0,
        connect_timeout_s: float = 15.0,
        max_retries: int = 2,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 30.0,
        chunk_size: int = 64,
        max_concurrent_requests: int = 16,
        circuit_failure_threshold: int = 3,
        circuit_cooldown_s: float = 60.0,
        circuit_breaker: CircuitBreaker | None = None,
        api_key: str | None = None,
        lora_path: str | None = None,
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http:// or https:// URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.lora_path = lora_path or None  # the LoRA adapter every request asks the server to apply
        self.timeout_base_s = _positive("timeout_base_s", timeout_base_s, allow_zero=True)
        self.timeout_per_item_s = _positive("timeout_per_item_s", timeout_per_item_s, allow_zero=True)
        self.timeout_min_s = _positive("timeout_min_s", timeout_min_s, allow_zero=True)
        self.timeout_max_s = _positive("timeout_max_s", timeout_max_s)
        if self.timeout_min_s > self.timeout_max_s:
            raise ValueError(
                f"timeout_min_s ({timeout_min_s}) must not exceed timeout_max_s ({timeout_max_s})"
            )
        self.connect_timeout_s = _positive("connect_timeout_s", connect_timeout_s)
        self.max_retries = _count("max_retries", max_retries, minimum=0)
        self.backoff_base_s = _positive("backoff_base_s", backoff_base_s, allow_zero=True)
        self.backoff_max_s = _positive("backoff_max_s", backoff_max_s, allow_zero=True)
        self.chunk_size = _count("chunk_size", chunk_size, minimum=1)
        self.max_concurrent_requests = _count("max_concurrent_requests", max_concurrent_requests, minimum=1)
        self.breaker = circuit_breaker or CircuitBreaker(
            failure_threshold=circuit_failure_threshold,
            cooldown_s=circuit_cooldown_s,
            name=f"policy server {self.base_url}",
        )
        self.usage = PolicyUsage()
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http: httpx.AsyncClient | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PolicyClient:
        """Build a client from a stored run configuration (``{"base_url": ..., "chunk_size": ...}``).

        Unknown keys are an error: a misspelt setting that is silently ignored runs with the default and
        nobody notices (docs/search.md#defaults).
        """
        if not isinstance(config, Mapping):
            raise TypeError(f"policy client config must be a mapping, got {type(config).__name__}")
        known = {
            name
            for name in inspect.signature(cls.__init__).parameters
            if name not in ("self", "circuit_breaker")
        }
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"policy client config has unknown keys {unknown}; known keys: {sorted(known)}")
        if "base_url" not in config:
            raise ValueError("policy client config needs base_url")
        options = dict(config)
        return cls(options.pop("base_url"), **options)

    # -- lifecycle ------------------------------------------------------------------------------------------

    async def __aenter__(self) -> PolicyClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None and self._http_loop is asyncio.get_running_loop():
            await self._http.aclose()
        self._http = None
        self._http_loop = None
        self._slots = None

    def _client(self) -> httpx.AsyncClient:
        # Connections belong to the event loop that opened them; a worker that runs each task in a fresh
        # loop (asyncio.run per Celery task) must not reuse them.
        loop = asyncio.get_running_loop()
        if self._http is None or self._http_loop is not loop:
            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                headers=self._headers,
                # The overall deadline is enforced per request (it depends on the batch size); httpx only
                # bounds connecting.
                timeout=httpx.Timeout(None, connect=self.connect_timeout_s),
                limits=httpx.Limits(max_connections=self.max_concurrent_requests + 4),
            )
            self._http_loop = loop
            self._slots = asyncio.Semaphore(self.max_concurrent_requests)
        return self._http

    # -- public API -----------------------------------------------------------------------------------------

    def timeout_for(self, n_texts: int) -> float:
        """Deadline in seconds for one request carrying ``n_texts`` texts."""
        raw = self.timeout_base_s + self.timeout_per_item_s * n_texts
        return min(self.timeout_max_s, max(self.timeout_min_s, raw))

    async def generate(
        self,
        prompts: Sequence[str],
        *,
        n: int = 1,
        max_new_tokens: int,
        temperature: float,
        top_p: float = 1.0,
        stop: Sequence[str] | None = None,
    ) -> list[list[Completion]]:
        """Sample ``n`` completions for each prompt; ``result[i]`` holds prompt ``i``'s completions.

        The ``len(prompts) * n`` texts are sent in chunks of ``chunk_size``, concurrently. The default (64)
        keeps a best-first round (32 candidates of one or two states) in one request, which the server
        batches as one admission and prefills each state's prompt once for all its samples. If any chunk fails
        the whole call fails (and the other chunks are cancelled): a partial answer would bias search.
        """
        texts = self._validated_texts(prompts, n)
        _count("max_new_tokens", max_new_tokens, minimum=1)
        temperature = _positive("temperature", temperature, allow_zero=True)
        top_p = _positive("top_p", top_p)
        if top_p > 1:
            raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")
        stop = self._validated_stop(stop)
        if not texts:
            return []

        chunks = [texts[i : i + self.chunk_size] for i in range(0, len(texts), self.chunk_size)]

        def chunk_call(chunk: list[str]) -> Awaitable[list[Completion]]:
            body = generate_request_body(
                chunk, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, stop=stop,
                lora_path=self.lora_path,
            )
            return self._call(
                "/generate",
                body,
                timeout_s=self.timeout_for(len(chunk)),
                what=f"POST /generate with {len(chunk)} text(s)",
                parse=lambda reply: parse_generate_reply(
                    reply, sent=len(chunk), max_new_tokens=max_new_tokens
                ),
            )

        per_chunk = await self._all_or_nothing([chunk_call(chunk) for chunk in chunks])
        flat = [completion for chunk_completions in per_chunk for completion in chunk_completions]
        for completion in flat:
            self.usage.completions += 1
            self.usage.prompt_tokens += completion.prompt_tokens
            self.usage.completion_tokens += completion.completion_tokens
        return [flat[i * n : (i + 1) * n] for i in range(len(prompts))]

    async def health(self) -> bool:
        """Whether the server answers. Tries ``GET /health``; a server without that route (any non-200
        reply) is probed with a one-token ``/generate``. Never raises for an unreachable server."""
        try:
            response = await self._client().get("/health", timeout=self.connect_timeout_s)
            if response.status_code == 200:
                return True
            probe = await self._client().post(
                "/generate",
                json=generate_request_body(["ping"], max_new_tokens=1, temperature=0.0, top_p=1.0, stop=None),
                timeout=self.timeout_for(1),
            )
            return probe.status_code == 200
        except httpx.HTTPError:
            return False

    async def model_info(self) -> dict[str, Any]:
        """SGLang's ``GET /get_model_info`` (``model_path``, ``tokenizer_path``, ...)."""
        what = "GET /get_model_info"
        try:
            response = await self._client().get("/get_model_info", timeout=self.connect_timeout_s)
        except httpx.HTTPError as error:
            raise PolicyUnavailableError(
                f"policy server {self.base_url}: {what} failed: {error!r}"
            ) from error
        self._raise_for_status(response, what, attempts=1)
        try:
            info = response.json()
        except ValueError as error:
            raise PolicyProtocolError(f"policy server {self.base_url}: {what} did not return JSON") from error
        if not isinstance(info, dict):
            raise PolicyProtocolError(f"policy server {self.base_url}: {what} returned {type(info).__name__}")
        return info

    # -- internals ------------------------------------------------------------------------------------------

    @staticmethod
    def _validated_texts(prompts: Sequence[str], n: int) -> list[str]:
        if isinstance(prompts, str) or not isinstance(prompts, Sequence):
            raise TypeError(
                f"prompts must be a list of strings, got {type(prompts).__name__} (wrap a single prompt in a list)"
            )
        _count("n", n, minimum=1)
        for i, prompt in enumerate(prompts):
            if not isinstance(prompt, str):
                raise TypeError(f"prompts[{i}] must be a str, got {type(prompt).__name__}")
            if not prompt.strip():
                raise ValueError(f"prompts[{i}] is empty")
        # Prompt-major order: the n samples of a prompt are adjacent, so they share a chunk (and the
        # server's prefix cache) as far as the chunk size allows.
        return [prompt for prompt in prompts for _ in range(n)]

    @staticmethod
    def _validated_stop(stop: Sequence[str] | None) -> list[str] | None:
        if stop is None:
            return None
        if isinstance(stop, str) or not isinstance(stop, Sequence):
            raise TypeError(f"stop must be a list of strings or None, got {type(stop).__name__}")
        for i, item in enumerate(stop):
            if not isinstance(item, str) or not item:
                raise ValueError(f"stop[{i}] must be a non-empty string, got {item!r}")
        return list(stop)

    @staticmethod
    async def _all_or_nothing(calls: list[Awaitable[T]]) -> list[T]:
        tasks = [asyncio.ensure_future(call) for call in calls]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def _call(
        self, path: str, body: dict[str, Any], *, timeout_s: float, what: str, parse: Callable[[Any], T]
    ) -> T:
        """One logical request: circuit breaker, concurrency slot, retries, then parsing."""
        self._client()
        assert self._slots is not None
        async with self._slots:
            was_probe = await self.breaker.admit()
            try:
                reply = await self._post_with_retries(path, body, timeout_s=timeout_s, what=what)
                try:
                    result = parse(reply)
                except PolicyProtocolError as error:
                    raise PolicyProtocolError(f"policy server {self.base_url}: {what}: {error}") from None
            except PolicyRequestError:
                self.breaker.record_success()  # the server is up; the request was wrong
                raise
            except PolicyError:
                self.breaker.record_failure()
                raise
            except BaseException:
                self.breaker.record_abandoned(was_probe=was_probe)
                raise
            self.breaker.record_success()
            return result

    def _backoff_s(self, retry: int, response: httpx.Response | None) -> float:
        delay = self.backoff_base_s * (2 ** (retry - 1))
        if response is not None:
            retry_after = response.headers.get("Retry-After", "")
            if retry_after.isdigit():
                delay = max(delay, float(retry_after))
        return min(delay, self.backoff_max_s)

    async def _post_with_retries(
        self, path: str, body: dict[str, Any], *, timeout_s: float, what: str
    ) -> Any:
        client = self._client()
        last_response: httpx.Response | None = None
        last_transport_error: Exception | None = None
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            if attempt:
                self.usage.retries += 1
                await asyncio.sleep(self._backoff_s(attempt, last_response))
            self.usage.requests += 1
            try:
                async with asyncio.timeout(timeout_s):
                    response = await client.post(path, json=body)
            except TimeoutError:
                raise PolicyTimeoutError(
                    f"policy server {self.base_url}: {what} got no reply within {timeout_s:.1f} s "
                    f"(deadline = {self.timeout_base_s:g} s + {self.timeout_per_item_s:g} s per text, "
                    f"clamped to [{self.timeout_min_s:g}, {self.timeout_max_s:g}] s)"
                ) from None
            except _RETRYABLE_TRANSPORT_ERRORS as error:
                last_response, last_transport_error = None, error
                continue
            except httpx.HTTPError as error:
                raise PolicyUnavailableError(
                    f"policy server {self.base_url}: {what} failed: {error!r}"
                ) from error
            if response.status_code >= 500:
                last_response, last_transport_error = response, None
                continue
            self._raise_for_status(response, what, attempts=attempt + 1)
            try:
                return response.json()
            except ValueError as error:
                snippet = response.text[:200]
                raise PolicyProtocolError(
                    f"policy server {self.base_url}: {what} returned HTTP {response.status_code} "
                    f"with a body that is not JSON: {snippet!r}"
                ) from error
        if last_response is not None:
            self._raise_for_status(last_response, what, attempts=attempts)
        raise PolicyUnavailableError(
            f"policy server {self.base_url}: {what} failed after {attempts} attempt(s): {last_transport_error!r}"
        )

    def _raise_for_status(self, response: httpx.Response, what: str, *, attempts: int) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        message = _server_message(response)
        if 400 <= status < 500:
            raise PolicyRequestError(
                f"policy server {self.base_url} rejected {what} with HTTP {status}: {message}",
                status=status,
                server_message=message,
            )
        if status >= 500:
            raise PolicyServerError(
                f"policy server {self.base_url}: {what} failed with HTTP {status} after {attempts} attempt(s): "
                f"{message}",
                status=status,
                server_message=message,
            )
        raise PolicyProtocolError(f"policy server {self.base_url}: {what} returned unexpected HTTP {status}")
