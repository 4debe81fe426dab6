"""The llama.cpp engine: /generate's forwards through llama.cpp (llama-cpp-python's C API), behind the same
small interface as `FusedLlama` and `TransformersRunner`, so continuous batching, sampling, log-probs and stop
handling stay the server's own (`decode_batch.DecodeBatch`):

    runner.new_cache() -> cache with select_rows / drop_leading / stack_rows / can_merge
    runner.forward(input_ids, mask, positions, cache) -> float32 logits [rows, vocab] at each row's last token
    runner.last_hidden_state(input_ids, mask) -> [rows, seq, hidden]   (the torch engine's: /encode stays there)

Every row of a decode batch is one llama.cpp sequence in one shared (unified) KV cache. Rows that share a
prompt share its cache cells (`llama_memory_seq_cp` tags cells, it copies nothing), a finished row's cells
are freed at once, and there are no padding columns. The model is read from a GGUF file: the embedded
model's own Q4_1 file, or an f32 export of any plain Llama folder; a LoRA adapter from `training sft` is
converted to a GGUF adapter and applied by llama.cpp at run time (docs/llama-cpp-engine.md).
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import numpy as np
import torch

# KV cells shared by all rows of one model (f16: 2 x layers x kv_heads x head_dim x 2 bytes each, 23 KB for
# SmolLM2-135M, so 16384 cells take 377 MB). A prompt's cells are shared by the rows sampled from it: 64 rows
# of 128 new tokens from 16 distinct prompts of 500 tokens fill 16 x 500 + 64 x 128 = 16192.
DEFAULT_KV_CELLS = 16384
MAX_SEQUENCES = 256  # llama.cpp's limit on sequences per context (LLAMA_MAX_SEQ)
BATCH_TOKENS = 512  # tokens per llama_decode call; longer prefills go in several calls


class LlamaCppError(RuntimeError):
    """llama.cpp could not load or run the model; the message says what and why."""


def llama_cpp_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


_silenced = None


def _silence_logs(lib) -> None:
    """llama.cpp logs every load to stderr; the server keeps its own log. The callback must outlive the process."""
    global _silenced
    if _silenced is None:
        _silenced = lib.llama_log_callback(lambda level, text, data: None)
        lib.llama_log_set(_silenced, ctypes.c_void_p())


class LlamaCppModel:
    """One llama.cpp model + context + KV cache; sequences are handed out to rows and taken back."""

    def __init__(self, gguf_path: str | Path, *, lora_path: str | Path | None = None,
                 kv_cells: int = DEFAULT_KV_CELLS, threads: int | None = None, kv_type: str = "f16") -> None:
        import llama_cpp as lib

        self.lib = lib
        _silence_logs(lib)
        lib.llama_backend_init()
        model_params = lib.llama_model_default_params()
        model_params.n_gpu_layers = 0
        self.model = lib.llama_model_load_from_file(str(gguf_path).encode(), model_params)
        if not self.model:
            raise LlamaCppError(f"llama.cpp could not load {gguf_path}")
        self.adapter = None
        if lora_path is not None:
            self.adapter = lib.llama_adapter_lora_init(self.model, str(lora_path).encode())
            if not self.adapter:
                raise LlamaCppError(f"llama.cpp could not load the LoRA adapter {lora_path} for {gguf_path}")
        threads = threads or torch.get_num_threads()
        params = lib.llama_context_default_params()
        params.n_ctx = kv_cells
        params.n_batch = params.n_ubatch = BATCH_TOKENS
        params.n_seq_max = MAX_SEQUENCES
        params.n_threads = params.n_threads_batch = threads
        params.kv_unified = True  # one pool of cells for all sequences, not n_ctx / n_seq_max each
        params.no_perf = True
        kv = {"f16": lib.GGML_TYPE_F16, "f32": lib.GGML_TYPE_F32}[kv_type]
        params.type_k = params.type_v = kv
        self.context = lib.llama_init_from_model(self.model, params)
        if not self.context:
            raise LlamaCppError(f"llama.cpp could not make a context of {kv_cells} KV cells for {gguf_path}")
        if self.adapter is not None:
            adapters = (lib.llama_adapter_lora_p_ctypes * 1)(self.adapter)
            if lib.llama_set_adapters_lora(self.context, adapters, 1, (ctypes.c_float * 1)(1.0)) != 0:
                raise LlamaCppError(f"llama.cpp refused the LoRA adapter {lora_path}")
        self.memory = lib.llama_get_memory(self.context)
        self.vocab_size = lib.llama_vocab_n_tokens(lib.llama_model_get_vocab(self.model))
        self.kv_cells = kv_cells
        self.threads = threads
        self.gguf_path, self.lora_path = str(gguf_path), str(lora_path) if lora_path is not None else None
        self._batch = lib.llama_batch_init(BATCH_TOKENS, 0, 1)
        self._free = list(range(MAX_SEQUENCES - 1, -1, -1))
        self._lock = threading.RLock()

    def describe(self) -> dict:
        """What /model_info reports: the file, llama.cpp's own summary (architecture, size, weight type), the cache."""
        text = ctypes.create_string_buffer(256)
        self.lib.llama_model_desc(self.model, text, len(text))
        return {"gguf": self.gguf_path, "model": text.value.decode(errors="replace"), "lora_gguf": self.lora_path,
                "kv_cells": self.kv_cells, "threads": self.threads, "llama_cpp_python": self.lib.__version__}

    # --- sequences --------------------------------------------------------------------------------------------

    def take_sequence(self) -> int:
        with self._lock:
            if not self._free:
                raise LlamaCppError(f"more than {MAX_SEQUENCES} rows decoding at once on one llama.cpp model")
            return self._free.pop()

    def copy_sequence(self, source: int, target: int) -> None:
        with self._lock:
            self.lib.llama_memory_seq_cp(self.memory, source, target, -1, -1)

    def release(self, sequences) -> None:
        with self._lock:
            for sequence in sequences:
                self.lib.llama_memory_seq_rm(self.memory, sequence, -1, -1)
                self._free.append(sequence)

    # --- forward ----------------------------------------------------------------------------------------------

    def decode(self, rows: list[tuple[int, list[int], list[int]]]) -> torch.Tensor:
        """Feed each (sequence, tokens, positions) row its tokens; logits [rows, vocab] after each row's last."""
        lib, batch = self.lib, self._batch
        logits = np.empty((len(rows), self.vocab_size), dtype=np.float32)
        queue = [(row, sequence, token, position, i == len(tokens) - 1)
                 for row, (sequence, tokens, positions) in enumerate(rows)
                 for i, (token, position) in enumerate(zip(tokens, positions, strict=True))]
        with self._lock:
            for start in range(0, len(queue), BATCH_TOKENS):
                chunk = queue[start:start + BATCH_TOKENS]
                for i, (_, sequence, token, position, last) in enumerate(chunk):
                    batch.token[i] = token
                    batch.pos[i] = position
                    batch.n_seq_id[i] = 1
                    batch.seq_id[i][0] = sequence
                    batch.logits[i] = last
                batch.n_tokens = len(chunk)
                status = lib.llama_decode(self.context, batch)
                if status != 0:
                    raise LlamaCppError(
                        f"llama_decode returned {status}"
                        + (f": the KV cache of {self.kv_cells} cells is full (more rows or longer prompts than it "
                           "holds; start the server with a larger --kv-cells)" if status == 1 else "")
                    )
                for i, (row, _, _, _, last) in enumerate(chunk):
                    if last:
                        pointer = lib.llama_get_logits_ith(self.context, i)
                        logits[row] = np.ctypeslib.as_array(pointer, shape=(self.vocab_size,))
        return torch.from_numpy(logits)

    def close(self) -> None:
        lib = self.lib
        if getattr(self, "context", None):
            lib.llama_batch_free(self._batch)
            lib.llama_free(self.context)
            self.context = None
        if getattr(self, "adapter", None):
            lib.llama_adapter_lora_free(self.adapter)
            self.adapter = None
        if getattr(self, "model", None):
            lib.llama_model_free(self.model)
            self.model = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may already be gone
            pass


class LlamaCppCache:
    """The rows of one decode batch as llama.cpp sequences, in row order."""

    def __init__(self, model: LlamaCppModel) -> None:
        self.model = model
        self.sequences: list[int] = []

    def can_merge(self) -> bool:
        return True

    def select_rows(self, index: torch.Tensor) -> None:
        """Keep, reorder or repeat rows; a repeated row gets a new sequence sharing its cells."""
        chosen, kept = [], set()
        for row in index.tolist():
            sequence = self.sequences[row]
            if sequence in kept:
                copy = self.model.take_sequence()
                self.model.copy_sequence(sequence, copy)
                chosen.append(copy)
            else:
                kept.add(sequence)
                chosen.append(sequence)
        self.model.release(s for s in self.sequences if s not in kept)
        self.sequences = chosen

    def drop_leading(self, columns: int) -> None:
        """Nothing to drop: llama.cpp keeps no padding columns."""

    def stack_rows(self, other: LlamaCppCache) -> None:
        self.sequences += other.sequences
        other.sequences = []  # they are this cache's now

    def __del__(self) -> None:
        if self.sequences:
            self.model.release(self.sequences)
            self.sequences = []


class LlamaCppRunner:
    def __init__(self, model: LlamaCppModel, encoder) -> None:
        self.llama = model
        self.encoder = encoder  # the torch runner /encode uses (llama.cpp's pooled embeddings are not ours)

    def new_cache(self) -> LlamaCppCache:
        return LlamaCppCache(self.llama)

    def forward(self, input_ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor,
                cache: LlamaCppCache) -> torch.Tensor:
        new = input_ids.shape[1]
        if not cache.sequences:
            cache.sequences = [self.llama.take_sequence() for _ in range(input_ids.shape[0])]
        rows = []
        for sequence, ids, real, where in zip(cache.sequences, input_ids.tolist(), mask[:, -new:].tolist(),
                                              positions.tolist(), strict=True):
            tokens = [(t, p) for t, r, p in zip(ids, real, where, strict=True) if r]
            rows.append((sequence, [t for t, _ in tokens], [p for _, p in tokens]))
        return self.llama.decode(rows)

    def last_hidden_state(self, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.encoder.last_hidden_state(input_ids, mask)
