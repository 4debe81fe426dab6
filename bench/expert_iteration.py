"""Expert iteration on the embedded stack, with one command: N iterations of the chain (search, joint SFT + EBM
training (or `--policy-training sft`) on the harvested proofs plus seed SFT data, decoupled EBMs on the
trajectories, held-out evals LLM-only and LLM+EBM in configs A, B and C, embedding probes), through the
iterations app's services, then a report table and hybrid search against pass@N with the last policy.

    python bench/expert_iteration.py [--iterations 3] [--name embedded] [--ship]
    python bench/expert_iteration.py --tiny        # a tiny random model and three statements: a smoke test

Resumable: re-running the same command (same --name) continues the chain where it stopped: a running iteration
is advanced, a failed one resumed from its failed step, a finished one followed by the next. It starts what it
needs (embedded Redis unless REDIS_URL, a Celery worker unless --no-worker, the local policy + /encode server)
and imports data/embedded/ as two datasets. --ship copies the last iteration's adapter and EBM head to
data/embedded/model/, where the demo finds them.

Sizes (the defaults) are chosen so that 3 iterations fit a few hours on 2 CPU cores: 100 training theorems
searched at 8 nodes each, 60 held-out theorems evaluated at 8 nodes, 150 policy steps, 300 EBM steps, and
pass@8 of 128-token samples against hybrid search at the same tokens.
Memory: SFT of SmolLM2-135M in fp32 on CPU peaks around 2-3 GB (docs/sft-memory.md); the server ~1 GB.
Results are minilean results, not Lean results.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EMBEDDED = ROOT / "data/embedded"
sys.path.insert(0, str(ROOT))

FULL = {
    "train_limit": 100, "eval_limit": 60, "max_nodes": 8, "num_candidates": 4, "max_tactic_tokens": 48,
    "sft": {"max_steps": 150, "batch_size": 4, "grad_accum": 2, "learning_rate": 2e-4, "max_length": 512,
            "eval_every": 0, "log_every": 10},
    # Joint: the SFT settings above plus a small contrastive batch (each sample embeds 1 + K + 1 states); on a CPU
    # the loop checkpoints activations (about 4 GB and 24 s a step here: docs/joint-training.md).
    "joint": {"max_steps": 150, "batch_size": 4, "contrastive_batch_size": 4, "negatives": 3, "lr_lora": 2e-4,
              "max_length": 512, "embed_max_length": 256, "lora_r": 32, "lora_alpha": 64, "log_every": 10},
    "ebm": {"steps": 300, "batch_size": 16, "log_every": 10, "eval_every": 100},
    # Hybrid against pass@N on the held-out theorems with the last policy: N samples of this many tokens.
    "samples": 8, "sample_tokens": 128,
}
TINY = {
    "train_probes": ["constructor"],  # `constructor` then `linarith` twice: proof paths with states at depth >= 2
    "train_limit": 3, "eval_limit": 3, "max_nodes": 6, "num_candidates": 2, "max_tactic_tokens": 8,
    "sft": {"max_steps": 2, "batch_size": 2, "grad_accum": 1, "max_length": 512, "eval_every": 0, "log_every": 1,
            "lora_r": 4, "lora_alpha": 8},
    "joint": {"max_steps": 2, "batch_size": 2, "contrastive_batch_size": 2, "negatives": 1, "max_length": 512,
              "embed_max_length": 128, "lora_r": 4, "lora_alpha": 8, "log_every": 1, "temperature_check_every": 1},
    "ebm": {"steps": 2, "batch_size": 2, "log_every": 1, "eval_every": 1, "temperature_check_every": 1},
    "samples": 2, "sample_tokens": 8,
}
# Training statements the probe tactics prove (`intros`, then `linarith` or `constructor <;> linarith`): --tiny's search finds proofs even with a random policy.
TINY_TRAIN = ("algebra_absxm1pabsxpabsxp1eqxp2_0leqxleq1", "mathd_algebra_44", "mathd_algebra_400")
# The probe tactics help iteration 0 find first proofs on the training theorems; evaluations never use them.
TRAIN_PROBES = ["intros", "norm_num", "linarith", "nlinarith", "positivity", "omega"]


# Command-line option -> (section of the sizes, or "" for the top level; key; help).
SIZE_OPTIONS = {
    "train_limit": ("", "train_limit", "training theorems searched per iteration"),
    "eval_limit": ("", "eval_limit", "held-out theorems per evaluation"),
    "nodes": ("", "max_nodes", "node budget per theorem"),
    "sft_steps": ("sft", "max_steps", "SFT optimizer steps per iteration"),
    "ebm_steps": ("ebm", "steps", "EBM steps per EBM"),
    "samples": ("", "samples", "pass@N's N in the hybrid against pass@N comparison"),
}


def sizes(args: argparse.Namespace) -> dict:
    """The default sizes (FULL or TINY) with what the command line overrides."""
    chosen = copy.deepcopy(TINY if args.tiny else FULL)
    for option, (section, key, _) in SIZE_OPTIONS.items():
        if (value := getattr(args, option)) is not None:
            (chosen[section] if section else chosen)[key] = value
            if key == "max_steps":  # one count of policy steps, whichever loop trains the policy
                chosen["joint"][key] = value
    return chosen


def answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url + "/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "burnqed_web.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def import_benchmark(tiny: bool, train_limit: int, eval_limit: int) -> tuple[str, str]:
    """data/embedded/ as two datasets of a fixed sample each (seeded, so every run and every resume searches the
    same statements; a sample, not the first names, which would be all AIME and AMC); --tiny: three of each."""
    import random

    from prover.models import Dataset
    from prover.services import import_dataset

    names = []
    for part, file, limit in (("train", "train.json", train_limit), ("heldout", "heldout.json", eval_limit)):
        name = f"embedded-{part}-smoke" if tiny else f"embedded-{part}-sample{limit}"
        if not Dataset.objects.filter(name=name).exists():
            body = json.loads((EMBEDDED / file).read_text(encoding="utf-8"))
            theorems = sorted(body["theorems"], key=lambda t: t["name"])
            if tiny:  # training: three the probe tactics prove (so iteration 1 has positives); held out: short ones
                theorems = ([t for t in theorems if t["name"] in TINY_TRAIN] if part == "train" else
                            sorted((t for t in theorems if t["statement"].startswith("∀")),
                                   key=lambda t: (len(t["statement"]), t["name"]))[:3])
            else:
                theorems = random.Random(0).sample(theorems, min(limit, len(theorems)))
            body["theorems"] = sorted(theorems, key=lambda t: t["name"])
            import_dataset(name=name, text=json.dumps(body, ensure_ascii=False), format="benchmark-json")
        names.append(name)
    return names[0], names[1]


def seed_artifact(tiny: bool, var: Path) -> int:
    """The committed seed SFT data registered as an sft_data artifact (--tiny: its first 20 steps)."""
    from jobs.models import Artifact

    path = EMBEDDED / "seed_sft.jsonl"
    if tiny:
        path = var / "seed_sft_tiny.jsonl"
        lines = (EMBEDDED / "seed_sft.jsonl").read_text(encoding="utf-8").splitlines(True)
        path.write_text("".join(sorted(lines, key=len)[:20]), encoding="utf-8")  # the shortest: fit max_length
    artifact, _ = Artifact.objects.update_or_create(path=str(path), defaults={
        "kind": Artifact.Kind.SFT_DATA, "name": "embedded seed data (bundled proofs traced through minilean)",
        "meta": json.loads((EMBEDDED / "seed_report.json").read_text(encoding="utf-8"))})
    return artifact.pk


def start_server(model: Path | None, port: int, log: Path) -> subprocess.Popen:
    args = [sys.executable, "-m", "prover.serving", "--port", str(port), "--seed", "0", "--max-loras", "2"]
    if model is not None:
        args += ["--model", str(model), "--dtype", "fp32"]
    return subprocess.Popen(args, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)


def start_worker(log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "burnqed_web", "worker", "-Q", "gpu,cpu,default",
                             "--pool", "solo", "--loglevel", "INFO", "--hostname", f"expert-iteration-{os.getpid()}@%h",
                             "--without-heartbeat", "--without-gossip", "--without-mingle"],
                            cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)


def wait_for_health(url: str, children: list[subprocess.Popen], timeout_s: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise SystemExit(f"a helper process exited while waiting for {url}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout_s:.0f} s")


def iteration_config(sizes: dict, train: str, heldout: str, policy_url: str, model_path: str,
                     policy_training: str) -> dict:
    """Iteration 0's settings: the base model (no seed data, so no training), evaluated and searching the training
    theorems with probe tactics; `drive` adds seed SFT data from iteration 1 on. Config C (the jointly trained
    head) exists only when the policy trains jointly."""
    search = {"strategy": "best_first", "max_nodes": sizes["max_nodes"], "num_candidates": sizes["num_candidates"],
              "max_tactic_tokens": sizes["max_tactic_tokens"], "timeout_s": 120}
    return {
        "train_dataset": train, "eval_dataset": heldout, "policy_training": policy_training,
        "configs": ["A", "B", "C"] if policy_training == "joint" else ["A", "B"],
        "model_path": model_path, "seed_data": [],
        "search": search, "train_search": {**search, "probe_tactics": TRAIN_PROBES + sizes.get("train_probes", [])},
        # Two theorems at a time: their /generate requests share the server's decode batches.
        "run": {"policy_url": policy_url, "encoder_url": policy_url, "lean": "minilean", "lean_workers": 2,
                "concurrency": 2, "chunk_size": 50},
        "sft": sizes["sft"], "joint": sizes["joint"], "ebm": sizes["ebm"],
    }


def drive(name: str, iterations: int, config: dict, seed: int, poll_s: float) -> list:
    """Launch or continue the chain called `name` until `iterations` iterations are finished; the chain.
    Iteration 0 is the base model; every later one trains on what earlier ones found plus seed SFT data."""
    import io

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from iterations.models import Iteration
    from iterations.selectors import chain_of
    from iterations.services import advance_iteration, launch_iteration, resume_iteration
    from jobs.models import JobStatus

    # No password (it never logs in); its API token is not printed.
    call_command("create_role_user", "expert-iteration", role="researcher", stdout=io.StringIO())
    user = get_user_model().objects.get(username="expert-iteration")
    root = Iteration.objects.filter(name=name, parent=None).order_by("created_at").first()
    if root is None:
        root = launch_iteration(user=user, config={**config, "chain_length": 1}, name=name)
        print(f"launched iteration chain {root.pk} ({name!r})", flush=True)
    else:
        print(f"continuing iteration chain {root.pk} ({name!r})", flush=True)
    last_line, resumed = "", False
    while True:
        chain = chain_of(root)
        last = chain[-1]
        last.refresh_from_db()
        if last.status == JobStatus.SUCCEEDED:  # a failed probes step does not fail it (remeasure below)
            if len(chain) >= iterations:
                return chain
            if not last.children.exists():  # iteration 0 is a chain of one (no seed data): the rest follow it
                launch_iteration(user=user, config={**last.config, "seed_data": [seed], "chain_length": iterations},
                                 parent=last, name=f"{name} · {last.number + 1}")
            continue
        if last.status == JobStatus.FAILED:
            if resumed:  # once per invocation: a step that fails again needs a look, not a loop
                raise SystemExit(f"iteration {last.pk} failed again: {last.error}\n(re-run to resume it once more)")
            print(f"resuming iteration {last.pk} from its failed step: {last.error}", flush=True)
            resume_iteration(user=user, iteration=last)
            resumed = True
        elif last.status == JobStatus.CANCELLED:
            raise SystemExit(f"iteration {last.pk} was cancelled; launch a chain with another --name")
        advance_iteration(iteration_id=last.pk)  # idempotent: what the beat would do
        line = " ".join(f"{s.name}:{s.status}" for s in last.steps.order_by("position"))
        if line != last_line:
            print(f"[{time.strftime('%H:%M:%S')}] iteration {last.number}: {line}", flush=True)
            last_line = line
        time.sleep(poll_s)


def remeasure(chain: list, poll_s: float) -> None:
    """Take again the probes of iterations whose probe set could not be built at the time (the first searches
    prove little at depth >= 2): passes over the chain until one changes nothing."""
    from django.contrib.auth import get_user_model

    from iterations import plan as steps
    from iterations.services import advance_iteration, resume_iteration

    user = get_user_model().objects.get(username="expert-iteration")
    while True:
        retaken = False
        for iteration in chain:
            if not iteration.steps.filter(name=steps.PROBES, status="failed").exists():
                continue
            print(f"[{time.strftime('%H:%M:%S')}] iteration {iteration.number}: probes again", flush=True)
            resume_iteration(user=user, iteration=iteration)
            while advance_iteration(iteration_id=iteration.pk) == "running":
                time.sleep(poll_s)
            retaken |= iteration.steps.filter(name=steps.PROBES, status="done").exists()
        if not retaken:
            return


def _cell(figure) -> str:
    return figure.label or ("–" if figure.value is None else f"{figure.value:.3f}")


def report(chain: list) -> str:
    """The table: held-out proof rate per iteration (LLM-only, LLM+EBM best config, A, B), probe figures, and
    the wall time of every step."""
    from iterations.selectors import iteration_figures
    from iterations.targets import PROBE_METRICS

    header = ["iteration", "LLM-only", "LLM+EBM", "A", "B", "C", *PROBE_METRICS]
    rows = [header]
    for iteration in chain:
        figures = iteration_figures(iteration)
        rows.append([str(iteration.number), _cell(figures["llm"]),
                     _cell(figures["ebm"]) + (f" ({figures['ebm'].source})" if figures["ebm"].source else ""),
                     *(_cell(figures[config]) for config in "ABC"), *(_cell(figures[key]) for key in PROBE_METRICS)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append("")
    lines.append("wall time per step (s):")
    for iteration in chain:
        parts = []
        for step in iteration.steps.order_by("position"):
            wall = (step.finished_at - step.started_at).total_seconds() if step.started_at and step.finished_at else None
            parts.append(f"{step.name} {wall:.0f}" if wall is not None else f"{step.name} {step.status}")
        lines.append(f"  iteration {iteration.number}: " + ", ".join(parts))
    return "\n".join(lines)


def strategy_searches(sizes: dict) -> dict[str, dict]:
    """Hybrid search and pass@N with the same generated-token allowance per theorem: pass@N draws N samples
    of `sample_tokens` from the root; hybrid spends at most as much (checked between rounds, so it may overrun
    by a round, which the equal-compute rule then leaves out: docs/comparison.md)."""
    n, tokens = sizes["samples"], sizes["sample_tokens"]
    return {
        "hybrid": {"strategy": "hybrid", "max_tokens": n * tokens, "num_proofs": max(1, n // 2),
                   "min_proofs": 1, "max_proof_tokens": tokens, "min_proof_tokens": max(1, tokens // 2),
                   "timeout_s": 120},
        "pass_at_n": {"strategy": "pass_at_n", "pass_n": n, "pass_max_tokens": tokens, "timeout_s": 120},
    }


def compare_strategies(chain: list, config: dict, sizes: dict, poll_s: float) -> str:
    """The last iteration's policy on the held-out theorems, probe tactics off: hybrid against pass@N, compared
    at equal generated tokens and at equal nodes by the project's one comparison rule. Resumable: a run of the
    same name that succeeded is reused."""
    from django.contrib.auth import get_user_model

    from iterations.launching import policy_of
    from prover.engine.comparison import format_comparison
    from prover.models import Run
    from prover.services import launch_run
    from prover.services.comparison import compare_runs

    user = get_user_model().objects.get(username="expert-iteration")
    last = chain[-1]
    adapter = policy_of(last)
    runs = {}
    for strategy, search in strategy_searches(sizes).items():
        name = f"{chain[0].name} · {strategy} with iteration {last.number}'s policy"
        run = Run.objects.filter(name=name, status="succeeded").first() or launch_run(user=user, name=name, config={
            **config["run"], "dataset": config["eval_dataset"], "search": search,
            "adapter": adapter.path if adapter else ""})
        while not run.finished:
            time.sleep(poll_s)
            run.refresh_from_db()
        if run.status != "succeeded":
            return f"hybrid against pass@N: the {strategy} run {run.pk} {run.status}: {run.error}"
        runs[strategy] = run
    hybrid, pass_at_n = runs["hybrid"], runs["pass_at_n"]
    n, tokens = sizes["samples"], sizes["sample_tokens"]
    lines = [f"hybrid against pass@{n} ({tokens} tokens a sample), iteration {last.number}'s policy, held-out, "
             f"probes off: hybrid {hybrid.theorems_proved}/{hybrid.theorems_total} with {hybrid.tokens} tokens, "
             f"pass@{n} {pass_at_n.theorems_proved}/{pass_at_n.theorems_total} with {pass_at_n.tokens} tokens",
             *("  " + line for line in format_comparison(compare_runs(hybrid, pass_at_n), ("hybrid", f"pass@{n}")))]
    return "\n".join(lines)


def policy_check(chain: list, problems: int) -> str:
    """The trained policy as a fuzzer of minilean: the tactics it applied most in its held-out evaluations
    (whole tactics, as it emitted them) join every script of a soundness search, whose every closed goal is
    checked without minilean (z3, or a grid)."""
    from collections import Counter

    from iterations import plan as steps
    from minilean.soundness import search
    from prover.models import ProofNode

    runs = [step.outputs["run"] for iteration in chain[1:] for step in iteration.steps.filter(status="done")
            if step.name in steps.EVALS and "run" in step.outputs]
    applied = ProofNode.objects.filter(run_id__in=runs).exclude(parent_node_id=None).exclude(kind="failed_tactic")
    counts = Counter(applied.values_list("tactic", flat=True))
    tactics = [tactic for tactic, _ in counts.most_common(20) if not tactic.startswith("intro")]
    if not tactics:
        return "policy check: the trained policies applied no tactic besides intro on held-out statements"
    report = search(problems, seed=0, scripts_per_problem=4, extra_scripts=tactics)
    shown = ", ".join(f"{t!r} x{counts[t]}" for t in tactics[:8])
    return (f"policy check: its {len(tactics)} most applied tactics (besides intro: {shown}) on every one of "
            f"{report.problems} random problems: {report.closed} goals closed, {report.proved_true} confirmed by "
            f"z3, {report.grid_only} by grid only, counterexamples: {len(report.counterexamples)}"
            + "".join(f"\n  COUNTEREXAMPLE {st} := by {sc} at {cx}" for st, sc, cx in report.counterexamples))


def ship(chain: list) -> None:
    """The last iteration's adapter and the better of its heads on its own embeddings (B, the decoupled EBM, or
    C, the joint one; B on a tie) into data/embedded/model/ (for the demo)."""
    from iterations import plan as steps
    from iterations.launching import _output, policy_of
    from iterations.selectors import iteration_figures

    last = chain[-1]
    figures = iteration_figures(last)
    heads = {"B": _output(last, steps.EBM_B, "head"), "C": _output(last, steps.TRAIN_POLICY, "head")}
    best = max((config for config in "BC" if heads[config] is not None),
               key=lambda config: (figures[config].value or 0.0, config == "B"), default="B")
    for folder, artifact in (("adapter", policy_of(last)), ("ebm", heads[best])):
        if artifact is None:
            print(f"nothing to ship as {folder}: the last iteration has none")
            continue
        target = EMBEDDED / "model" / folder
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(artifact.path, target)
        print(f"shipped {artifact.path} -> {target}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/expert_iteration.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--name", default="", help="the chain's name (default: embedded, or embedded-tiny)")
    parser.add_argument("--tiny", action="store_true", help="tiny random model, three statements: a smoke test")
    parser.add_argument("--no-worker", action="store_true", help="a Celery worker is already running")
    parser.add_argument("--policy-url", default="", help="a running policy + /encode server (else one is started)")
    parser.add_argument("--port", type=int, default=0, help="port of the server it starts (default 30090, tiny 30091)")
    parser.add_argument("--policy-training", choices=("joint", "sft"), default="joint",
                        help="joint: SFT + EBM through one LoRA (configs A, B and C); sft: LoRA SFT (A and B)")
    parser.add_argument("--ship", action="store_true", help="copy the final adapter and EBM to data/embedded/model/")
    parser.add_argument("--poll", type=float, default=2.0, help="seconds between advances")
    for option, (_, _, help) in SIZE_OPTIONS.items():
        parser.add_argument(f"--{option.replace('_', '-')}", type=int, default=None,
                            help=f"{help} (default: the sizes above)")
    args = parser.parse_args(argv)
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill still stops the helpers (finally below)
    setup_django()
    from django.conf import settings

    from burnqed_web import embedded_redis

    var = Path(settings.VAR_DIR) / "data" / "expert_iteration"  # under a data root: runs may read what it writes
    var.mkdir(parents=True, exist_ok=True)
    children: list[subprocess.Popen] = []
    started = time.monotonic()
    try:
        if (redis := embedded_redis.ensure_running_for_settings()) is not None:
            children.append(redis)
        model_dir: Path | None = None
        if args.tiny:
            from prover.serving.tiny_model import build_tiny_llama

            model_dir = var / "tiny-llama"
            if not (model_dir / "config.json").exists():
                build_tiny_llama(model_dir, seed=0)
        # A fixed port: the chain's stored run settings name this server, and a resumed chain finds it again.
        port = args.port or (30091 if args.tiny else 30090)
        policy_url = args.policy_url or f"http://127.0.0.1:{port}"
        if not args.policy_url and not answers(policy_url):
            children.append(start_server(model_dir, port, var / "server.log"))
        if not args.no_worker:
            children.append(start_worker(var / "worker.log"))
        chosen = sizes(args)
        train, heldout = import_benchmark(args.tiny, chosen["train_limit"], chosen["eval_limit"])
        seed = seed_artifact(args.tiny, var)
        wait_for_health(policy_url, children, timeout_s=900)
        if model_dir is None:
            from prover.serving.embedded_model import ensure_embedded_model

            model_dir = ensure_embedded_model()
        config = iteration_config(chosen, train, heldout, policy_url, str(model_dir), args.policy_training)
        name = args.name or ("embedded-tiny" if args.tiny else "embedded")
        chain = drive(name, args.iterations, config, seed, args.poll)
        remeasure(chain, args.poll)
        print()
        print(report(chain))
        print(compare_strategies(chain, config, chosen, args.poll))
        print(policy_check(chain, problems=10 if args.tiny else 100))
        print(f"\ntotal wall time of this invocation: {time.monotonic() - started:.0f} s (minilean results)")
        if args.ship:
            ship(chain)
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in reversed(children):
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
