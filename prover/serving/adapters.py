"""LoRA adapters named per request, as SGLang's `lora_path` does: a request (/generate or /encode) may ask for an
adapter by the name `/load_lora_adapter` gave it, or by its folder. Each adapter gets a backbone of its own (the
base weights with the adapter merged in, so every engine serves it at full speed) and a model loop of its own;
the `capacity` most recently used are kept, older ones are dropped. Loading takes seconds, once: requests
arriving for the same adapter meanwhile wait for the same load.

Folders must lie under one of `roots` when roots are given (so a client cannot make the server read elsewhere)
and must be peft adapter folders.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


class AdapterError(ValueError):
    """The named adapter cannot be served; the message says why."""


class AdapterSet:
    def __init__(self, load: Callable[[str], Any], *, capacity: int = 2, roots: Sequence[str | Path] = ()) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self._load = load  # folder -> a started backbone (whatever the server serves through); .stop() ends it
        self.capacity = capacity
        self.roots = [Path(root).resolve() for root in roots]
        self.names: dict[str, str] = {}
        self._backbones: OrderedDict[str, Any] = OrderedDict()
        self._loading: dict[str, asyncio.Future] = {}
        self._lock = threading.Lock()

    def resolve(self, name_or_path: str) -> str:
        """The adapter folder a request's `lora_path` means, checked; AdapterError otherwise."""
        folder = Path(self.names.get(name_or_path, name_or_path)).expanduser().resolve()
        if self.roots and not any(folder.is_relative_to(root) for root in self.roots):
            raise AdapterError(f"{name_or_path!r} is neither a loaded adapter's name nor a folder under the "
                               f"server's adapter roots ({', '.join(map(str, self.roots))})")
        if not (folder / "adapter_config.json").is_file():
            raise AdapterError(f"{name_or_path!r} is not a loaded adapter's name nor a peft adapter folder "
                               "(no adapter_config.json)")
        return str(folder)

    def register(self, name: str, path: str) -> str:
        folder = self.resolve(path)
        self.names[name] = folder
        return folder

    def unregister(self, name: str) -> None:
        folder = self.names.pop(name, None)
        if folder is None:
            raise AdapterError(f"no adapter named {name!r}")
        with self._lock:
            backbone = self._backbones.pop(folder, None)
        if backbone is not None:
            backbone.stop()

    async def backbone(self, name_or_path: str):
        """The backbone serving this adapter, loaded on first use (in a thread: the event loop keeps serving)."""
        folder = self.resolve(name_or_path)
        with self._lock:
            if folder in self._backbones:
                self._backbones.move_to_end(folder)
                return self._backbones[folder]
        pending = self._loading.get(folder)
        if pending is None:
            pending = asyncio.get_running_loop().run_in_executor(None, self._load, folder)
            self._loading[folder] = pending
            try:
                backbone = await pending
            finally:
                self._loading.pop(folder, None)
            self._keep(folder, backbone)
            return backbone
        return await asyncio.shield(pending)

    def _keep(self, folder: str, backbone) -> None:
        with self._lock:
            self._backbones[folder] = backbone
            evicted = []
            while len(self._backbones) > self.capacity:
                evicted.append(self._backbones.popitem(last=False)[1])
        for old in evicted:
            old.stop()

    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._backbones)

    def stop(self) -> None:
        with self._lock:
            backbones, self._backbones = list(self._backbones.values()), OrderedDict()
        for backbone in backbones:
            backbone.stop()
