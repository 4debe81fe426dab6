"""Which Lean, Mathlib and Pantograph a pool runs, and refusing datasets written for another Lean.

Pantograph answers `<repl> --version` with its own version only (`0.3.4`); the Lean toolchain follows
from the release (each tag pins one toolchain), and Mathlib's version is whatever the deployment
built against, so production declares it in `LeanConfig`. A stand-in such as minilean may say more
on the same line (`lean 4.x`, `mathlib ...`); whatever the line names is used, and declared values in
the config win over everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
from dataclasses import asdict, dataclass

from prover.lean.config import LeanConfig
from prover.lean.errors import ReplStartError, VersionMismatchError

# Lean toolchain pinned by each Pantograph release (docs/lean.md#versions).
PANTOGRAPH_LEAN_TOOLCHAINS = {
    "0.2.25": "4.15.0",
    "0.3.0": "4.18.0",
    "0.3.1": "4.18.0",
    "0.3.2": "4.20.1",
    "0.3.3": "4.20.1",
    "0.3.4": "4.21.0",
}

_VERSION = r"v?(\d+\.\d+(?:\.\d+)?(?:-rc\d+)?|nightly-\d{4}-\d{2}-\d{2})"


@dataclass(frozen=True)
class LeanVersions:
    backend: str
    lean: str | None
    mathlib: str | None
    pantograph: str | None
    raw: str = ""

    @property
    def is_lean(self) -> bool:
        """False for the minilean stand-in, which models Lean but is no Lean release."""
        return self.backend != "minilean"

    def as_dict(self) -> dict[str, str | None]:
        return {k: v for k, v in asdict(self).items() if k != "raw"}


def parse_version_output(text: str, *, backend: str) -> LeanVersions:
    """Read the versions a `--version` line names; a bare number is the Pantograph version."""
    text = text.strip()
    found: dict[str, str | None] = {"lean": None, "mathlib": None, "pantograph": None}
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in found:
            if data.get(key) is not None:
                found[key] = str(data[key])
    else:
        for key in found:
            match = re.search(rf"\b{key}\b[\s:=]*{_VERSION}", text, re.IGNORECASE)
            if match:
                found[key] = match.group(1)
        if not any(found.values()):
            bare = re.fullmatch(_VERSION, text)
            if bare:
                found["pantograph"] = bare.group(1)
    # Only a real Pantograph implies a toolchain; a stand-in that speaks protocol 0.3.4 is not Lean 4.21.
    if backend == "pantograph" and found["lean"] is None and found["pantograph"] in PANTOGRAPH_LEAN_TOOLCHAINS:
        found["lean"] = PANTOGRAPH_LEAN_TOOLCHAINS[found["pantograph"]]  # type: ignore[index]
    return LeanVersions(backend=backend, raw=text, **found)


async def query_versions(config: LeanConfig, *, timeout_s: float = 60.0) -> LeanVersions:
    """Run `<program> --version` (reaped on every path) and combine it with the declared versions."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *config.version_command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=config.cwd,
            env=None if not config.env else {**os.environ, **config.env},
            start_new_session=True,
        )
    except OSError as exc:
        raise ReplStartError(f"cannot run {config.version_command!r}: {exc}") from exc
    try:
        async with asyncio.timeout(timeout_s):
            out, err = await proc.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: the whole group goes
        await proc.wait()
        raise
    if proc.returncode != 0:
        raise ReplStartError(
            f"{config.version_command!r} exited with code {proc.returncode}: {err.decode(errors='replace')[-500:]}"
        )
    versions = parse_version_output(out.decode("utf-8", "replace"), backend=config.backend)
    return LeanVersions(
        backend=versions.backend,
        lean=config.lean_version or versions.lean,
        mathlib=config.mathlib_version or versions.mathlib,
        pantograph=versions.pantograph,
        raw=versions.raw,
    )


_UNDECLARED = re.compile(r"\s*(not stated|unknown|none|n/a)\b", re.IGNORECASE)
_DECLARED = re.compile(rf"\s*(?:leanprover/lean4:)?{_VERSION}")


def normalise_lean_version(version: str) -> str | None:
    """The toolchain a version text names: `leanprover/lean4:v4.9.0`, `v4.9.0 (Mathlib ...)` → `4.9.0`.

    None when the text says the version is not known. Raises `VersionMismatchError` when it cannot be read.
    """
    if _UNDECLARED.match(version):
        return None
    match = _DECLARED.match(version)
    if not match:
        raise VersionMismatchError(f"cannot read a Lean version from {version!r}")
    return match.group(1)


def versions_match(declared: str, running: str) -> bool:
    """A dataset that says `v4.9` accepts any 4.9.x; a full version must match exactly."""
    a, b = normalise_lean_version(declared), normalise_lean_version(running)
    if a is None or b is None:
        return False
    if a == b:
        return True
    a_parts, b_parts = a.split("."), b.split(".")
    return len(a_parts) == 2 and b_parts[:2] == a_parts


def require_compatible_lean(
    dataset_lean_version: str | None, versions: LeanVersions, *, dataset: str = "dataset", allow_mismatch: bool = False
) -> None:
    """Refuse to run `dataset` on a pool whose Lean differs from the one it was written for.

    Statements and proofs depend on Mathlib names of their release, so results across versions are not
    comparable. `allow_mismatch=True` is the explicit override. A dataset that declares nothing passes, and
    so does a stand-in backend (minilean), which claims no Lean version and labels its results as its own.
    """
    if not versions.is_lean:
        return
    if allow_mismatch or not dataset_lean_version or normalise_lean_version(dataset_lean_version) is None:
        return
    if versions.lean is None:
        raise VersionMismatchError(
            f"{dataset} declares Lean {dataset_lean_version}, but the {versions.backend} pool does not report its "
            f"Lean version (version output: {versions.raw!r}); set LeanConfig.lean_version or pass the override "
            f"to run anyway"
        )
    if not versions_match(dataset_lean_version, versions.lean):
        raise VersionMismatchError(
            f"{dataset} declares Lean {dataset_lean_version}, but the {versions.backend} pool runs Lean "
            f"{versions.lean}; statements may not elaborate the same way. Use a matching pool or pass the "
            f"override (allow_mismatch) to run anyway"
        )
