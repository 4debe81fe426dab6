"""Peak memory of this process and of its GPU, as the training loops report it (`peak_rss_mb`, `cuda_peak_mb`)."""

from __future__ import annotations

import resource
import sys


def peak_memory_mb(device: str) -> dict[str, float]:
    """The process's peak resident memory so far (and the GPU's peak allocation on CUDA), in MB."""
    import torch

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    values = {"peak_rss_mb": peak / (1024 * 1024 if sys.platform == "darwin" else 1024)}
    if device.startswith("cuda") and torch.cuda.is_available():
        values["cuda_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return values
