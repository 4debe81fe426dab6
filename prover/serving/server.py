"""The HTTP server: SGLang-compatible /generate, the encode server's /encode, /health and /model_info.

Both endpoints share one backbone, used by one loop (`model_worker.ModelWorker`): /generate by continuous
batching (requests join the running decode between steps), /encode by coalescing the requests that
arrive meanwhile into one batch. The aiohttp event loop only parses, validates, tokenizes and answers.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from aiohttp import web

from prover.serving.adapters import AdapterError, AdapterSet
from prover.serving.decode_batch import DecodeBatch
from prover.serving.device_memory import peak_memory_mb
from prover.serving.encoding import EmbeddingError, encode_with_halving, tokenize_for_encoding
from prover.serving.generation import Completion, Row
from prover.serving.model_loading import LoadedModel
from prover.serving.model_worker import ModelWorker
from prover.serving.request_bodies import BadRequest, parse_encode_body, parse_generate_body

SERVER_VERSION = "0.1.0"
# Fault injection for tests and drills: the encode (generate) forward raises torch.OutOfMemoryError for
# batches larger than this many texts (rows), exercising the real halving paths on machines that never run
# out of memory.
FAULT_ENCODE_OOM_ABOVE_ENV = "BURNQED_SERVING_FAULT_ENCODE_OOM_ABOVE"
FAULT_GENERATE_OOM_ABOVE_ENV = "BURNQED_SERVING_FAULT_GENERATE_OOM_ABOVE"

log = logging.getLogger("prover.serving")


@dataclass
class ServerOptions:
    logprob_mode: str = "scaled"
    encode_max_length: int = 2048
    encode_max_batch_size: int = 8
    encode_linger_ms: float = 5.0
    generate_linger_ms: float = 5.0
    generate_max_batch_rows: int = 64
    max_request_rows: int = 1024
    seed: int | None = None
    api_key: str | None = None


class Counters:
    """Thread-safe monotonic counters, reported by /model_info (how tests see coalescing and halving).

    generate_batches counts admissions (one prefill of the rows that joined together), generate_forward_passes
    every forward (prefills and decode steps); encode_batches counts coalesced groups of requests,
    encode_forward_passes the sub-batch forwards that ran.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, int] = dict.fromkeys(
            [
                "generate_requests", "generate_batches", "generate_rows", "generate_forward_passes",
                "generate_output_tokens", "generate_oom_halvings", "generate_aborted_rows", "encode_requests", "encode_batches", "encode_texts",
                "encode_forward_passes", "encode_oom_halvings",
            ],
            0,
        )  # fmt: skip

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._values[name] += amount

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._values)


def _error(status: int, message: str, field: str | None = None) -> web.Response:
    payload: dict = {"error": message}
    if field is not None:
        payload["field"] = field
    return web.json_response(payload, status=status)


def _fault_oom_limit(variable: str) -> int | None:
    raw = os.environ.get(variable)
    return int(raw) if raw else None


@dataclass
class Backbone:
    """One model the server runs, with its own model loop: the base model, or the base with an adapter merged in."""

    loaded: LoadedModel
    worker: ModelWorker

    def stop(self) -> None:
        self.worker.stop()


class InferenceServer:
    def __init__(self, loaded: LoadedModel, options: ServerOptions, *,
                 load_adapter: Callable[[str], LoadedModel] | None = None, max_loras: int = 2,
                 lora_roots: Sequence[str] = ()) -> None:
        """`load_adapter(folder)` loads the base model with that LoRA adapter merged in; without it, requests that
        name an adapter (`lora_path`) are refused."""
        self.loaded = loaded
        self.options = options
        self.counters = Counters()
        self.model_lock = threading.Lock()
        self.generator = torch.Generator(device=loaded.device)
        if options.seed is not None:
            self.generator.manual_seed(options.seed)
        else:
            self.generator.seed()
        self.oom_above = _fault_oom_limit(FAULT_ENCODE_OOM_ABOVE_ENV)
        self.generate_oom_above = _fault_oom_limit(FAULT_GENERATE_OOM_ABOVE_ENV)
        self.encode_max_length = min(options.encode_max_length, loaded.context_length)
        from prover.serving.precision import cpu_description

        self.cpu_info = {"capability": torch.backends.cpu.get_cpu_capability(), "flags": cpu_description()}
        self.base = self._backbone(loaded)
        self.worker = self.base.worker
        self.adapters = None
        if load_adapter is not None:
            self.adapters = AdapterSet(lambda folder: self._started(load_adapter(folder)), capacity=max_loras,
                                       roots=lora_roots)

    def _started(self, loaded: LoadedModel) -> Backbone:
        backbone = self._backbone(loaded)
        backbone.worker.start_thread()
        return backbone

    def _backbone(self, loaded: LoadedModel) -> Backbone:
        options = self.options
        worker = ModelWorker(
            lambda: DecodeBatch(
                loaded,
                logprob_mode=options.logprob_mode,
                model_lock=self.model_lock,
                generator=self.generator,
                forward_hook=self._generate_forward_hook,
            ),
            lambda token_ids: self._encode_work(loaded, token_ids),
            max_rows=options.generate_max_batch_rows,
            generate_linger_s=options.generate_linger_ms / 1000,
            encode_linger_s=options.encode_linger_ms / 1000,
            on_admit=lambda rows: (self.counters.add("generate_batches"), self.counters.add("generate_rows", rows)),
            on_generate_oom=lambda rows: self.counters.add("generate_oom_halvings"),
            on_abort=lambda rows: self.counters.add("generate_aborted_rows", rows),
            on_encode_batch=lambda requests, texts: (
                self.counters.add("encode_batches"),
                self.counters.add("encode_texts", texts),
            ),
        )
        return Backbone(loaded, worker)

    async def _backbone_for(self, lora_path: str | None) -> Backbone:
        if lora_path is None:
            return self.base
        if self.adapters is None:
            raise BadRequest("lora_path", "this server was started without adapter loading (see --max-loras)")
        try:
            return await self.adapters.backbone(lora_path)
        except AdapterError as error:
            raise BadRequest("lora_path", str(error)) from None

    # --- work functions, run on the model worker's thread -------------------------------------------------

    def _generate_forward_hook(self, batch_rows: int) -> None:
        if self.generate_oom_above is not None and batch_rows > self.generate_oom_above:
            raise torch.OutOfMemoryError(
                f"injected by {FAULT_GENERATE_OOM_ABOVE_ENV}={self.generate_oom_above} for {batch_rows} rows"
            )
        self.counters.add("generate_forward_passes")

    def _encode_forward_hook(self, batch_size: int) -> None:
        if self.oom_above is not None and batch_size > self.oom_above:
            raise torch.OutOfMemoryError(
                f"injected by {FAULT_ENCODE_OOM_ABOVE_ENV}={self.oom_above} for a batch of {batch_size}"
            )
        self.counters.add("encode_forward_passes")

    def _encode_work(self, loaded: LoadedModel, token_ids: list[list[int]]) -> torch.Tensor:
        return encode_with_halving(
            loaded,
            token_ids,
            max_batch_size=self.options.encode_max_batch_size,
            model_lock=self.model_lock,
            forward_hook=self._encode_forward_hook,
            on_oom=lambda size: self.counters.add("encode_oom_halvings"),
        )

    # --- HTTP handlers --------------------------------------------------------------------------------

    async def _json_body(self, request: web.Request):
        try:
            return await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise BadRequest("body", f"is not valid JSON ({error})") from error

    def _prompt_rows(self, loaded: LoadedModel, texts: list[str], params) -> list[Row]:
        rows: list[Row] = []
        context = loaded.context_length
        for i, (text, p) in enumerate(zip(texts, params, strict=True)):
            ids = list(loaded.tokenizer(text)["input_ids"])
            if not ids:
                raise BadRequest(f"text[{i}]", "tokenizes to zero tokens; send a non-empty prompt")
            if len(ids) + p.max_new_tokens > context:
                raise BadRequest(
                    f"text[{i}]",
                    f"has {len(ids)} tokens; with max_new_tokens={p.max_new_tokens} that exceeds "
                    f"the context length {context}",
                )
            rows.extend(Row(prompt_ids=ids, params=p) for _ in range(p.n))
        return rows

    def _completion_json(self, completion: Completion, return_logprob: bool, with_text: bool) -> dict:
        meta: dict = {
            "id": uuid.uuid4().hex,
            "finish_reason": completion.finish_reason,
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": len(completion.output_ids),
            "cached_tokens": 0,
        }
        if return_logprob:
            tokenizer = self.loaded.tokenizer
            meta["output_token_logprobs"] = [
                [logprob, token, tokenizer.decode([token]) if with_text else None]
                for logprob, token in zip(completion.logprobs, completion.output_ids, strict=True)
            ]
        return {"text": completion.text, "meta_info": meta}

    async def generate(self, request: web.Request) -> web.Response:
        try:
            body = parse_generate_body(await self._json_body(request))
            backbone = await self._backbone_for(body.lora_path)
            rows = self._prompt_rows(backbone.loaded, body.texts, body.params)
            if len(rows) > self.options.max_request_rows:
                raise BadRequest(
                    "sampling_params.n",
                    f"the request asks for {len(rows)} completions; this server allows at most "
                    f"{self.options.max_request_rows} per request",
                )
        except BadRequest as error:
            return _error(400, str(error), error.field)
        self.counters.add("generate_requests")
        try:
            completions = await backbone.worker.generate(rows)
        except torch.OutOfMemoryError as error:
            return _error(503, f"out of memory while generating: {error}")
        self.counters.add("generate_output_tokens", sum(len(c.output_ids) for c in completions))
        items = [self._completion_json(c, body.return_logprob, body.return_text_in_logprobs) for c in completions]
        if not body.is_batch and len(items) == 1:
            return web.json_response(items[0])
        return web.json_response(items)

    async def encode(self, request: web.Request) -> web.Response:
        try:
            body = parse_encode_body(await self._json_body(request))
            backbone = await self._backbone_for(body.lora_path)
            hidden = backbone.loaded.hidden_size
            if body.hidden_size is not None and body.hidden_size != hidden:
                raise BadRequest(
                    "hidden_size", f"is {body.hidden_size} but this model's hidden size is {hidden}"
                )
            token_ids = tokenize_for_encoding(backbone.loaded, body.texts, self.encode_max_length)
            for i, ids in enumerate(token_ids):
                if not ids:
                    raise BadRequest(f"text[{i}]", "tokenizes to zero tokens; an empty text has no embedding")
        except BadRequest as error:
            return _error(400, str(error), error.field)
        self.counters.add("encode_requests")
        try:
            vectors = await backbone.worker.encode(token_ids)
        except torch.OutOfMemoryError as error:
            return _error(503, f"out of memory even at encode batch size 1: {error}")
        except EmbeddingError as error:
            return _error(500, str(error))
        if body.is_batch:
            return web.json_response({"embeddings": [v.tolist() for v in vectors]})
        return web.json_response({"embedding": vectors[0].tolist()})

    async def load_lora_adapter(self, request: web.Request) -> web.Response:
        """SGLang's `{"lora_name", "lora_path"}`: load an adapter now and let requests name it."""
        try:
            body = await self._json_body(request)
            if not isinstance(body, dict) or not all(isinstance(body.get(k), str) and body.get(k)
                                                     for k in ("lora_name", "lora_path")):
                raise BadRequest("body", "expected {\"lora_name\": ..., \"lora_path\": ...} (two non-empty strings)")
            if self.adapters is None:
                raise BadRequest("lora_path", "this server was started without adapter loading (see --max-loras)")
            try:
                folder = self.adapters.register(body["lora_name"], body["lora_path"])
                await self.adapters.backbone(folder)
            except AdapterError as error:
                raise BadRequest("lora_path", str(error)) from None
        except BadRequest as error:
            return _error(400, str(error), error.field)
        return web.json_response({"success": True, "lora_name": body["lora_name"], "lora_path": folder})

    async def unload_lora_adapter(self, request: web.Request) -> web.Response:
        try:
            body = await self._json_body(request)
            name = body.get("lora_name") if isinstance(body, dict) else None
            if not isinstance(name, str) or self.adapters is None:
                raise BadRequest("lora_name", "expected {\"lora_name\": ...} naming a loaded adapter")
            try:
                self.adapters.unregister(name)
            except AdapterError as error:
                raise BadRequest("lora_name", str(error)) from None
        except BadRequest as error:
            return _error(400, str(error), error.field)
        return web.json_response({"success": True})

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def model_info(self, request: web.Request) -> web.Response:
        loaded = self.loaded
        return web.json_response(
            {
                "model_path": loaded.model_path,
                "model_type": getattr(loaded.base_model_config(), "model_type", None),
                "hidden_size": loaded.hidden_size,
                "vocab_size": len(loaded.tokenizer),
                "dtype": loaded.dtype,
                "dtype_reason": loaded.dtype_reason,
                "engine": loaded.engine,
                **({"llama_cpp": loaded.runner.llama.describe()} if loaded.engine == "llamacpp" else {}),
                "device": loaded.device,
                "cpu": self.cpu_info,
                "adapter": loaded.adapter,
                "adapter_merged": loaded.adapter_merged,
                "lora_loading": self.adapters is not None,
                "loras_loaded": self.adapters.loaded() if self.adapters else [],
                "lora_names": dict(self.adapters.names) if self.adapters else {},
                "quantization": loaded.quantization,
                "context_length": loaded.context_length,
                "encode_max_length": self.encode_max_length,
                "logprob_mode": self.options.logprob_mode,
                "is_generation": True,
                "version": SERVER_VERSION,
                "stats": self.counters.snapshot(),
                "memory": {**peak_memory_mb(loaded.device), **(
                    {"cuda_allocated_mb": torch.cuda.memory_allocated() / 2**20}
                    if loaded.device.startswith("cuda") and torch.cuda.is_available() else {})},
            }
        )

    def build_app(self, *, start_worker_thread: bool = True) -> web.Application:
        """The aiohttp application. With start_worker_thread=False the caller runs `self.worker.run_forever()`
        itself (the CLI does, on the main thread). Serve it with `web.AppRunner(app, handler_cancellation=True)`
        so that a client that disconnects cancels its handler and the model loop drops that request's rows."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/generate", self.generate)
        app.router.add_post("/encode", self.encode)
        app.router.add_get("/health", self.health)
        app.router.add_get("/model_info", self.model_info)
        app.router.add_get("/get_model_info", self.model_info)  # SGLang's name for it
        app.router.add_post("/load_lora_adapter", self.load_lora_adapter)  # SGLang's names for these two
        app.router.add_post("/unload_lora_adapter", self.unload_lora_adapter)
        if start_worker_thread:
            app.on_startup.append(self._start_worker)
            app.on_cleanup.append(self._stop_worker)
        app.middlewares.append(_unexpected_errors_as_json)
        if self.options.api_key:
            app.middlewares.append(_bearer_key_required(self.options.api_key))
        return app

    async def _start_worker(self, app: web.Application) -> None:
        self.worker.start_thread()

    async def _stop_worker(self, app: web.Application) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.stop)

    def stop(self) -> None:
        """Stop every model loop: the base model's and each adapter's."""
        if self.adapters is not None:
            self.adapters.stop()
        self.worker.stop()


def _bearer_key_required(api_key: str):
    """Like SGLang's --api-key: every route but /health needs `Authorization: Bearer <key>`."""
    expected = f"Bearer {api_key}"

    @web.middleware
    async def check(request: web.Request, handler):
        if request.path != "/health" and not hmac.compare_digest(request.headers.get("Authorization", ""), expected):
            return _error(401, "missing or wrong API key (send Authorization: Bearer <key>)", "Authorization")
        return await handler(request)

    return check


@web.middleware
async def _unexpected_errors_as_json(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as error:  # noqa: BLE001 - a client must get a JSON reason, the log gets the trace
        log.exception("unhandled error on %s", request.path)
        return _error(500, f"{type(error).__name__}: {error}")
