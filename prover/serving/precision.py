"""Which floating-point type a model should run in on this device: bf16 only where the hardware computes it.

A CPU without bf16 instructions emulates bf16 matrix products by converting to float32 and back, which made
the server about half as fast as plain float32 on an AVX2-only EPYC (docs/precision.md). So:

- CUDA: bf16 when the GPU supports it (Ampere and later), else fp16 is not guessed: fp32.
- x86 CPU: bf16 when the CPU flags list `avx512_bf16` or `amx_bf16`, else fp32.
- Arm CPU: bf16 when the CPU features list `bf16`, else fp32.

An explicit choice (`--dtype`, a config's `dtype`) always wins; the reason is reported beside the dtype
(`/model_info`, training metadata) so that a run says why it ran in what it ran in.

    dtype, reason = choose_dtype(None, "cpu")     # ("fp32", "cpu without native bf16 (flags: avx2 ...)")
"""

from __future__ import annotations

import functools
import platform

DTYPES = ("bf16", "fp16", "fp32")
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")  # x86 flags; "bf16" is the Arm feature name


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (`flags` on x86, `Features` on Arm); empty if unreadable."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() in ("flags", "Features"):
                    return frozenset(value.split())
    except OSError:
        pass
    return frozenset()


def cpu_has_native_bf16(flags: frozenset[str] | set[str] | None = None) -> bool:
    flags = cpu_flags() if flags is None else flags
    return any(flag in flags for flag in BF16_CPU_FLAGS)


def cpu_description(flags: frozenset[str] | set[str] | None = None) -> str:
    """The vector extensions that matter for inference, e.g. 'avx2 avx512f avx512_bf16'."""
    flags = cpu_flags() if flags is None else flags
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8", "bf16", "asimd")
    present = [flag for flag in wanted if flag in flags]
    return " ".join(present) if present else f"{platform.machine()} without avx2/avx512/amx"


def choose_dtype(
    requested: str | None, device: str, *, flags: frozenset[str] | set[str] | None = None
) -> tuple[str, str]:
    """The dtype to run in on `device` and why: `requested` when given, else what the device does natively."""
    if requested is not None:
        if requested not in DTYPES:
            raise ValueError(f"dtype must be one of {list(DTYPES)} or None (automatic), got {requested!r}")
        return requested, "asked for explicitly"
    if device.startswith("cuda"):
        import torch

        if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
            return "bf16", "the GPU computes bf16 natively"
        return "fp32", "the GPU has no native bf16"
    if cpu_has_native_bf16(flags):
        return "bf16", f"the CPU computes bf16 natively ({cpu_description(flags)})"
    return "fp32", f"the CPU has no native bf16, which it would emulate ({cpu_description(flags)})"
