"""Local inference server speaking SGLang's native /generate and the encode server's /encode over transformers.

No Django. One backbone serves both: tactics (/generate) and mean-pooled embeddings (/encode).

Run:
    python -m prover.serving [--model PATH] [--adapter LORA_DIR] [--quantize nf4] [--dtype bf16|fp16|fp32]
                             [--engine auto|fused|transformers]
                             [--host 127.0.0.1] [--port 30000 | 0] [--logprob-mode scaled|original] ...
Without --model it serves the embedded SmolLM2-135M-Instruct (`embedded_model.ensure_embedded_model()`).
It prints `prover.serving ready on http://HOST:PORT` once it accepts requests (port 0 picks a free one).

Endpoints:
    POST /generate  {"text": str | [str], "sampling_params": {max_new_tokens=128, temperature=1.0 (0 = greedy),
                     top_p=1.0, top_k=-1, stop: str | [str], stop_token_ids: [int], ignore_eos=false, n=1}
                     (or one sampling_params object per text), "return_logprob": bool,
                     "return_text_in_logprobs": bool}
                    -> {"text", "meta_info": {"id", "finish_reason", "prompt_tokens", "completion_tokens",
                        "cached_tokens", "output_token_logprobs": [[logprob, token_id, text|null], ...]}}
                       for one text and n = 1; otherwise a list, prompt i's n samples at [i*n, (i+1)*n).
                    finish_reason: {"type": "length", "length": N} | {"type": "stop", "matched": id | str}.
                    The text stops before a matched stop string (the tokens up to it are counted, as in SGLang).
    POST /encode    {"text": str, "hidden_size"?: int} -> {"embedding": [float]}
                    {"text": [str], "hidden_size"?: int} -> {"embeddings": [[float], ...]}
    GET  /health    {"status": "ok"}
    GET  /model_info (alias /get_model_info): model path, hidden size, dtype and why it was chosen
                    (`dtype_reason`), engine, device, CPU capability, adapter, quantization, context length,
                    version and `stats` (request, batch and forward-pass counters).
Invalid bodies get 400 {"error": "<field>: <why>", "field": "<field>"}. With --api-key (or env
BURNQED_SERVING_API_KEY) every route but /health needs `Authorization: Bearer <key>` (else 401).
Out of memory: /encode halves its sub-batch, /generate splits its batch, down to one (then 503).
Fault injection (tests, drills): env BURNQED_SERVING_FAULT_ENCODE_OOM_ABOVE=N / ..._GENERATE_OOM_ABOVE=N
make forwards of more than N texts / rows raise torch.OutOfMemoryError.

Precision: without --dtype, bf16 where the device computes it natively, else fp32 (`precision.py`).
Engine: plain Llama models on CPU run through `fused_llama.FusedLlama` (fused projections, preallocated KV
cache); nf4, CUDA and other architectures through transformers (`transformers_runner.py`). Rows of one
admission that share a prompt are prefilled once.

Inside: one model loop (`model_worker.ModelWorker`, on the main thread under the CLI) does every forward:
continuous batching for /generate (new rows join the running decode between steps) and, between decode
steps, the /encode requests that arrived meanwhile as one batch; the aiohttp event loop runs beside it.

Helpers for other packages: `tiny_model.build_tiny_llama(path)` (a random tiny Llama + BPE tokenizer for
tests), `embedded_model.ensure_embedded_model()` (the converted SmolLM2 folder).
"""
