"""A stand-in for an SGLang server (which cannot run here: it needs a GPU), speaking its native wire format
over real HTTP on loopback.

The "model" is a script: ``completions`` maps a prompt to the texts it returns, in turn. Tokens are
characters, so token counts and log-probs are easy to state in tests: prompt_tokens = len(prompt), and the
i-th output character has log-prob ``logprob_of(ch)``. Stop strings and ``max_new_tokens`` cut the text the
way SGLang does (the matched stop string is not returned).

Faults on demand: HTTP errors for the next N requests, dropped connections, slow replies, and a barrier
that holds requests until K of them are in flight at once (to prove that a client sends concurrently).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

CONCURRENCY_WAIT_S = 10.0  # only reached when a test fails: the client never sent enough requests at once


def logprob_of(ch: str) -> float:
    """The double's per-token log-prob: a deterministic negative number that differs between characters."""
    return -((ord(ch) % 7) + 1) / 8


@dataclass
class _Fault:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class SGLangDouble:
    def __init__(self) -> None:
        self.completions: dict[str, list[str]] = {}
        self.default_completion = "simp"
        self.requests: list[dict[str, Any]] = []
        self.replies: list[Any] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay_s = 0.0
        self.health_status = 200
        self.model_path = "test/sglang-double"
        self._faults: deque[_Fault | str] = deque()
        self._barrier_size = 0
        self._barrier_event: asyncio.Event | None = None
        self._turns: dict[str, itertools.count] = defaultdict(itertools.count)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- faults ---------------------------------------------------------------------------------------------

    def fail_next(self, count: int, status: int, message: str = "server busy", *, body: Any = None) -> None:
        """Answer the next ``count`` /generate requests with ``status`` and SGLang's error body (or ``body``)."""
        for _ in range(count):
            self._faults.append(_Fault(status, body if body is not None else {"error": {"message": message}}))

    def drop_next(self, count: int) -> None:
        """Close the connection without replying, as a crashed or restarting server does."""
        self._faults.extend(["drop"] * count)

    def hold_until_concurrent(self, count: int) -> None:
        """Hold each /generate request until ``count`` are in flight together, then release them all."""
        self._barrier_size = count
        self._barrier_event = asyncio.Event()

    @property
    def texts_per_request(self) -> list[int]:
        return [len(r["text"]) if isinstance(r["text"], list) else 1 for r in self.requests]

    # -- generation -----------------------------------------------------------------------------------------

    def _generate_one(self, prompt: str, params: dict[str, Any]) -> dict[str, Any]:
        script = self.completions.get(prompt, [self.default_completion])
        text = script[next(self._turns[prompt]) % len(script)]
        finish: dict[str, Any] = {"type": "stop", "matched": 2}  # 2: the eos token id
        cut = min(((text.find(s), s) for s in params.get("stop") or [] if s in text), default=None)
        if cut is not None:
            text, finish = text[: cut[0]], {"type": "stop", "matched": cut[1]}
        max_new_tokens = params["max_new_tokens"]
        if len(text) > max_new_tokens:
            text, finish = text[:max_new_tokens], {"type": "length", "length": max_new_tokens}
        return {
            "text": text,
            "meta_info": {
                "id": f"req-{len(self.replies)}",
                "finish_reason": finish,
                "prompt_tokens": len(prompt),
                "completion_tokens": len(text),
                "cached_tokens": 0,
                "output_token_logprobs": [[logprob_of(ch), ord(ch), None] for ch in text],
            },
        }

    @staticmethod
    def _bad_request(message: str) -> web.Response:
        return web.json_response({"error": {"message": message}}, status=400)

    async def _generate(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        if self._faults:
            fault = self._faults.popleft()
            if fault == "drop":
                assert request.transport is not None
                request.transport.abort()
                return web.Response(status=500)
            assert isinstance(fault, _Fault)
            if isinstance(fault.body, str):
                return web.Response(text=fault.body, status=fault.status, headers=fault.headers)
            return web.json_response(fault.body, status=fault.status, headers=fault.headers)

        text = body.get("text")
        params = body.get("sampling_params")
        if isinstance(text, str):
            prompts = [text]
        elif isinstance(text, list) and text and all(isinstance(t, str) for t in text):
            prompts = text
        else:
            return self._bad_request("text must be a string or a non-empty list of strings")
        if not isinstance(params, dict) or not isinstance(params.get("max_new_tokens"), int):
            return self._bad_request("sampling_params.max_new_tokens is required")
        if "n" in params:
            return self._bad_request("this double does not implement sampling_params.n")

        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self._barrier_event is not None:
                if self.in_flight >= self._barrier_size:
                    self._barrier_event.set()
                try:
                    await asyncio.wait_for(self._barrier_event.wait(), CONCURRENCY_WAIT_S)
                except TimeoutError:
                    return web.json_response(
                        {"error": {"message": f"only {self.max_in_flight} requests were ever in flight"}},
                        status=400,
                    )
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            items = [self._generate_one(prompt, params) for prompt in prompts]
        finally:
            self.in_flight -= 1
        reply: Any = items[0] if isinstance(text, str) else items
        self.replies.append(reply)
        return web.Response(text=json.dumps(reply, ensure_ascii=False), content_type="application/json")

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(status=self.health_status)

    async def _model_info(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"model_path": self.model_path, "tokenizer_path": self.model_path, "is_generation": True}
        )

    # -- lifecycle ------------------------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_post("/generate", self._generate)
        app.router.add_get("/health", self._health)
        app.router.add_get("/get_model_info", self._model_info)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
