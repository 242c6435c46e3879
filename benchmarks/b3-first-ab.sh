#!/usr/bin/env bash
# A/B of two builds of the gitops CLI on B3's first sync: 10,000 files of 1 KB (100 per directory,
# as run.sh makes them) synced into an empty target, whole processes.
#
#   benchmarks/b3-first-ab.sh A.jar B.jar [rounds (default 4)] [files (default 10000)]
#
# Each jar first syncs a throwaway target (unmeasured: its class-data archive is made then). Each
# round then syncs a new target with each jar, the jars' order alternating between rounds, after a
# `sync` and a 5 s pause. Nothing is deleted until the end: on ext4 without a journal, inodes freed
# in the last minute slow the next ones made (benchmarks/README.md, "half of B3's gap was the
# measurement"). Prints each run, then the medians of wall time.
set -euo pipefail
. "$(dirname "$0")/b3-repo.sh"
b3_ab_setup 4 "$@"

jar_of() { if [ "$1" = A ]; then echo "$A"; else echo "$B"; fi; }
for j in A B; do
  java -jar "$(jar_of $j)" sync --repo "$repo" --target "$WORK/warm-$j" > "$WORK/out.log" 2>&1 \
    || { cat "$WORK/out.log"; exit 1; }
done
sleep 20
for ((r = 1; r <= ROUNDS; r++)); do
  if [ $(( r % 2 )) = 1 ]; then order="A B"; else order="B A"; fi
  for j in $order; do
    sync
    sleep 5
    "$TIME" -a -o "$WORK/results" -f "first $j %e %U %S" java -jar "$(jar_of $j)" sync --repo "$repo" \
      --target "$WORK/t-$j-$r" > "$WORK/out.log" 2>&1 || { cat "$WORK/out.log"; exit 1; }
  done
  echo "round $r of $ROUNDS"
done

echo "== runs (kind jar wall-s user-s sys-s)"
cat "$WORK/results"
echo "== medians (wall s) of $ROUNDS rounds; A = $A, B = $B"
for j in A B; do
  echo "first $j wall $(awk -v j="$j" '$2 == j {print $3}' "$WORK/results" | sort -n \
    | awk '{v[NR] = $1} END {printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')"
done
