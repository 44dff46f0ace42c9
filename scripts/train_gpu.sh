#!/usr/bin/env bash
# Train U-Net candidates on one CUDA GPU within a wall-clock budget, then measure each with the
# shipped-model bar (bench --quality). For a task that is lent a GPU machine (the shipped weights so far
# were trained on the CPU); on a CPU use `python -m ddim_teach.train` directly (see docs/RESULTS.md).
#
#   scripts/train_gpu.sh OUTDIR [BUDGET_S]
#
# Two runs share the GPU (the model is small, so one run alone leaves it mostly idle):
#   A  continues checkpoints/unet.pt (if present) at batch 256: lr 1e-4, then 3e-5 for the last 30 %.
#   B  trains from scratch at batch 256: lr 1e-3 for 50 %, 4e-4 to 80 %, 1e-4 to the end.
# Step counts come from a short probe of both runs side by side, so each run fills BUDGET_S.
set -euo pipefail
OUT=${1:?usage: scripts/train_gpu.sh OUTDIR [BUDGET_S]}
BUDGET=${2:-420}
PY=${PYTHON:-python3}
BS=${BS:-256}
PROBE=${PROBE:-1000}  # probe steps
DEVICE=${DEVICE:-cuda}  # DEVICE=cpu for a dry run of this script
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
# Every setting but --lr must match the checkpoint on --resume, so A resumes at the batch size it was trained with.
tr() { "$PY" -m ddim_teach.train --device $DEVICE --no-progress --ckpt-every 1000 "$@"; }

# Probe: PROBE steps of each, side by side, into scratch files.
t0=$(date +%s.%N)
tr --batch-size $BS --steps $PROBE --force --out /tmp/probe_a.pt >/dev/null & tr --batch-size $BS --steps $PROBE --seed 1 --force --out /tmp/probe_b.pt >/dev/null; wait
rate=$("$PY" -c "import time; print($PROBE / (time.time() - $t0))")
N=$("$PY" -c "print(max(100, int($rate * $BUDGET) // 100 * 100))")
echo "probe: $rate steps/s per run side by side (incl. start-up); $N steps per run in ${BUDGET}s"

start=0; RUNS="B"
if [ -f checkpoints/unet.pt ]; then  # A continues the CPU-trained checkpoint, if there is one
  cp checkpoints/unet.pt "$OUT/A.pt"; RUNS="A B"
  start=$("$PY" -c "import torch; print(torch.load('$OUT/A.pt', weights_only=True)['step'])")
  BS_A=$("$PY" -c "import torch; print(torch.load('$OUT/A.pt', weights_only=True).get('train', {}).get('batch_size', 128))")
fi
a1=$((start + N * 7 / 10)); a2=$((start + N))
b1=$((N / 2)); b2=$((N * 8 / 10)); b3=$N
if [ "$RUNS" = "A B" ]; then
  {
    tr --batch-size $BS_A --resume --steps $a1 --lr 1e-4 --out "$OUT/A.pt"
    tr --batch-size $BS_A --resume --steps $a2 --lr 3e-5 --out "$OUT/A.pt"
  } >"$OUT/A.log" 2>&1 &
fi
{
  tr --batch-size $BS --steps $b1 --lr 1e-3 --force --out "$OUT/B.pt"
  tr --batch-size $BS --resume --steps $b2 --lr 4e-4 --out "$OUT/B.pt"
  tr --batch-size $BS --resume --steps $b3 --lr 1e-4 --out "$OUT/B.pt"
} >"$OUT/B.log" 2>&1
wait
for r in $RUNS; do cat "$OUT/$r.log"; done

for r in $RUNS; do
  "$PY" -m ddim_teach.pretrained "$OUT/$r.pt" "$OUT/${r}_ema.pt" --force
  echo "== candidate $r"; "$PY" -m ddim_teach.bench --quality --weights "$OUT/${r}_ema.pt"
  rm "$OUT/${r}_ema.pt"
  split -b 15M "$OUT/$r.pt" "$OUT/$r.pt.part-" && rm "$OUT/$r.pt"  # files come back in pieces under 16 MB
done
