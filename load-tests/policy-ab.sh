#!/bin/bash
# In-process A/B of the policy decision on the 10,000-app mix of LargeConfigDecideBenchmark: BASE_REF's policy engine
# (package renamed to io.portcullis.policybase) and this tree's decide the same requests in ONE JVM, alternating every
# 20 passes, so both see the same load. For a busy shared machine, where two JMH runs minutes apart differ by ±50 %.
# Usage (repo root): load-tests/policy-ab.sh BASE_REF [ROUNDS=300]    e.g. load-tests/policy-ab.sh 3d6a311
# Prints p50/p90/p99 per call, B/op and thread CPU ns/op for both, and p50 per request kind. Pin it with taskset for a
# quiet run. Builds with -Pjmh test-compile (never installs).
set -euo pipefail
BASE_REF=${1:?usage: load-tests/policy-ab.sh BASE_REF [ROUNDS]}
ROUNDS=${2:-300}
ROOT=$(pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

./mvnw -B -q -o -pl policy-engine -Pjmh test-compile
./mvnw -B -q -o -pl policy-engine -Pjmh dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile="$WORK/deps.txt" >/dev/null
NEW=$ROOT/policy-engine/target/classes:$ROOT/policy-engine/target/test-classes
DEPS=$(cat "$WORK/deps.txt")

# the base engine and its fixture, renamed so that both builds load side by side
mkdir -p "$WORK/src" "$WORK/classes"
git archive "$BASE_REF" policy-engine/src/main/java/io/portcullis/policy \
  policy-engine/src/jmh/java/io/portcullis/policy/LargeConfigFixture.java | tar -x -C "$WORK/src"
B=$WORK/src/policybase
mkdir -p "$B"
cp -r "$WORK/src/policy-engine/src/main/java/io/portcullis/policy/." "$B/"
cp "$WORK/src/policy-engine/src/jmh/java/io/portcullis/policy/LargeConfigFixture.java" "$B/"
find "$B" -name '*.java' -exec sed -i 's/io\.portcullis\.policy\b/io.portcullis.policybase/g' {} +
sed 's/^package PKG;/package io.portcullis.policybase;/' load-tests/policy-ab/Adapter.java.in > "$B/AbAdapter.java"
mkdir -p "$WORK/src/new"
sed 's/^package PKG;/package io.portcullis.policy;/' load-tests/policy-ab/Adapter.java.in > "$WORK/src/new/AbAdapter.java"

javac -nowarn -proc:none -d "$WORK/classes" -cp "$NEW:$DEPS" $(find "$B" -name '*.java') \
  "$WORK/src/new/AbAdapter.java" load-tests/policy-ab/AbMain.java 2>&1 | grep -v '^Note:' || true
echo "base $(git rev-parse --short "$BASE_REF") vs this tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD -- policy-engine || echo ', modified')), $ROUNDS rounds, load: $(cut -d' ' -f1-3 /proc/loadavg)"
java -Xms2g -Xmx2g -cp "$WORK/classes:$NEW:$DEPS" AbMain "$ROUNDS"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
