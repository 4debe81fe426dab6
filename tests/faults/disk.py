"""A small disk for a test to fill: a tmpfs of a few hundred KB mounted on a folder (needs root, which CI and
this machine's tests have; elsewhere the tests that need one skip, saying why)."""

import contextlib
import errno
import subprocess
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_disk(where: Path, size_kb: int):
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def fill(disk: Path) -> None:
    """Write a filler file until the disk is full (unbuffered: nothing is left to fail at close)."""
    with open(disk / "filler", "wb", buffering=0) as out:
        while True:
            try:
                out.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
        while True:  # the last few bytes of the last page
            try:
                out.write(b"\0" * 64)
            except OSError:
                return
