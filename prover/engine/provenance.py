"""What code produced a result: versions of every package and the git commit, recorded with every run,
checkpoint and result file so that results stay comparable. No Django."""

import importlib.metadata
import platform
import subprocess
from functools import cache
from pathlib import Path

PACKAGES = ("burnqed-web", "django", "celery", "channels", "torch", "transformers", "peft", "z3-solver", "sympy")


@cache
def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "git_commit": git_commit()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = ""
    return versions
