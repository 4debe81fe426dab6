"""Precision follows the hardware: bf16 only where it is computed natively, an explicit choice always wins."""

from __future__ import annotations

import pytest
import torch

from prover.serving.model_loading import load_model
from prover.serving.precision import choose_dtype, cpu_flags

AVX2_ONLY = frozenset({"sse4_2", "avx", "avx2", "fma", "f16c"})
AVX512_BF16 = AVX2_ONLY | {"avx512f", "avx512_vnni", "avx512_bf16"}
SAPPHIRE_RAPIDS = AVX512_BF16 | {"amx_bf16", "amx_int8", "amx_tile"}


def test_a_cpu_without_native_bf16_gets_fp32_and_is_told_why():
    dtype, reason = choose_dtype(None, "cpu", flags=AVX2_ONLY)
    assert dtype == "fp32"
    assert "no native bf16" in reason and "avx2" in reason


@pytest.mark.parametrize("flags", [AVX512_BF16, SAPPHIRE_RAPIDS, frozenset({"fp", "asimd", "bf16"})])
def test_a_cpu_with_bf16_instructions_gets_bf16(flags):
    assert choose_dtype(None, "cpu", flags=flags)[0] == "bf16"


def test_an_explicit_dtype_wins_over_the_hardware():
    assert choose_dtype("bf16", "cpu", flags=AVX2_ONLY) == ("bf16", "asked for explicitly")
    assert choose_dtype("fp32", "cpu", flags=SAPPHIRE_RAPIDS) == ("fp32", "asked for explicitly")
    with pytest.raises(ValueError, match="dtype must be one of"):
        choose_dtype("int3", "cpu")


def test_loading_without_a_dtype_follows_this_machines_cpu(tiny_model_dir):
    loaded = load_model(tiny_model_dir, device="cpu")
    expected, reason = choose_dtype(None, "cpu")
    assert loaded.dtype == expected and loaded.dtype_reason == reason
    assert next(loaded.model.parameters()).dtype == (torch.bfloat16 if expected == "bf16" else torch.float32)
    assert (expected == "bf16") == bool(cpu_flags() & {"avx512_bf16", "amx_bf16", "bf16"})
