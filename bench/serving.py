"""Benchmark prover.serving: /generate tokens/s at 1, 8 and 32 concurrent requests and /encode texts/s,
each against calling the same model directly in this process with the same batch and lengths.

    python bench/serving.py                      # random Llama of SmolLM2-135M's shape (no download), ~1 min
    python bench/serving.py --model embedded     # the real embedded SmolLM2-135M (converted once, cached)
    python bench/serving.py --model PATH         # any transformers folder

The server runs as a subprocess; while it is measured, this process is idle, and vice versa.
The baseline for /generate is transformers' `generate` (sampling with the same temperature and top_p and
top_k off, as the server's requests have it, not transformers' default top_k=50; the same number of new
tokens forced with min_new_tokens); for /encode it is the masked mean pool over the same texts in sub-batches of the server's
encode batch size. Ratio = server / direct: 1.0 means the HTTP server costs nothing.
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
ENCODE_TEXT = "n : ℕ\nh₀ : 0 < n\nh₁ : n ∣ 12\n⊢ ∀ m : ℕ, m * n ≤ 12 * m ∧ ¬(n = 0) → ⟨m, n⟩ ≠ ⟨0, 0⟩\n"


def machine_description() -> str:
    import torch

    from bench._machine import machine_line

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    load = ", load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    return f"{machine_line()}; torch {torch.__version__} ({torch.get_num_threads()} threads); GPU: {gpu}{load}"


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


def prepare_model(choice: str | None, workdir: Path, tokenizer_folder: str | None = None) -> Path:
    if choice == "embedded":
        from prover.serving.embedded_model import ensure_embedded_model

        return ensure_embedded_model()
    if choice:
        return Path(choice)
    import torch

    from prover.serving.tiny_model import random_llama_like

    folder = workdir / "random-smollm2-shape"
    tokenizer = smollm2_tokenizer(tokenizer_folder)
    random_llama_like(seed=0).to(torch.bfloat16).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def start_server(model: Path, dtype: str, threads: int, device: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "prover.serving", "--model", str(model), "--dtype", dtype, "--port", "0",
         "--threads", str(threads), "--seed", "0", "--device", device],
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


def server_stats(url: str) -> dict:
    import httpx

    return httpx.get(f"{url}/model_info", timeout=60).json()["stats"]


async def server_generate(url: str, concurrency: int, new_tokens: int) -> tuple[float, int]:
    import httpx

    body = {
        "text": PROMPT,
        "sampling_params": {"max_new_tokens": new_tokens, "temperature": 0.8, "top_p": 0.95, "ignore_eos": True},
        "return_logprob": True,
    }
    async with httpx.AsyncClient(base_url=url, timeout=600) as http:
        start = time.perf_counter()
        replies = await asyncio.gather(*[http.post("/generate", json=body) for _ in range(concurrency)])
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


def direct_generate(model, tokenizer, concurrency: int, new_tokens: int) -> tuple[float, int]:
    import torch

    ids = torch.tensor([tokenizer(PROMPT)["input_ids"]] * concurrency, device=model.device)
    start = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(
            ids, attention_mask=torch.ones_like(ids), do_sample=True, temperature=0.8, top_p=0.95, top_k=0,
            max_new_tokens=new_tokens, min_new_tokens=new_tokens, output_scores=True,
            return_dict_in_generate=True, pad_token_id=tokenizer.eos_token_id,
        )  # fmt: skip
        model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
    _synchronize(model)
    elapsed = time.perf_counter() - start
    return elapsed, (out.sequences.shape[1] - ids.shape[1]) * concurrency


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


def direct_encode(model, tokenizer, texts: list[str], batch: int) -> float:
    import torch

    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        encoded = tokenizer(texts[i : i + batch], padding=True, return_tensors="pt").to(model.device)
        with torch.inference_mode():
            hidden = model.model(**encoded).last_hidden_state
        mask = encoded["attention_mask"].unsqueeze(-1).float()
        (hidden.float() * mask).sum(1) / mask.sum(1)
    _synchronize(model)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="'embedded', a model folder, or nothing for a random SmolLM2-shaped Llama")
    parser.add_argument("--dtype", choices=["bf16", "fp32"], default="bf16")
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--encode-texts", type=int, default=16)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs per workload; the best counts")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--tokenizer", help="tokenizer folder for the random model (default: SmolLM2's)")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    print(machine_description())
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as workdir:
        model_dir = prepare_model(args.model, Path(workdir), args.tokenizer)
        dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[args.dtype]
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "right"
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype).eval().to(device)
        params = sum(p.numel() for p in model.parameters())
        print(
            f"model: {args.model or 'random Llama, SmolLM2-135M shape'} ({params / 1e6:.1f}M params, {args.dtype}); "
            f"prompt {len(tokenizer(PROMPT)['input_ids'])} tokens, {args.new_tokens} new tokens, sampling T=0.8 top_p=0.95, best of {args.repeats}"
        )
        texts = [f"{i}: {ENCODE_TEXT}" for i in range(args.encode_texts)]
        encode_tokens = sum(len(ids) for ids in tokenizer(texts)["input_ids"])

        process, url = start_server(model_dir, args.dtype, args.threads, device)
        try:
            # Server and direct runs alternate per workload, so load from other processes on a shared
            # machine hits both sides alike; the other side is idle while one is measured.
            asyncio.run(server_generate(url, 1, 2))  # warm-ups
            direct_generate(model, tokenizer, 1, 2)
            # Best of `repeats` alternating runs: on a shared machine the slowest runs measure the neighbours.
            server_results: dict[int, tuple[float, int]] = {}
            direct_results: dict[int, tuple[float, int]] = {}
            admissions: dict[int, int] = {}
            for c in args.concurrency:
                before = server_stats(url)
                for _ in range(args.repeats):
                    run = asyncio.run(server_generate(url, c, args.new_tokens))
                    server_results[c] = min(server_results.get(c, run), run)
                    run = direct_generate(model, tokenizer, c, args.new_tokens)
                    direct_results[c] = min(direct_results.get(c, run), run)
                admissions[c] = server_stats(url)["generate_batches"] - before["generate_batches"]
            asyncio.run(server_encode(url, texts[:2]))
            direct_encode(model, tokenizer, texts[:2], 8)
            server_encode_s = server_list_s = direct_encode_s = float("inf")
            before = server_stats(url)
            for _ in range(args.repeats):
                server_encode_s = min(server_encode_s, asyncio.run(server_encode(url, texts)))
                server_list_s = min(server_list_s, asyncio.run(server_encode(url, texts, one_request=True)))
                direct_encode_s = min(direct_encode_s, direct_encode(model, tokenizer, texts, 8))
            encode_forwards = server_stats(url)["encode_forward_passes"] - before["encode_forward_passes"]
            encode_forwards -= args.repeats * -(-len(texts) // 8)  # the one-request runs' share
        finally:
            process.terminate()
            process.wait(30)

    print(f"{'workload':<34}{'server':>14}{'direct':>14}{'ratio':>8}")
    for c in args.concurrency:
        (s_time, s_tokens), (d_time, d_tokens) = server_results[c], direct_results[c]
        server_rate, direct_rate = s_tokens / s_time, d_tokens / d_time
        label = f"/generate x{c} concurrent (tok/s)"
        print(
            f"{label:<34}{server_rate:>14.1f}{direct_rate:>14.1f}{server_rate / direct_rate:>8.2f}"
            f"   (server admitted the rows in {admissions[c] / args.repeats:.1f} groups per run)"
        )
    server_rate, direct_rate = len(texts) / server_encode_s, len(texts) / direct_encode_s
    label = f"/encode {len(texts)} texts (texts/s)"
    print(
        f"{label:<34}{server_rate:>14.1f}{direct_rate:>14.1f}{server_rate / direct_rate:>8.2f}"
        f"   (server: {encode_forwards / args.repeats:.1f} forwards per run, direct: {-(-len(texts) // 8)})"
    )
    list_rate = len(texts) / server_list_s
    label = "/encode 1 request, all texts"
    print(f"{label:<34}{list_rate:>14.1f}{direct_rate:>14.1f}{list_rate / direct_rate:>8.2f}")
    print(
        f"(/encode: {len(texts)} concurrent single-text requests of {encode_tokens / len(texts):.0f} tokens, coalesced "
        "by the server into sub-batches of at most 8; direct: the same texts in batches of 8. /generate: continuous "
        "batching, so requests that arrive apart join the running batch a step or more late.)"
    )


if __name__ == "__main__":
    main()
