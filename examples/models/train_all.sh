#!/usr/bin/env bash
# Train the three example models into their committed artifacts/ folders (or into OUT_ROOT/<model>).
# Uses Debian's scikit-learn: /usr/bin/python3 (sklearn 1.2.1, onnx 1.12.0). Single-threaded, seeded.
#   examples/models/train_all.sh [--seed 42] [--out-root DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py="${PYTHON:-/usr/bin/python3}"
seed=42
out_root=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seed) seed="$2"; shift 2 ;;
    --out-root) out_root="$2"; shift 2 ;;
    *) echo "usage: $0 [--seed N] [--out-root DIR]" >&2; exit 2 ;;
  esac
done
# One thread, one BLAS kernel set (see _common.py): a retrain is byte-identical on any x86-64 CPU.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONHASHSEED=0 OPENBLAS_CORETYPE=Haswell
for model in bank-churn nlp-insight chicago-taxi; do
  out="$here/$model/artifacts"
  [[ -n "$out_root" ]] && out="$out_root/$model"
  start=$(date +%s)
  "$py" "$here/$model/train.py" --seed "$seed" --out "$out"
  echo "  ($model: $(( $(date +%s) - start ))s wall)"
done
