#!/usr/bin/env bash
# One command for a machine with a GPU: builds, checks every reference model on both backends
# (`glassbox check`: GPU against the CPU reference, op by op), tunes the kernels for GPT-2 small's
# shapes on this adapter (`glassbox tune`, into a tuned file of its own under target/gpu-check/
# so the user's choices are left alone), then benchmarks GPT-2 small's and SmolLM2-135M's shapes
# with random weights with the default kernels (no tuned file) at 1, 64, 256 and 1024 tokens and
# prints the tables. Where a Python with torch and transformers sees a CUDA GPU, it also runs
# Hugging Face transformers on the same shapes (tools/torch_compare/) and prints glassbox beside
# it, as ratios from this one run. The JSON reports land in target/gpu-check/. Without a GPU it
# runs on whatever adapter wgpu finds (lavapipe: slow). GLASSBOX is the binary to run (default:
# built here).
set -euo pipefail
cd "$(dirname "$0")/.."

glassbox="${GLASSBOX:-target/release/glassbox}"
[ -n "${GLASSBOX:-}" ] || cargo build --release
out=target/gpu-check
mkdir -p "$out"
export GLASSBOX_CACHE_DIR="$PWD/$out/cache"
rm -rf "$GLASSBOX_CACHE_DIR"

for model in tests/data/oracle/*/; do
    echo "== check $model"
    "$glassbox" check --model "$model" --ids 1,2,3,4,5,6,7 | tail -1
done
for shape in gpt2-small smollm2-135m; do
    echo "== bench --shape $shape (default kernels)"
    "$glassbox" bench --shape "$shape" --reps 5 --seq-lens 1,64,256,1024 \
        --json-out "$out/bench-$shape.json" | tee "$out/bench-$shape.txt"
done
if python3 -c 'import torch, transformers; assert torch.cuda.is_available()' 2>/dev/null; then
    echo "== transformers on the same GPU"
    python3 tools/torch_compare/torch_bench.py "$out/torch.json"
    python3 tools/torch_compare/compare.py "$out/torch.json" \
        "$out/bench-gpt2-small.json" "$out/bench-smollm2-135m.json" | tee "$out/compare.txt"
fi
echo "== tune --shape gpt2-small"
"$glassbox" tune --shape gpt2-small --reps 3 | tee "$out/tune-gpt2-small.txt"
echo "reports in $out"
