"""A policy server test double: SGLang's native `/generate` over real HTTP on loopback, no model.

SGLang needs a GPU, so search tests that must reach a policy over HTTP use this. The "model" is a
script: the first rule whose key occurs in the prompt gives the completions, handed out in turn across
the n samples. Single-tactic requests (stop list with a blank line) read `tactics`, whole-proof requests
read `proofs`. Tokens are whitespace-separated words; each costs log-prob −0.1, so a longer completion
has a lower log-prob, as with a real model.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

from aiohttp import web


class GenerateDouble:
    def __init__(self, *, tactics: list[tuple[str, list[str]]] | None = None,
                 proofs: list[tuple[str, list[str]]] | None = None, default: str = "skip") -> None:
        self.tactics = tactics or []
        self.proofs = proofs or []
        self.default = default
        self.requests: list[dict[str, Any]] = []
        self._turns: dict[tuple[str, str], itertools.count] = defaultdict(itertools.count)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/generate", self._generate)
        app.router.add_get("/health", self._health)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _pick(self, prompt: str, whole_proof: bool) -> str:
        for key, completions in self.proofs if whole_proof else self.tactics:
            if key in prompt:
                turn = next(self._turns[(key, str(whole_proof))])
                return completions[turn % len(completions)]
        return self.default

    async def _generate(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        params = body.get("sampling_params", {})
        whole_proof = "\n\n" not in (params.get("stop") or [])
        texts = body["text"]
        items = [self._reply(t, whole_proof, params) for t in ([texts] if isinstance(texts, str) else texts)]
        return web.json_response(items[0] if isinstance(texts, str) else items)

    def _reply(self, prompt: str, whole_proof: bool, params: dict[str, Any]) -> dict[str, Any]:
        text = self._pick(prompt, whole_proof)
        tokens = text.split() or [""]
        limit = int(params.get("max_new_tokens", 1 << 30))
        return {
            "text": text,
            "meta_info": {
                "prompt_tokens": len(prompt.split()),
                "completion_tokens": min(len(tokens), limit),
                "output_token_logprobs": [[-0.1, i, tok] for i, tok in enumerate(tokens[:limit])],
                "finish_reason": {"type": "stop"},
            },
        }
