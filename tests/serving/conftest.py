"""Fixtures for prover.serving: tiny random models on disk and real server subprocesses on free ports."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from prover.serving.tiny_model import build_tiny_llama

ROOT = Path(__file__).resolve().parents[2]
ENCODE_MAX_LENGTH = 96  # the main test server's /encode truncation, small enough to test cheaply
STARTUP_LIMIT_S = 180  # a hung start fails the fixture instead of hanging the suite; not a performance bound


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes tens of seconds (real SmolLM2 GGUF conversion); still run")


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen
    log: list[str]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120)

    def stats(self) -> dict:
        with self.client() as client:
            return client.get("/model_info").json()["stats"]


def start_server(model_dir: Path | None, *extra: str, env: dict | None = None) -> RunningServer:
    """Launch `python -m prover.serving` on port 0 and wait for its 'ready on' line (no model: the embedded one)."""
    model = ["--model", str(model_dir)] if model_dir is not None else []
    command = [sys.executable, "-m", "prover.serving", *model, "--port", "0", "--threads", "1", *extra]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log: list[str] = []
    ready = threading.Event()
    url: list[str] = []

    def read_output() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            log.append(line)
            if "ready on http://" in line and not url:
                url.append(line.split("ready on ", 1)[1].strip())
                ready.set()
        ready.set()

    threading.Thread(target=read_output, daemon=True).start()
    if not ready.wait(STARTUP_LIMIT_S) or not url:
        process.kill()
        raise RuntimeError("prover.serving did not start:\n" + "".join(log))
    return RunningServer(url=url[0], process=process, log=log)


def stop_server(server: RunningServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), seed=0)


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir: Path):
    """The same model loaded in this process, to recompute what the server returns independently."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype="float32").eval()
    return model, AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="session")
def server(tiny_model_dir: Path) -> Iterator[RunningServer]:
    # A long encode linger makes concurrent requests coalesce however the OS schedules them.
    running = start_server(
        tiny_model_dir, "--dtype", "fp32", "--seed", "0", "--encode-linger-ms", "100", "--max-length", str(ENCODE_MAX_LENGTH)
    )
    yield running
    stop_server(running)


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http
