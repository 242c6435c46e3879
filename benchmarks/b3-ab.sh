#!/usr/bin/env bash
# A/B of two builds of the gitops CLI on B3's repository (files of 1 KB, 100 per directory, as
# run.sh makes it): the no-change and the one-file-change `gitops sync`, whole processes.
#
#   benchmarks/b3-ab.sh A.jar B.jar [rounds (default 6)] [files (default 10000)]
#
# Each jar syncs a target (and store) of its own, so neither takes what the other recorded. Each
# round commits a one-line change and syncs it with each jar (measured), then runs one unmeasured
# no-change sync with each jar, which computes and records the no-change plan id, then a measured
# no-change sync with each jar, which takes it: so that neither jar's no-change sync is the first
# after a new commit (an A/B that alternated the two jars' no-change runs right after one-file
# syncs measured that order, not the change: benchmarks/README.md, "the no-change path on both
# cores"). The jars' order alternates between rounds. Prints each run, then the medians.
#
# A_OPTS and B_OPTS, when set, are JVM options for the `java` running each jar (for an A/B of the
# options the one-shot child is given: `A_OPTS= B_OPTS=-Xmn32m benchmarks/b3-ab.sh g.jar g2.jar`).
# Give each its own copy of the jar: a jar keeps one class-data archive, made for the child's flags
# (docs/cli.md), so two option sets on one jar would make it again at every run. A build since 12-06
# is two jars: copy its gitops.jar with the gitops-all.jar beside it into a directory of their own
# and give that gitops.jar (or give its gitops-all.jar alone, which runs every command itself).
set -euo pipefail
. "$(dirname "$0")/b3-repo.sh"
b3_ab_setup 6 "$@"
if [ "$A" = "$B" ] && [ "${A_OPTS:-}" != "${B_OPTS:-}" ]; then
  echo "A_OPTS and B_OPTS differ but A and B are one jar ($A): give each its own copy" >&2
  exit 2
fi

sync_with() {  # jar target [label]: one sync; with a label, its time is appended to the results
  local opts=()
  if [ "$1" = "$A" ]; then read -r -a opts <<< "${A_OPTS:-}"; else read -r -a opts <<< "${B_OPTS:-}"; fi
  if [ "$#" -gt 2 ]; then
    "$TIME" -a -o "$WORK/results" -f "$3 %e %U %S" java "${opts[@]}" -jar "$1" sync --repo "$repo" --target "$2" \
      > "$WORK/out.log" 2>&1 || { cat "$WORK/out.log"; exit 1; }
  else
    java "${opts[@]}" -jar "$1" sync --repo "$repo" --target "$2" > "$WORK/out.log" 2>&1 \
      || { cat "$WORK/out.log"; exit 1; }
  fi
}
echo "first syncs (not measured)"
sync_with "$A" "$WORK/target-A"
sync_with "$B" "$WORK/target-B"

for ((r = 1; r <= ROUNDS; r++)); do
  if [ $(( r % 2 )) = 1 ]; then order="A B"; else order="B A"; fi
  echo "changed $r" >> "$repo/conf/d0/f$(( r % 100 )).conf"
  git -C "$repo" -c gc.auto=0 -c user.name=b -c user.email=b@x commit -q -am "change $r"
  for j in $order; do jar=$A; [ "$j" = B ] && jar=$B; sync_with "$jar" "$WORK/target-$j" "one-file $j"; done
  for j in $order; do jar=$A; [ "$j" = B ] && jar=$B; sync_with "$jar" "$WORK/target-$j"; done
  for j in $order; do jar=$A; [ "$j" = B ] && jar=$B; sync_with "$jar" "$WORK/target-$j" "no-change $j"; done
  echo "round $r of $ROUNDS"
done

echo "== runs (kind jar wall-s user-s sys-s)"
cat "$WORK/results"
echo "== medians (wall s, user s) of $ROUNDS rounds; A = $A${A_OPTS:+ ($A_OPTS)}, B = $B${B_OPTS:+ ($B_OPTS)}"
for kind in no-change one-file; do
  for j in A B; do
    walls=$(awk -v k="$kind" -v j="$j" '$1 == k && $2 == j {print $3}' "$WORK/results" | sort -n)
    users=$(awk -v k="$kind" -v j="$j" '$1 == k && $2 == j {print $4}' "$WORK/results" | sort -n)
    median() { awk '{v[NR] = $1} END {printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
    echo "$kind $j wall $(median <<< "$walls") user $(median <<< "$users")"
  done
done
