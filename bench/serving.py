"""Benchmark prover.serving against plain transformers in float32, the baseline a user would write:

    /generate   N concurrent requests x T tokens   vs  transformers `generate` of the same prompts as one batch
    /encode     64 proof states (one request, and  vs  one transformers fp32 forward of the 64 padded states
                64 concurrent one-text requests)        with the same masked mean pool

    python bench/serving.py                      # random Llama of SmolLM2-135M's shape (no download), a few min
    python bench/serving.py --model embedded     # the real embedded SmolLM2-135M (converted once, cached)
    python bench/serving.py --model PATH         # any transformers folder

The server runs as a subprocess with its own choices (dtype by CPU capability unless --dtype, the fused
engine); while it is measured, this process is idle, and vice versa. The baseline samples with the same
temperature and top_p (top_k off, as the server's requests have it), forcing the same number of new tokens
(min_new_tokens), with log-probs (compute_transition_scores). Ratio = server / baseline.

What an AVX2-only CPU gets, on a machine with AVX-512: limit the kernels and pass the dtype it would choose,
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 python bench/serving.py --dtype fp32
(the CPU flags still list avx512_bf16, so the automatic choice would say bf16).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPT = (
    "Complete the following Lean 4 code:\n\n```lean4\n/- tactic state:\nx : ℝ\nh₀ : 0 < x\n⊢ x ^ 2 ≥ 0\n-/\n"
    "example := by\n  "
)
OTHER_STATES = ["n : ℕ\nh₀ : n % 5 = 3\n⊢ 2 * n % 5 = 1", "a b : ℝ\nh₀ : a + b = 7\nh₁ : a - b = 1\n⊢ a = 4",
                "⊢ (29 ^ 13 - 5 ^ 13) % 7 = 3", "x : ℝ\nh₀ : 3 * x + 2 = 11\n⊢ x = 3"]
TACTIC_PAIRS = ROOT / "data" / "tactic_pairs" / "minif2f_test_tactic_pairs_internlm2.jsonl"


def proof_states(count: int, tokenizer, max_tokens: int = 512) -> list[str]:
    """`count` distinct proof states of at most `max_tokens` tokens from the bundled tactic pairs (real
    lengths: a line to a screenful; the few longer ones would make the padded baseline mostly padding)."""
    import json

    states: list[str] = []
    for line in TACTIC_PAIRS.read_text(encoding="utf-8").splitlines():
        state = json.loads(line)["state_before"]
        if state not in states and len(tokenizer(state)["input_ids"]) <= max_tokens:
            states.append(state)
        if len(states) == count:
            break
    return states


def machine_description() -> str:
    import torch

    from bench._machine import machine_line
    from prover.serving.precision import cpu_description

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    load = ", load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    limits = " ".join(f"{v}={os.environ[v]}" for v in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA",
                                                       "MKL_ENABLE_INSTRUCTIONS") if v in os.environ)
    return (
        f"{machine_line()}; torch {torch.__version__} ({torch.get_num_threads()} threads), CPU capability "
        f"{torch.backends.cpu.get_cpu_capability()}, flags: {cpu_description()}{'; ' + limits if limits else ''}; "
        f"GPU: {gpu}{load}"
    )


def smollm2_tokenizer(folder: str | None = None):
    """SmolLM2's tokenizer: from `folder`, else the converted cache when present (0.1 s), else the GGUF (~4 s)."""
    from transformers import AutoTokenizer

    if folder:
        return AutoTokenizer.from_pretrained(folder)
    from prover.serving.embedded_model import embedded_model_dir, find_embedded_gguf, is_converted

    cached = embedded_model_dir()
    if is_converted(cached):
        return AutoTokenizer.from_pretrained(cached)
    gguf = find_embedded_gguf()
    return AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)


def prepare_model(choice: str | None, workdir: Path, tokenizer_folder: str | None = None, shape: str = "smollm2",
                  device: str = "cpu") -> Path:
    if choice == "embedded":
        from prover.serving.embedded_model import ensure_embedded_model

        return ensure_embedded_model()
    if choice:
        return Path(choice)
    import torch

    from prover.serving.tiny_model import SHAPES, random_llama_like

    folder = workdir / f"random-{shape}-shape"
    tokenizer = smollm2_tokenizer(tokenizer_folder)
    model = random_llama_like(SHAPES[shape], seed=0, device=device).to(torch.bfloat16)
    model.save_pretrained(folder)
    del model
    tokenizer.save_pretrained(folder)
    return folder


def start_server(model: Path, dtype: str | None, threads: int, device: str, engine: str,
                 quantize: str | None = None) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "prover.serving", "--model", str(model), "--port", "0", "--threads", str(threads),
         "--seed", "0", "--device", device, "--engine", engine, *(["--dtype", dtype] if dtype else []),
         *(["--quantize", quantize] if quantize else [])],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if "ready on http://" in line and not url:
                url.append(line.split("ready on ", 1)[1].strip())
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    ready.wait(300)
    if not url:
        process.kill()
        raise SystemExit("the server did not start")
    return process, url[0]


def server_info(url: str) -> dict:
    import httpx

    return httpx.get(f"{url}/model_info", timeout=60).json()


def prompts_for(concurrency: int, distinct: bool) -> list[str]:
    if not distinct:
        return [PROMPT] * concurrency
    return [PROMPT.replace("x : ℝ\nh₀ : 0 < x\n⊢ x ^ 2 ≥ 0", OTHER_STATES[i % len(OTHER_STATES)] + f" -- {i}")
            if i else PROMPT for i in range(concurrency)]


async def server_generate(url: str, prompts: list[str], new_tokens: int) -> tuple[float, int]:
    import httpx

    def body(prompt: str) -> dict:
        return {
            "text": prompt,
            "sampling_params": {"max_new_tokens": new_tokens, "temperature": 0.8, "top_p": 0.95, "ignore_eos": True},
            "return_logprob": True,
        }

    async with httpx.AsyncClient(base_url=url, timeout=600) as http:
        start = time.perf_counter()
        replies = await asyncio.gather(*[http.post("/generate", json=body(p)) for p in prompts])
        elapsed = time.perf_counter() - start
    tokens = 0
    for reply in replies:
        reply.raise_for_status()
        tokens += reply.json()["meta_info"]["completion_tokens"]
    return elapsed, tokens


def _synchronize(model) -> None:
    import torch

    if model.device.type == "cuda":
        torch.cuda.synchronize()


def direct_generate(model, tokenizer, prompts: list[str], new_tokens: int) -> tuple[float, int]:
    import torch

    tokenizer.padding_side = "left"
    encoded = tokenizer(prompts, return_tensors="pt", padding=True).to(model.device)
    ids = encoded["input_ids"]
    start = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(
            ids, attention_mask=encoded["attention_mask"], do_sample=True, temperature=0.8, top_p=0.95, top_k=0,
            max_new_tokens=new_tokens, min_new_tokens=new_tokens, output_scores=True,
            return_dict_in_generate=True, pad_token_id=tokenizer.eos_token_id,
        )  # fmt: skip
        model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
    _synchronize(model)
    elapsed = time.perf_counter() - start
    return elapsed, (out.sequences.shape[1] - ids.shape[1]) * len(prompts)


async def server_encode(url: str, texts: list[str], *, one_request: bool = False) -> float:
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=600) as http:
        start = time.perf_counter()
        if one_request:
            replies = [await http.post("/encode", json={"text": texts})]
        else:
            replies = await asyncio.gather(*[http.post("/encode", json={"text": t}) for t in texts])
        elapsed = time.perf_counter() - start
    for reply in replies:
        reply.raise_for_status()
    return elapsed


def direct_encode(model, tokenizer, texts: list[str]) -> float:
    """One plain forward of all `texts`, right-padded, and the masked mean pool."""
    import torch

    tokenizer.padding_side = "right"
    start = time.perf_counter()
    encoded = tokenizer(texts, padding=True, return_tensors="pt").to(model.device)
    with torch.inference_mode():
        hidden = model.model(**encoded).last_hidden_state
    mask = encoded["attention_mask"].unsqueeze(-1).float()
    (hidden.float() * mask).sum(1) / mask.sum(1)
    _synchronize(model)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="'embedded', a model folder, or nothing for a random SmolLM2-shaped Llama")
    parser.add_argument("--dtype", choices=["bf16", "fp32"], help="the server's dtype (default: its own choice)")
    parser.add_argument("--engine", choices=["auto", "llamacpp", "fused", "transformers"], default="auto")
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--encode-texts", type=int, default=64)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs per workload; the best counts")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--tokenizer", help="tokenizer folder for the random model (default: SmolLM2's)")
    parser.add_argument("--shape", choices=["smollm2", "prover7b"], default="smollm2",
                        help="the random model's shape: SmolLM2-135M's or DeepSeek-Prover-V2-7B's (GPU)")
    parser.add_argument("--baseline-dtype", choices=["bf16", "fp32"],
                        help="the plain transformers baseline's dtype (default fp32 on a CPU, bf16 on a GPU)")
    parser.add_argument("--quantize", choices=["nf4"], help="serve the backbone in nf4 (CUDA, bitsandbytes)")
    parser.add_argument("--no-baseline", action="store_true", help="server only (e.g. nf4 memory)")
    args = parser.parse_args()

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    print(machine_description(), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as workdir:
        model_dir = prepare_model(args.model, Path(workdir), args.tokenizer, args.shape, device)
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        # The baseline: plain transformers (its defaults: SDPA attention, dynamic KV cache), in float32 on a CPU
        # and bf16 on a GPU, what a user would write there.
        baseline_dtype = args.baseline_dtype or ("bf16" if device.startswith("cuda") else "fp32")
        torch_dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[baseline_dtype]
        with torch.device("meta"):  # the parameter count without loading anything
            params = sum(p.numel() for p in AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(model_dir)).parameters())
        model = None if args.no_baseline else AutoModelForCausalLM.from_pretrained(
            model_dir, dtype=torch_dtype).eval().to(device)
        texts = proof_states(args.encode_texts, tokenizer)
        lengths = [len(ids) for ids in tokenizer(texts)["input_ids"]]

        process, url = start_server(model_dir, args.dtype, args.threads, device, args.engine, args.quantize)
        try:
            info = server_info(url)
            name = args.model or f"random Llama, {'SmolLM2-135M' if args.shape == 'smollm2' else 'DeepSeek-Prover-V2-7B'} shape"
            print(
                f"model: {name} ({params / 1e6:.1f}M params); server: {info['dtype']} ({info['dtype_reason']}), "
                f"engine {info['engine']}, quantization {info.get('quantization')}; baseline: transformers "
                f"{'none' if args.no_baseline else baseline_dtype}; "
                f"prompt {len(tokenizer(PROMPT)['input_ids'])} tokens, {args.new_tokens} new tokens, sampling T=0.8 "
                f"top_p=0.95, best of {args.repeats}",
                flush=True,
            )
            asyncio.run(server_generate(url, [PROMPT], 2))  # warm-ups
            baseline = model is not None
            if baseline:
                direct_generate(model, tokenizer, [PROMPT], 2)
            print(f"{'workload':<56}{'server':>10}{'baseline':>10}{'ratio':>8}", flush=True)
            for c, distinct in [(c, False) for c in args.concurrency] + [(max(args.concurrency), True)]:
                prompts = prompts_for(c, distinct)
                server_rate = direct_rate = 0.0
                # Alternating runs, best of `repeats`: on a shared machine the slowest runs measure the neighbours.
                for _ in range(args.repeats):
                    seconds, tokens = asyncio.run(server_generate(url, prompts, args.new_tokens))
                    server_rate = max(server_rate, tokens / seconds)
                    if baseline:
                        seconds, tokens = direct_generate(model, tokenizer, prompts, args.new_tokens)
                        direct_rate = max(direct_rate, tokens / seconds)
                label = f"/generate {c} request{'s' if c > 1 else ''} x {args.new_tokens} tok" + (
                    ", distinct prompts" if distinct else (", one prompt" if c > 1 else "")
                )
                print(_row(label + " (tok/s)", server_rate, direct_rate), flush=True)
            asyncio.run(server_encode(url, texts[:2]))
            if baseline:
                direct_encode(model, tokenizer, texts[:2])
            server_encode_s = server_list_s = direct_encode_s = float("inf")
            for _ in range(args.repeats):
                server_list_s = min(server_list_s, asyncio.run(server_encode(url, texts, one_request=True)))
                server_encode_s = min(server_encode_s, asyncio.run(server_encode(url, texts)))
                if baseline:
                    direct_encode_s = min(direct_encode_s, direct_encode(model, tokenizer, texts))
            memory = server_info(url).get("memory", {})
        finally:
            process.terminate()
            process.wait(30)

    direct_rate = len(texts) / direct_encode_s
    for label, seconds in ((f"/encode {len(texts)} states, one request", server_list_s),
                           (f"/encode {len(texts)} states, {len(texts)} requests", server_encode_s)):
        print(_row(label + " (texts/s)", len(texts) / seconds, direct_rate))
    print("server peak memory: " + ", ".join(f"{k} {v:.0f}" for k, v in memory.items()))
    print(
        f"(/encode: proof states of {min(lengths)}-{max(lengths)} tokens (mean {sum(lengths) / len(lengths):.0f}) "
        f"from the bundled tactic pairs; baseline: one {baseline_dtype} forward of all of them, padded to the longest. "
        f"/generate baseline: one transformers {baseline_dtype} generate of the same prompts as a batch.)"
    )


def _row(label: str, server: float, baseline: float) -> str:
    if not baseline:
        return f"{label:<56}{server:>10.1f}{'-':>10}{'-':>8}"
    return f"{label:<56}{server:>10.1f}{baseline:>10.1f}{server / baseline:>8.2f}"

if __name__ == "__main__":
    main()
