#!/usr/bin/env bash
# The GPU measurements of the README's performance section, on a CUDA machine with this repository:
#
#   bench/gpu.sh tests ebm serving          # the CUDA tests, EBM scoring, serving at SmolLM2-135M's shape
#   bench/gpu.sh serving7b nf4               # serving at DeepSeek-Prover-V2-7B's shape, bf16 and nf4
#   bench/gpu.sh joint                       # joint training against plain SFT (embedded and 7B shapes)
#
# Each part writes its log to $LOGS (default ./gpu-logs) and is bounded by `timeout`, so one slow part cannot
# take the others' output with it. Random weights of the named shapes (no download); SmolLM2's tokenizer
# from $TOKENIZER (a folder; default: the embedded model's, converted from the packaged GGUF).
set -uo pipefail
cd "$(dirname "$0")/.."
LOGS="${LOGS:-gpu-logs}"
mkdir -p "$LOGS"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
tok=(${TOKENIZER:+--tokenizer "$TOKENIZER"})
part() {  # name, limit in seconds, command...
  local name=$1 limit=$2
  shift 2
  echo "=== $name ($(date -u +%H:%M:%S))"
  timeout "$limit" "$@" 2>&1 | grep -v "it/s]" | tee "$LOGS/$name.log"
}
for what in "$@"; do
  case "$what" in
    tests) part tests 200 python3 -m pytest -m gpu tests/serving/test_gpu.py --confcutdir=tests/serving -q -p no:cacheprovider ;;
    ebm) part ebm 150 python3 bench/ebm_scoring.py --device cuda --dtype float32 bfloat16 --batches 1 64 1024 8192 \
           --seconds-per-batch 3
         part ebm-on-device 150 python3 bench/ebm_scoring.py --device cuda --dtype float32 bfloat16 \
           --batches 1 64 1024 8192 --seconds-per-batch 3 --embeddings-on-device ;;
    serving) part serving 200 python3 bench/serving.py --device cuda --concurrency 1 8 32 128 --repeats 2 "${tok[@]}" ;;
    serving7b) part serving7b 300 python3 bench/serving.py --device cuda --shape prover7b --concurrency 1 8 32 128 \
                 --repeats 1 "${tok[@]}" ;;
    nf4) part nf4 180 python3 bench/serving.py --device cuda --shape prover7b --quantize nf4 --no-baseline \
           --concurrency 1 8 --repeats 1 "${tok[@]}" ;;
    joint)  # the reference's batch sizes: 4 SFT sequences and 32 (state, goal) samples a step; LoRA r 64
      jb=(python3 bench/joint_training.py --device cuda --lora-r 64 --batch-size 4 --contrastive-batch-size 32
          --max-length 1024 --steps 5 "${tok[@]}")
      part joint-smollm2 90 "${jb[@]}" --shape smollm2
      part joint-7b-bf16-gc 200 "${jb[@]}" --shape prover7b --grad-checkpointing
      part joint-7b-nf4-gc 150 "${jb[@]}" --shape prover7b --quant nf4 --grad-checkpointing
      part joint-7b-bf16 120 "${jb[@]}" --shape prover7b ;;
    *) echo "unknown part $what (tests ebm serving serving7b nf4 joint)"; exit 2 ;;
  esac
done
