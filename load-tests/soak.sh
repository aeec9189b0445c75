#!/usr/bin/env bash
# Soak mode (issue 9): Portcullis under steady load for MINUTES (30 by default), one measurement per minute — request
# rate and latency (wrk), and the heap after a full GC plus the process's RSS — then the drift from the first minutes
# to the last. A leak shows as a rising heap-after-GC; a slow-down as rising p99 at a steady request rate.
# Usage: load-tests/soak.sh [MINUTES=30] [CONNECTIONS=16]
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-30}; CONNS=${2:-16}
UP=18281; PC=18284
WORK=$(mktemp -d /tmp/portcullis-soak.XXXXXX)
PIDS=()
source load-tests/lib.sh
trap cleanup EXIT
require wrk nginx taskset curl java jcmd

echo "== build"
build_gateway
start_upstream $UP
write_load_config $UP
start_portcullis soak $PC
GW_PID=${PIDS[-1]}
wait_for "http://127.0.0.1:$PC/.well-known/jwks.json" "$WORK/portcullis-soak.log"
TOKEN=$(load_token $PC)
# tokens of a tier-1 app live an hour at most; a soak longer than that refreshes it each minute
refresh() { TOKEN=$(load_token $PC); }

heap_after_gc_mb() {
  jcmd "$GW_PID" GC.run >/dev/null
  # every generation's "total …K, used …K" (one line for G1, young + old for Serial/Parallel)
  jcmd "$GW_PID" GC.heap_info | sed -nE 's/.*total [0-9]+K, used ([0-9]+)K.*/\1/p' | awk '{s += $1} END {printf "%.1f", s/1024}'
}
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$GW_PID/status"; }

echo "== warm-up 30 s"
measure "http://127.0.0.1:$PC/crm/contacts" 30 "$CONNS" "$TOKEN" >/dev/null
OUT="$WORK/soak.tsv"
printf "minute\trps\tp50_ms\tp99_ms\tp999_ms\tnon2xx\theap_after_gc_mb\trss_mb\n" | tee "$OUT"
for m in $(seq 1 "$MINUTES"); do
  refresh
  line=$(measure "http://127.0.0.1:$PC/crm/contacts" 58 "$CONNS" "$TOKEN")
  field() { echo "$line" | sed -E "s/.*$1=([0-9.]+).*/\1/"; }
  printf "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$m" "$(field rps)" "$(field p50_ms)" "$(field p99_ms)" \
    "$(field p999_ms)" "$(field non2xx)" "$(heap_after_gc_mb)" "$(rss_mb)" | tee -a "$OUT"
  if [ "$(field non2xx)" != 0 ]; then   # say what the refusals were, once a minute
    curl -s -D - -o "$WORK/sample" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PC/crm/contacts" | head -1
    head -c 300 "$WORK/sample"; echo
  fi
done

# drift: mean of the last third against the mean of the first third (after the warm-up)
python3 - "$OUT" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
third = max(1, len(rows) // 3)
first, last = rows[:third], rows[-third:]
def mean(rs, k): return sum(float(r[k]) for r in rs) / len(rs)
print(f"\nDrift over {len(rows)} minutes (last {third} min vs first {third} min):")
for k in ["rps", "p50_ms", "p99_ms", "heap_after_gc_mb", "rss_mb"]:
    a, b = mean(first, k), mean(last, k)
    print(f"  {k:18s} {a:10.2f} -> {b:10.2f}  ({(b - a) / a * 100 if a else 0:+.1f} %)")
print(f"  non-2xx answers     {sum(int(float(r['non2xx'])) for r in rows)}")
PY
cp "$OUT" "load-tests/soak-$(date -u +%Y%m%dT%H%M%SZ).tsv"
