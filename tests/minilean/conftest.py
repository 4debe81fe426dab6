"""Fixtures for the minilean tests: a real `python -m minilean` subprocess driven over pipes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


class Repl:
    """One minilean process: write a request line, read exactly one response line."""

    def __init__(self, *args: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "minilean", *args],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self.ready_line = self.proc.stdout.readline()

    def raw(self, line: str) -> str:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline()

    def send(self, cmd: str, payload: dict | None = None, envelope: bool = False) -> dict:
        if envelope:
            line = json.dumps({"cmd": cmd, "payload": payload}, ensure_ascii=False)
        else:
            line = f"{cmd} {json.dumps(payload if payload is not None else {}, ensure_ascii=False)}"
        out = self.raw(line)
        assert out, f"no response to {line!r}; stderr: {self.proc.stderr.read() if self.proc.poll() is not None else ''}"
        return json.loads(out)

    def close(self) -> int:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
        return self.proc.returncode


@pytest.fixture
def repl():
    made: list[Repl] = []

    def start(*args: str) -> Repl:
        r = Repl(*args)
        made.append(r)
        return r

    yield start
    for r in made:
        r.close()


@pytest.fixture(scope="module")
def shared_repl():
    r = Repl("--theorems", "data/benchmarks/minif2f_test.json")
    yield r
    r.close()
