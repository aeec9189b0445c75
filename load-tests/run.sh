#!/usr/bin/env bash
# Side-by-side throughput and latency of the same request through:
#   upstream (nginx serving a static JSON page), nginx reverse proxy, bare Spring Cloud Gateway route, and
#   Portcullis with full enforcement (token, policy with a row filter and two masks, quota, audit to PostgreSQL),
#   and the same Portcullis with the audit off (portcullis-noaudit: bench profile, portcullis.audit.sink=none).
# Load generator and servers pinned to separate cores; each target warmed up, then REPEATS rounds over all targets
# (interleaved, so drift on a shared machine hits every target alike); medians reported.
# Then latency at a fixed rate (open model, coordinated omission corrected: FixedRateLoad): every target driven at the
# same rate, half of Portcullis's median saturation req/s, for "added p99 vs bare SCG / nginx" (issue 9: <= 1 ms).
# Usage: [TARGETS="portcullis portcullis-noaudit"] [FIXED_RATE=req/s] [FIXED_SECONDS=20] [FIXED_WARMUP=5]
#        load-tests/run.sh [DURATION_S=15] [REPEATS=3] [CONNECTIONS=32]
#        (~8 minutes with the defaults and all targets; FIXED_SECONDS=0 skips the fixed-rate phase)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15}; REPEATS=${2:-3}; CONNS=${3:-32}; WARMUP=${WARMUP:-10}
# PORT_BASE: another base for a run next to someone else's (ports PORT_BASE+1 … +7)
B=${PORT_BASE:-18080}; UP=$((B + 1)); NGX=$((B + 2)); SCG=$((B + 3)); PC=$((B + 4)); PCA=$((B + 5)); PCN=$((B + 6))
PCNA=$((B + 7))
read -r -a ORDER <<< "${TARGETS:-upstream nginx scg portcullis portcullis-noaudit}"
wants() { [[ " ${ORDER[*]} " == *" $1 "* ]]; }
WORK=$(mktemp -d /tmp/portcullis-load.XXXXXX)
PIDS=()
source load-tests/lib.sh
trap cleanup EXIT
require wrk nginx taskset curl java unzip
FIXED_SECONDS=${FIXED_SECONDS:-20}; FIXED_WARMUP=${FIXED_WARMUP:-5}

echo "== build"
# package, not install: the reactor resolves the modules, and ~/.m2 (shared with other builds) stays untouched
build_gateway

echo "== upstream (nginx static) and nginx proxy"
start_upstream $UP $NGX

if wants scg; then
  echo "== bare Spring Cloud Gateway"
  taskset -c $SERVER_CPU java -Xms512m -Xmx512m -jar "$SCG_JAR" --server.port=$SCG --upstream=http://127.0.0.1:$UP \
    > "$WORK/scg.log" 2>&1 & PIDS+=($!)
fi

echo "== Portcullis (embedded PostgreSQL, generated policy)"
write_load_config $UP
# CPU time (clock ticks) of a process and its descendants, and of a gateway with its embedded PostgreSQL (whose
# postmaster pg_ctl detaches): per request, the figure a shared machine disturbs least (wall-clock req/s depends on
# how much of the core the other builds leave)
declare -A GWPID
tree_pids() { echo "$1"; for c in $(pgrep -P "$1" || true); do tree_pids "$c"; done; }
ticks() { local t=0 p; for p in "$@"; do [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
cpu_ticks() {
  local pids; pids=$(tree_pids "${GWPID[$1]}")
  for pm in $(pgrep -f -- "-D $WORK/$1-pgdata" || true); do pids="$pids $(tree_pids "$pm")"; done
  ticks $(echo $pids | tr ' ' '\n' | sort -u)
}
pg_ticks() {
  local pids=""; for pm in $(pgrep -f -- "-D $WORK/$1-pgdata" || true); do pids="$pids $(tree_pids "$pm")"; done
  ticks $(echo $pids | tr ' ' '\n' | sort -u)
}
HZ=$(getconf CLK_TCK)

# one gateway: name, port, admin port, extra arguments
portcullis() {
  local name=$1 port=$2 admin=$3; shift 3
  taskset -c $SERVER_CPU java -Xms1g -Xmx1g ${PORTCULLIS_JAVA_OPTS:-} -jar "$GW_JAR" --server.port="$port" \
    --portcullis.admin.port="$admin" --portcullis.demo.enabled=false --portcullis.database.data-dir="$WORK/$name-pgdata" \
    --portcullis.policy.config-file="$WORK/portcullis.yaml" --portcullis.audit.spill-dir="${SPILL_ROOT:-$WORK}/$name-spill" \
    --portcullis.broker.key-encryption-key="$KEK" "$@" \
    --portcullis.database.acquire-timeout=20s `# a start on a busy shared core misses the default 2 s` \
    > "$WORK/$name.log" 2>&1 & PIDS+=($!); GWPID[$name]=$!
}
# one after the other: two JVMs and two PostgreSQL starting on one core can miss the pool's acquisition timeout
wants portcullis && portcullis portcullis $PC $PCA && wait_for "http://127.0.0.1:$PC/.well-known/jwks.json" "$WORK/portcullis.log"
# the audit off, for its cost: refused at start unless the bench profile is active
wants portcullis-noaudit && portcullis portcullis-noaudit $PCN $PCNA --spring.profiles.active=bench \
  --portcullis.audit.sink=none
wants scg && wait_for "http://127.0.0.1:$SCG/crm/contacts" "$WORK/scg.log"
declare -A URLS=( [upstream]="http://127.0.0.1:$UP/crm/contacts" [nginx]="http://127.0.0.1:$NGX/crm/contacts"
                  [scg]="http://127.0.0.1:$SCG/crm/contacts" [portcullis]="http://127.0.0.1:$PC/crm/contacts"
                  [portcullis-noaudit]="http://127.0.0.1:$PCN/crm/contacts" )
declare -A TOKENS
for name in portcullis portcullis-noaudit; do
  wants $name || continue
  base=${URLS[$name]%/crm/contacts}
  wait_for "$base/.well-known/jwks.json" "$WORK/$name.log"
  TOKENS[$name]=$(curl -s -u "load-app:$SECRET" -d grant_type=client_credentials "$base/oauth2/token" \
    | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  CHECK=$(curl -s -H "Authorization: Bearer ${TOKENS[$name]}" "$base/crm/contacts")
  echo "$CHECK" | grep -q '"team-sales"' && { echo "$name: row filter did not hold: $CHECK" | head -c 400; exit 1; }
  echo "$CHECK" | grep -q '"c[0-9]*@client' && { echo "$name: email not masked: $CHECK" | head -c 400; exit 1; }
  echo "$CHECK" | grep -q '"team-ops"' || { echo "$name: Portcullis did not answer rows: $CHECK" | head -c 400; exit 1; }
done
token() { echo "${TOKENS[$1]:-none}"; }
for name in portcullis portcullis-noaudit; do
  wants $name && echo "$name: CPU counted over $(( $(tree_pids "${GWPID[$name]}" | wc -l) )) JVM process(es) and" \
    "$(for pm in $(pgrep -f -- "-D $WORK/$name-pgdata" || true); do tree_pids "$pm"; done | wc -l) PostgreSQL process(es)"
done

declare -A RPS P50 P99 P999
for target in "${ORDER[@]}"; do
  echo "== $target: warm-up ${WARMUP}s"
  taskset -c $LOAD_CPU wrk -t1 -c"$CONNS" -d"${WARMUP}s" -H "Authorization: Bearer $(token $target)" \
    "${URLS[$target]}" >/dev/null
  : > "$WORK/$target.runs"
done
for r in $(seq 1 "$REPEATS"); do
  round=("${ORDER[@]}")
  if (( r % 2 == 0 )); then   # every other round in reverse, so no target always follows the same neighbour
    round=(); for (( i=${#ORDER[@]}-1; i>=0; i-- )); do round+=("${ORDER[$i]}"); done
  fi
  for target in "${round[@]}"; do
    echo "== round $r/$REPEATS: $target, ${DURATION}s with $CONNS connections"
    [ -n "${GWPID[$target]:-}" ] && before=$(cpu_ticks "$target") && pg_before=$(pg_ticks "$target")
    line=$(taskset -c $LOAD_CPU wrk -t1 -c"$CONNS" -d"${DURATION}s" -s load-tests/report.lua \
      -H "Authorization: Bearer $(token $target)" "${URLS[$target]}" | grep '^RESULT')
    if [ -n "${GWPID[$target]:-}" ]; then
      sleep 1   # the audit drain's last batch of the run
      used=$(( $(cpu_ticks "$target") - before )); pg_used=$(( $(pg_ticks "$target") - pg_before ))
      line="$line $(echo "$line" | awk -v t="$used" -v pg="$pg_used" -v hz="$HZ" -v d="$DURATION" '{
        split($2, a, "="); printf "cpu_ms_per_req=%.3f pg_ms_per_req=%.3f", t * 1000 / hz / (a[2] * d),
        pg * 1000 / hz / (a[2] * d) }')"
    fi
    echo "$line" | tee -a "$WORK/$target.runs"
    # socket errors (not non-2xx) on more than 1 % of requests: a broken keep-alive, a wrong framing — the figures
    # then measure reconnects, not the target
    echo "$line" | awk '{ split($6, e, "="); split($8, n, "="); if (e[2] > n[2] / 100)
      printf "WARNING: %s wrk socket errors on %s of %s requests: the connection handling is broken, figures invalid\n",
      "'"$target"'", e[2], n[2] }'
  done
done
field() { sed -E "s/.*$1=([0-9.]+).*/\1/" "$WORK/$2.runs" | median; }
for target in "${ORDER[@]}"; do
  RPS[$target]=$(field rps $target); P50[$target]=$(field p50_ms $target)
  P99[$target]=$(field p99_ms $target); P999[$target]=$(field p999_ms $target)
done
# Latency at a fixed rate. One rate for every target, half of Portcullis's (full enforcement) saturation: "added
# latency" compares the targets under the same offered load, where Portcullis is at half load and the others lighter;
# at half of each target's own saturation the bare route would be measured at a higher rate than Portcullis, and the
# difference would mix the gateway's cost with the load's. Without a portcullis target: half of the slowest target.
declare -A FXLINE
# fx FIELD TARGET: a field of the target's FIXED line
fx() { echo "${FXLINE[$2]:-}" | sed -nE "s/.* $1=([0-9.]+).*/\1/p"; }
if (( FIXED_SECONDS > 0 )); then
  if [ -n "${FIXED_RATE:-}" ]; then RATE=$FIXED_RATE; RATE_WHY="FIXED_RATE"
  elif wants portcullis; then RATE=$(awk -v r="${RPS[portcullis]}" 'BEGIN{printf "%d", r / 2}')
    RATE_WHY="half of portcullis's median saturation req/s"
  else RATE=$(for t in "${ORDER[@]}"; do echo "${RPS[$t]}"; done | sort -n | head -1 | awk '{printf "%d", $1 / 2}')
    RATE_WHY="half of the slowest target's median saturation req/s"
  fi
  (( RATE >= 1 )) || RATE=1
  echo "== fixed rate: $RATE req/s ($RATE_WHY), ${FIXED_WARMUP}s warm-up + ${FIXED_SECONDS}s per target"
  mkdir -p "$WORK/harness" && unzip -q -o "$SCG_JAR" -d "$WORK/harness"
  specs=(); for t in "${ORDER[@]}"; do specs+=("$t=${URLS[$t]}|$(token $t)"); done
  taskset -c $LOAD_CPU java -Xms256m -Xmx256m -cp "$WORK/harness/BOOT-INF/classes:$WORK/harness/BOOT-INF/lib/*" \
    io.portcullis.loadtests.FixedRateLoad "$RATE" "$FIXED_SECONDS" "$FIXED_WARMUP" "$CONNS" "${specs[@]}" \
    | tee "$WORK/fixed.out"
  for t in "${ORDER[@]}"; do
    FXLINE[$t]=$(grep "^FIXED name=$t " "$WORK/fixed.out" || true)
  done
fi
added() { local a b; a=$(fx p99_ms "$1"); b=$(fx p99_ms "$2")
  [ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN{printf "%+.3f ms", a - b}' || echo "-"; }
ratio() { [ -n "${RPS[$2]:-}" ] && awk -v a="$1" -v b="${RPS[$2]}" 'BEGIN{printf "%.2f", a/b}' || echo "-"; }
OUT="load-tests/results-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "| target | req/s | p50 ms | p99 ms | p99.9 ms | vs bare SCG | vs nginx | vs audit off |"
  echo "|---|---|---|---|---|---|---|---|"
  for t in "${ORDER[@]}"; do
    printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n" "$t" "${RPS[$t]}" "${P50[$t]}" "${P99[$t]}" "${P999[$t]}" \
      "$(ratio "${RPS[$t]}" scg)" "$(ratio "${RPS[$t]}" nginx)" "$(ratio "${RPS[$t]}" portcullis-noaudit)"
  done
  echo
  if wants portcullis && wants portcullis-noaudit; then
    on=$(field cpu_ms_per_req portcullis); off=$(field cpu_ms_per_req portcullis-noaudit)
    echo "Audit cost, wall-clock throughput: $(awk -v a="${RPS[portcullis]}" -v b="${RPS[portcullis-noaudit]}" \
      'BEGIN{printf "%.1f", (1 - a/b) * 100}') % (median req/s, portcullis vs portcullis-noaudit)."
    echo "Audit cost, CPU per request (gateway JVM + its PostgreSQL): $on ms vs $off ms, i.e. $(awk -v a="$on" \
      -v b="$off" 'BEGIN{printf "%.1f", (1 - b/a) * 100}') % less throughput on a saturated core."
    echo "Runs (req/s; CPU ms per request; of which PostgreSQL):"
    for t in portcullis portcullis-noaudit; do
      echo "  $t: $(sed -E 's/.*rps=([0-9.]+).*/\1/' "$WORK/$t.runs" | tr '\n' ' '); $(sed -E 's/.*cpu_ms_per_req=([0-9.]+).*/\1/' "$WORK/$t.runs" | tr '\n' ' '); $(sed -E 's/.*pg_ms_per_req=([0-9.]+).*/\1/' "$WORK/$t.runs" | tr '\n' ' ')"
    done
    echo
  fi
  if (( FIXED_SECONDS > 0 )); then
    echo "Latency at a fixed $RATE req/s for every target ($RATE_WHY); open model, each request timed from its due"
    echo "time (coordinated omission corrected), ${FIXED_SECONDS}s after ${FIXED_WARMUP}s warm-up, FixedRateLoad with up to $CONNS"
    echo "connections on CPU $LOAD_CPU:"
    echo
    echo "| target | p50 ms | p99 ms | p99.9 ms | max ms | errors | non-2xx | late sends |"
    echo "|---|---|---|---|---|---|---|---|"
    for t in "${ORDER[@]}"; do
      printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n" "$t" "$(fx p50_ms $t)" "$(fx p99_ms $t)" \
        "$(fx p999_ms $t)" "$(fx max_ms $t)" "$(fx errors $t)" "$(fx non2xx $t)" "$(fx late_sends $t)"
    done
    echo
    for t in "${ORDER[@]}"; do
      late=$(fx late_sends $t); n=$(fx requests $t)
      if [ -n "$late" ] && [ -n "$n" ] && (( late * 10 > n )); then
        echo "WARNING: $t: $late of $n requests were sent more than 1 ms after their due time: the client fell" \
          "behind (a busy load CPU?), and its own delay is in these figures"
      fi
    done
    for t in portcullis portcullis-noaudit; do
      wants $t || continue
      echo "$t: added p99 vs bare SCG $(added $t scg), vs nginx $(added $t nginx) (issue 9 target: <= 1 ms vs bare SCG)"
    done
    echo
  fi
  echo "Medians of $REPEATS runs of ${DURATION}s after ${WARMUP}s warm-up; wrk -t1 -c$CONNS on CPU $LOAD_CPU, servers on CPU $SERVER_CPU;"
  echo "$(nproc) cores, $(java -version 2>&1 | head -1), $(date -u +%Y-%m-%dT%H:%MZ). Request: GET /crm/contacts (60 rows;"
  echo "Portcullis keeps the 20 rows of the token's owner and masks email and phone)."
} | tee "$OUT"
echo "written: $OUT"
