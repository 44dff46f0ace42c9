#!/usr/bin/env bash
# Load a notebook in Voilà N times and count the page loads that finish.
# usage: scripts/voila_loads.sh [NOTEBOOK] [N] [LIMIT_S]   (defaults: notebooks/lecture_explorer.ipynb 10 30)
# Each load starts a fresh Voilà and kernel, fetches "/" with curl (Voilà executes the notebook while it streams
# the page) and counts it as finished if the page ends with voila_finish() within LIMIT_S seconds; a load that
# does not finish prints the last "Executing k of n" marker it reached. Run `make setup` first.
set -u
cd "$(dirname "$0")/.."
NB=$(realpath "${1:-notebooks/lecture_explorer.ipynb}"); N=${2:-10}; LIMIT=${3:-30}
BIN=$PWD/.venv/bin
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# A kernelspec for this checkout's venv, ahead of any "ddim-teach" another clone registered.
mkdir -p "$TMP/jp/kernels/ddim-teach"
printf '{"argv": ["%s", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Python (ddim-teach)", "language": "python"}' \
  "$BIN/python" > "$TMP/jp/kernels/ddim-teach/kernel.json"
export JUPYTER_PATH="$TMP/jp"
ok=0
for i in $(seq 1 "$N"); do
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  (cd "$TMP" && exec "$BIN/voila" "$NB" --no-browser --port="$port" --Voila.ip=127.0.0.1 > voila.log 2>&1) &
  vp=$!
  for _ in $(seq 120); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.5; done
  t0=$(date +%s.%N)
  timeout "$LIMIT" curl -s -o "$TMP/page.html" "http://127.0.0.1:$port/"
  t=$(python3 -c "print(f'{$(date +%s.%N) - $t0:.1f}')")
  if grep -q "voila_finish()" "$TMP/page.html"; then
    ok=$((ok + 1)); echo "load $i: finished in ${t}s"
  else
    echo "load $i: not finished after ${t}s, stuck at $(grep -o 'voila_process([0-9]*, [0-9]*)' "$TMP/page.html" | tail -1)"
  fi
  kill "$vp" 2>/dev/null; wait "$vp" 2>/dev/null  # SIGTERM: Voilà shuts its kernel down
  sleep 1
done
echo "$(basename "$NB"): $ok of $N loads finished"
