#!/bin/sh
# The reliability soak (not run in CI): RESOURCES resources in a Git repository, SYNCS consecutive
# syncs with random small commits and random out-of-band drift. Every sync must succeed and
# converge; every 50 syncs it prints heap after GC, store size and history file count, which must
# stay flat. Usage: benchmarks/soak.sh [RESOURCES=10000] [SYNCS=500] [SEED=42]
set -eu
cd "$(dirname "$0")/.."
RESOURCES="${1:-10000}"
SYNCS="${2:-500}"
SEED="${3:-42}"
# compile the reliability module and write its test classpath (reactor modules as target dirs)
mvn -q -B -pl gitops-reliability -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/soak.classpath -Dmdep.includeScope=test
CP="gitops-reliability/target/test-classes:$(cat gitops-reliability/target/soak.classpath)"
exec java -Xmx1g -cp "$CP" dev.gitops.reliability.Soak "$RESOURCES" "$SYNCS" "$SEED"
