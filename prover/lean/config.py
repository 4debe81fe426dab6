"""`LeanConfig`: everything that decides how Lean workers are started, limited and recycled.

The command that starts a worker is configuration, not code: the default runs the `minilean`
stand-in with this interpreter, `LeanConfig.pantograph(...)` runs a real `pantograph-repl` with Mathlib.
Both speak the same protocol and go through the same worker and pool.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prover.lean.errors import ConfigError


def default_worker_count() -> int:
    """`min(16, 0.75 * cpus)`, at least 1: each Mathlib REPL holds 6–7 GB and a core (BurnQED's cap,
    docs/lean.md#workers)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(16, int(cpus * 0.75)))


def _minilean_program() -> tuple[str, ...]:
    return (sys.executable, "-m", "minilean")


@dataclass(frozen=True)
class LeanConfig:
    """How to run Lean REPL workers. Sizes in MiB, times in seconds unless the name says otherwise."""

    # The program (`--version` is appended to it alone for the version query) and its arguments.
    program: tuple[str, ...] = field(default_factory=_minilean_program)
    args: tuple[str, ...] = ()
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)  # added to os.environ for the child
    backend: str = "minilean"  # label shown with every result: minilean results are not Lean results

    num_workers: int = field(default_factory=default_worker_count)
    ready_timeout_s: float = 60.0
    request_timeout_s: float = 30.0
    check_timeout_s: float = 120.0  # a whole-proof check elaborates everything at once
    queue_timeout_s: float = 600.0  # longest a proof waits for a free worker
    close_grace_s: float = 2.0  # after EOF on stdin, how long a worker may take to exit before SIGKILL
    # Processes importing at once: each Mathlib import reads gigabytes of .olean files, and a pool
    # restarting all of them together stalls the machine's I/O.
    spawn_concurrency: int = 4

    max_requests: int = 1000
    max_lifetime_s: float = 1800.0
    memory_cap_mb: float | None = 4096.0  # RSS of the worker's process tree; passing it recycles
    memory_check_interval_s: float = 1.0  # RSS is sampled at most this often during a proof

    # Hard limits set in the child before exec. None leaves the inherited limit.
    address_space_mb: int | None = 16384
    cpu_time_limit_s: int | None = 7200
    # PR_SET_PDEATHSIG: a crashed prover leaves no orphan REPLs. Linux ties it to the *thread* that
    # spawned the child, so run the pool's event loop in a thread that lives as long as the pool.
    kill_with_parent: bool = True

    repl_options: Mapping[str, Any] = field(default_factory=dict)  # sent once with `options.set` after start
    preamble: str | None = None  # e.g. "open Real Nat Topology", run with frontend.process (inheritEnv)
    check_in_fresh_process: bool = True  # whole-proof check restarts its worker first
    stderr_lines: int = 200  # how many stderr lines each worker keeps for the log

    lean_version: str | None = None  # declared versions, used when the REPL cannot tell them itself
    mathlib_version: str | None = None

    def __post_init__(self) -> None:
        if not self.program or not all(isinstance(part, str) and part for part in self.program):
            raise ConfigError(f"LeanConfig.program must be a non-empty list of strings, got {self.program!r}")
        object.__setattr__(self, "program", tuple(self.program))
        object.__setattr__(self, "args", tuple(self.args))
        if any(not isinstance(a, str) for a in self.args):
            raise ConfigError(f"LeanConfig.args must be strings, got {self.args!r}")
        if not isinstance(self.num_workers, int) or self.num_workers < 1:
            raise ConfigError(f"LeanConfig.num_workers must be a positive integer, got {self.num_workers!r}")
        for name in ("ready_timeout_s", "request_timeout_s", "check_timeout_s", "queue_timeout_s", "max_lifetime_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value <= 0:
                raise ConfigError(f"LeanConfig.{name} must be a positive number of seconds, got {value!r}")
        if not isinstance(self.spawn_concurrency, int) or self.spawn_concurrency < 1:
            raise ConfigError(f"LeanConfig.spawn_concurrency must be a positive integer, got {self.spawn_concurrency!r}")
        if not isinstance(self.max_requests, int) or self.max_requests < 1:
            raise ConfigError(f"LeanConfig.max_requests must be a positive integer, got {self.max_requests!r}")
        if self.memory_cap_mb is not None and self.memory_cap_mb <= 0:
            raise ConfigError(f"LeanConfig.memory_cap_mb must be positive or None, got {self.memory_cap_mb!r}")
        if self.memory_check_interval_s < 0 or self.close_grace_s < 0:
            raise ConfigError("LeanConfig.memory_check_interval_s and close_grace_s must not be negative")
        for name in ("address_space_mb", "cpu_time_limit_s"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise ConfigError(f"LeanConfig.{name} must be a positive integer or None, got {value!r}")
        if self.stderr_lines < 1:
            raise ConfigError(f"LeanConfig.stderr_lines must be at least 1, got {self.stderr_lines!r}")

    @property
    def command(self) -> list[str]:
        return [*self.program, *self.args]

    @property
    def version_command(self) -> list[str]:
        # Pantograph prints its version only when `--version` is the sole argument.
        return [*self.program, "--version"]

    def replace(self, **changes: Any) -> LeanConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready settings, stored with a run so it can be reproduced."""
        data = dataclasses.asdict(self)
        data["program"], data["args"] = list(self.program), list(self.args)
        data["env"], data["repl_options"] = dict(self.env), dict(self.repl_options)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "lean config") -> LeanConfig:
        """Build from stored or user-given settings; an unknown key is an error, never silently ignored."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where}: expected a mapping of settings, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        try:
            return cls(**dict(data))
        except TypeError as exc:
            raise ConfigError(f"{where}: {exc}") from exc

    @classmethod
    def minilean(cls, *, theorems_file: str | None = None, extra_args: Sequence[str] = (), **overrides: Any) -> LeanConfig:
        """The stand-in verifier, run with this interpreter (the default configuration)."""
        args = [*(["--theorems", theorems_file] if theorems_file else []), *extra_args]
        return cls(args=tuple(args), **overrides)

    @classmethod
    def pantograph(
        cls,
        *,
        repl: Sequence[str] = ("pantograph-repl",),
        imports: Sequence[str] = ("Init", "Mathlib"),
        max_heartbeats: int = 200_000,
        lean_path: str | None = None,
        **overrides: Any,
    ) -> LeanConfig:
        """A real Pantograph REPL with Mathlib: slow start, 6–7 GB each, so generous limits."""
        env = dict(overrides.pop("env", {}))
        if lean_path:
            env["LEAN_PATH"] = lean_path
        settings: dict[str, Any] = {
            "backend": "pantograph",
            "ready_timeout_s": 180.0,
            "memory_cap_mb": 12_288.0,
            "address_space_mb": None,  # Lean maps the Mathlib oleans: virtual size is far above RSS
            "repl_options": {"timeout": 25_000},  # Lean's cooperative timeout, under the 30 s watchdog
            "preamble": "open Real Nat Topology",
        }
        settings.update(overrides)
        args = (*imports, f"--maxHeartbeats={max_heartbeats}", "--maxRecDepth=100000")
        return cls(program=tuple(repl), args=args, env=env, **settings)
