"""Command line: `python -m prover.serving [--model PATH] [--adapter DIR] [--quantize nf4] --port P`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading

from prover.serving.generation import LOGPROB_MODES
from prover.serving.llama_cpp_runner import DEFAULT_KV_CELLS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m prover.serving",
        description="Local inference server: SGLang-compatible /generate and mean-pooled /encode over one model.",
    )
    parser.add_argument("--model", help="transformers model folder; default: the embedded SmolLM2-135M")
    parser.add_argument("--adapter", help="peft LoRA adapter folder to apply on top of --model")
    parser.add_argument("--max-loras", type=int, default=2,
                        help="adapters that requests name (lora_path) kept loaded at once, each a merged copy of the "
                             "model; 0 refuses lora_path")
    parser.add_argument("--lora-root", action="append", default=[],
                        help="only adapter folders under this folder may be loaded by request (repeatable; "
                             "default: any peft adapter folder)")
    parser.add_argument("--quantize", choices=["nf4"], help="4-bit nf4 via bitsandbytes (CUDA only)")
    parser.add_argument(
        "--dtype",
        choices=["bf16", "fp16", "fp32"],
        help="default: bf16 where the device computes it natively (avx512_bf16/amx_bf16 CPUs, Ampere+ GPUs), "
        "else fp32 (docs/precision.md)",
    )
    parser.add_argument(
        "--engine",
        choices=["auto", "llamacpp", "fused", "transformers"],
        default="auto",
        help="auto: on CPU, llama.cpp for a model that came from a GGUF file (the embedded one) when llama-cpp-python "
        "is installed, else the fused Llama engine for plain Llama models; transformers otherwise "
        "(docs/serving-engine.md, docs/llama-cpp-engine.md)",
    )
    parser.add_argument("--kv-cells", type=int, default=DEFAULT_KV_CELLS,
                        help="llama.cpp engine: KV cache cells shared by all decoding rows (a row's prompt counts "
                        "once however many samples share it; SmolLM2-135M: 23 KB a cell)")
    parser.add_argument("--device", help="torch device; default cuda when available, else cpu")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=30000, help="0 picks a free port (printed on startup)")
    parser.add_argument("--context-length", type=int, help="cap on prompt + new tokens (default: the model's)")
    parser.add_argument("--max-length", type=int, default=2048, help="/encode truncates texts to this many tokens")
    parser.add_argument("--encode-max-batch", type=int,
                        help="/encode sub-batch size before OOM halving (default: 8 on a CPU, 64 on a GPU)")
    parser.add_argument("--encode-linger-ms", type=float, default=5.0)
    parser.add_argument("--generate-linger-ms", type=float, default=5.0)
    parser.add_argument("--generate-max-batch", type=int,
                        help="rows decoded together at most (default: 64 on a CPU, 256 on a GPU)")
    parser.add_argument(
        "--logprob-mode",
        choices=LOGPROB_MODES,
        default="original" if os.environ.get("SGLANG_RETURN_ORIGINAL_LOGPROB", "").lower() in ("1", "true") else "scaled",
        help="scaled: log-softmax(logits / temperature) as SGLang reports by default; original: temperature 1 "
        "(SGLang with SGLANG_RETURN_ORIGINAL_LOGPROB=1)",
    )
    parser.add_argument("--seed", type=int, help="seed of the sampling generator (default: random)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("BURNQED_SERVING_API_KEY") or None,
        help="require 'Authorization: Bearer KEY' on every route but /health (default: env BURNQED_SERVING_API_KEY)",
    )
    return parser


async def _serve_http(server, host: str, port: int, stopped: threading.Event) -> None:
    from aiohttp import web

    # handler_cancellation: a disconnected client cancels its request, so its rows stop being decoded.
    runner = web.AppRunner(server.build_app(start_worker_thread=False), access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = site._server.sockets[0].getsockname()[1] if site._server and site._server.sockets else port
    print(f"prover.serving ready on http://{host}:{bound_port}", flush=True)
    try:
        while not stopped.is_set():
            await asyncio.sleep(0.2)
    finally:
        await runner.cleanup()


def _run_http_thread(server, host: str, port: int, stopped: threading.Event) -> None:
    try:
        asyncio.run(_serve_http(server, host, port, stopped))
    except BaseException:
        logging.getLogger("prover.serving").exception("the HTTP server stopped")
    finally:
        server.worker.stop()  # the main thread's model loop returns, and the process exits


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import torch

    from prover.serving.embedded_model import EmbeddedModelError, ensure_embedded_model
    from prover.serving.model_loading import ModelLoadError, load_model
    from prover.serving.server import InferenceServer, ServerOptions

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        if args.quantize == "nf4":
            from prover.serving.model_loading import check_nf4_available

            check_nf4_available(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        model_path = args.model or ensure_embedded_model()
        loaded = load_model(
            model_path,
            dtype=args.dtype,
            device=args.device,
            adapter=args.adapter,
            quantize=args.quantize,
            context_length=args.context_length,
            engine=args.engine,
            kv_cells=args.kv_cells,
        )
    except (ModelLoadError, EmbeddedModelError) as error:
        print(f"prover.serving: error: {error}", file=sys.stderr, flush=True)
        return 2
    # A CPU's forward time grows with the batch, so small sub-batches cost little and bound memory; a GPU's
    # forward costs about the same from 1 to hundreds of rows, so it takes everything that is waiting (measured
    # on an H200: README, performance). OOM still halves either.
    on_gpu = loaded.device.startswith("cuda")
    options = ServerOptions(
        logprob_mode=args.logprob_mode,
        encode_max_length=args.max_length,
        encode_max_batch_size=args.encode_max_batch or (64 if on_gpu else 8),
        encode_linger_ms=args.encode_linger_ms,
        generate_linger_ms=args.generate_linger_ms,
        generate_max_batch_rows=args.generate_max_batch or (256 if on_gpu else 64),
        seed=args.seed,
        api_key=args.api_key,
    )
    def load_adapter(folder: str):
        return load_model(model_path, dtype=args.dtype, device=args.device, adapter=folder, quantize=args.quantize,
                          context_length=args.context_length, engine=args.engine, kv_cells=args.kv_cells)

    server = InferenceServer(loaded, options, load_adapter=load_adapter if args.max_loras > 0 else None,
                             max_loras=max(args.max_loras, 1), lora_roots=args.lora_root)
    stopped = threading.Event()
    # The model loop takes the main thread (bf16 CPU kernels measured ~30% slower on other threads);
    # HTTP runs beside it.
    http = threading.Thread(target=_run_http_thread, args=(server, args.host, args.port, stopped), daemon=True)
    http.start()
    try:
        server.worker.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stopped.set()
        http.join(timeout=10)
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
