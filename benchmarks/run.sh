#!/usr/bin/env bash
# Runs every benchmark (B1 JMH, B2 scale harness, S1 store, C1 cluster assignment, B3 CLI) and writes benchmarks/results/latest.json
# and benchmarks/results/latest.md. Usage: benchmarks/run.sh [N list for B2, default 1000,10000,100000]
# Budget: under 15 minutes on a 2-core machine. Nothing here runs during `mvn verify`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. "$ROOT/benchmarks/b3-repo.sh"
NS=${1:-1000,10000,100000}
CLI_NS=${CLI_NS:-1000,10000}
# S1: the store in a first, a no-change and a one-change sync; STORE_N=10000 is the issue's row
STORE_N=${STORE_N:-2000}
OUT="$ROOT/benchmarks/results"
RAW="$OUT/raw"
mkdir -p "$RAW"
JAR="$ROOT/benchmarks/target/benchmarks.jar"
CLI="$ROOT/gitops-cli/target/gitops.jar"
START=$(date +%s)

echo "== build (no tests)"
mvn -q -B -o package -DskipTests -pl benchmarks,gitops-cli -am

echo "== machine"
{
  echo "{"
  echo "  \"nproc\": $(nproc),"
  echo "  \"memTotalKb\": $(awk '/MemTotal/ {print $2}' /proc/meminfo),"
  echo "  \"cpu\": \"$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo | tr -d '"')\","
  echo "  \"java\": \"$(java -version 2>&1 | tr '\n' ' ' | tr -d '"')\","
  echo "  \"git\": \"$(git --version)\","
  echo "  \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\""
  echo "}"
} > "$RAW/machine.json"

echo "== B1 merge vs JSON-patch peers (JMH, 1 fork)"
java -jar "$JAR" MergeBenchmark -f 1 -wi 10 -i 5 -w 1s -r 1s -rf json -rff "$RAW/jmh.json" > "$RAW/jmh.txt" 2>&1 \
  || { tail -50 "$RAW/jmh.txt"; exit 1; }
tail -40 "$RAW/jmh.txt"
java -cp "$JAR" dev.gitops.benchmarks.PatchSizes "$RAW/patch-sizes.json"

echo "== B2 scale harness (N = $NS)"
# The heap is committed and touched before the harness starts (-Xms = -Xmx, AlwaysPreTouch: ~20 s for
# 8 GB here), so no sync pays the kernel's first touch of a page. With a growing heap, G1 hands the
# steady one-file resyncs eden regions never touched before, page after page, for a hundred rounds
# and more: they took 60-90 ms in stretches between young collections, ~35 ms in between, on hosts
# where a first touch is dear (12-05: 2.5 us a 4 KB page). A long-running reconciler's heap is
# touched; the cold sync on a touched heap is faster too (1.9 against 3.0 s at 10k), so the ratios
# become stricter for it, not looser. See "Looked at again on 12-05, 05:00" in README.md.
# 8 GB, or two thirds of a smaller machine's memory (a heap touched whole must fit in it); B2_HEAP_MB sets it.
mem_mb=$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)
B2_HEAP_MB=${B2_HEAP_MB:-$(( mem_mb * 2 / 3 < 8192 ? mem_mb * 2 / 3 : 8192 ))}
echo "   (heap ${B2_HEAP_MB} MB, committed and touched first)"
java -Xms${B2_HEAP_MB}m -Xmx${B2_HEAP_MB}m -XX:+AlwaysPreTouch -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$JAR" dev.gitops.benchmarks.ScaleHarness \
  --n "$NS" --out "$RAW/scale.json"

echo "== S1 store: first, no-change and one-change sync (N = $STORE_N changes)"
java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$JAR" dev.gitops.benchmarks.StoreBench \
  --n "$STORE_N" --out "$RAW/store.json"
cat "$RAW/store.json"

echo "== C1 cluster assignment by simulation (100,000 targets over 10..1,000 members)"
java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$JAR" dev.gitops.benchmarks.AssignmentBench \
  --out "$RAW/assignment.json"

echo "== B3 CLI (files provider, N = $CLI_NS)"
TIME=/usr/bin/time
if [ ! -x "$TIME" ]; then
  echo "installing GNU time"; apt-get install -y -q time >/dev/null
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# one whole-process run: prints "<ms> <peak RSS kB> <exit code>". The peak RSS is the sum of the
# peak RSS (VmHWM) of every `java` process in the command's tree, sampled every 0.1 s (a one-shot
# `gitops` command is two JVMs: the one started and its C1-only child, see docs/cli.md), or GNU
# time's figure (the largest single process) when that is larger. The sampling runs beside the
# command and the time stops when the command ends: a loop that samples and then sleeps 0.1 s
# noticed the end up to 0.1 s late (a no-change sync measured 1.06-1.28 s that way against 0.98-1.03 s).
hwm_samples() {
  local root=$1 stack p k v f kids=() tick
  # the 0.1 s between samples is a read timing out on a pipe no one writes, not a `sleep` forked per
  # sample, and a status file is read up to its VmHWM line: the sampler took 0.29 s of CPU in 3 s
  # beside two JVMs that way, 0.10 s this way (on 2 cores it ran beside the command it measured)
  exec {tick}<> <(:)
  while kill -0 "$root" 2>/dev/null; do
    stack=("$root")
    while [ "${#stack[@]}" -gt 0 ]; do
      p=${stack[-1]}; unset 'stack[-1]'
      { read -r k < "/proc/$p/comm"; } 2>/dev/null || k=
      if [ "$k" = "java" ]; then
        { while read -r k v _; do [ "$k" = "VmHWM:" ] && { echo "$p $v"; break; }; done < "/proc/$p/status"; } 2>/dev/null
      fi
      for f in /proc/"$p"/task/*/children; do
        # the file has no final newline: read reports end of file but has set the array
        kids=(); { read -r -a kids < "$f"; } 2>/dev/null; stack+=("${kids[@]}")
      done
    done
    read -r -t 0.1 -u "$tick" _ || true
  done
  exec {tick}<&-
}
measure() {
  local log="$WORK/time.log" t0 t1 rc tp sampler largest tree
  # write back what earlier steps left dirty first, so that no command pays for another's writes
  sync
  t0=$(date +%s%N)
  set +e
  "$TIME" -v -o "$log" "$@" >"$WORK/out.log" 2>&1 &
  tp=$!
  hwm_samples "$tp" > "$WORK/hwm.log" &
  sampler=$!
  wait "$tp"
  rc=$?
  t1=$(date +%s%N)
  # stopped, not waited for: it would sample until its next check noticed the end (or follow a
  # reused pid); it writes whole lines, so what it wrote is read as written
  kill "$sampler" 2>/dev/null
  wait "$sampler" 2>/dev/null
  set -e
  # VmHWM only grows: a process's last sample is its peak
  tree=$(awk '{ peak[$1] = $2 } END { s = 0; for (p in peak) s += peak[p]; print s }' "$WORK/hwm.log")
  largest=$(awk '/Maximum resident set size/ {print $6}' "$log")
  [ "$tree" -ge "$largest" ] || tree=$largest
  echo "$(( (t1 - t0) / 1000000 )) $tree $rc"
}
# commits a one-line change to a file not changed before (f7, f8, f9 of conf/d0), then returns
one_file_change() {
  local repo=$1
  ONE_FILE_SEQ=$(( ${ONE_FILE_SEQ:-6} + 1 ))
  echo "changed" >> "$repo/conf/d0/f$ONE_FILE_SEQ.conf"
  git -C "$repo" -c gc.auto=0 -c user.name=b -c user.email=b@x commit -q -am "change f$ONE_FILE_SEQ"
}
# the median of the numbers given (the lower middle of an even count)
median_of() {
  printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"
}
# three runs of a command: prints "<median ms> <largest peak RSS kB of the three> <worst exit code>";
# with "median3 PREP ARG -- CMD...", PREP ARG runs before each run (not measured)
median3() {
  local prep=() times=() worst=0 top=0 ms rss rc
  if [ "$#" -gt 2 ] && [ "$3" = "--" ]; then prep=("$1" "$2"); shift 3; fi
  for _ in 1 2 3; do
    [ "${#prep[@]}" = 0 ] || "${prep[@]}" >/dev/null
    read -r ms rss rc < <(measure "$@")
    [ "$rc" = 0 ] || worst=$rc
    [ "$rss" -le "$top" ] || top=$rss
    times+=("$ms")
  done
  echo "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p) $top $worst"
}
{
  echo "{"
  read -r ms rss rc < <(measure java -jar "$CLI" --version)
  echo "  \"startup\": {\"command\": \"java -jar gitops-cli/target/gitops.jar --version\", \"ms\": $ms, \"peakRssKb\": $rss},"
  read -r ms rss rc < <(measure java -jar "$CLI" --help)
  echo "  \"help\": {\"command\": \"java -jar gitops-cli/target/gitops.jar --help\", \"ms\": $ms, \"peakRssKb\": $rss},"
  echo "  \"rows\": ["
  first=1
  for n in ${CLI_NS//,/ }; do
    repo="$WORK/repo-$n"; target="$WORK/target-$n"
    b3_repo "$repo" "$n"
    # b3_repo's git gc just freed the 10,000 loose objects' inodes (and the row before its copies'):
    # ext4 without a journal skips inodes freed in the last 60 s when it allocates, which made the
    # first round's commands pay for a deletion none of them made (git clone 2.8 s in the first
    # round against 0.3 s in the others); a minute's wait after writing back lets them all start clean
    sync; sleep 60
    # peers in the same run: git clone of the repository, and the durable-copy floor (temp + fsync +
    # rename from 8 threads, one fsync per directory) writing the same files, each a whole process.
    # Three rounds of the three, the order rotating (the first of a round runs closest to what ran
    # before it), every copy kept until the row ends: deleting a copy right before the next one is
    # measured charges the next with the deletion (on a file system without a journal, ext4 skips
    # inodes freed in the last minute when it allocates: a first sync run right after removing the
    # clone and the floor took 11.1 s against 6.9 s after a pause); the medians are compared.
    clones=(); floors=(); floor_inners=(); firsts=(); first_rss=0; rc1=0
    for round in 0 1 2; do
      for step in 0 1 2; do
        case $(( (round + step) % 3 )) in
          0) read -r ms rss rc0 < <(measure git clone -q "$repo" "$WORK/clone-$n-$round")
             [ "$rc0" = 0 ] || { echo "git clone of the B3 repository failed:"; cat "$WORK/out.log"; exit 1; }
             clones+=("$ms") ;;
          1) read -r ms rss rc0 < <(measure java -cp "$JAR" dev.gitops.benchmarks.DurableCopyFloor "$repo" "$WORK/floor-$n-$round")
             [ "$rc0" = 0 ] || { echo "the durable-copy floor failed:"; cat "$WORK/out.log"; exit 1; }
             floors+=("$ms"); floor_rss=$rss; floor_inners+=("$(awk '{print $1}' "$WORK/out.log")") ;;
          2) read -r ms rss rc < <(measure java -jar "$CLI" sync --repo "$repo" --target "$target-$round")
             [ "$rc" = 0 ] || rc1=$rc
             [ "$rss" -le "$first_rss" ] || first_rss=$rss
             firsts+=("$ms") ;;
        esac
      done
    done
    clone_ms=$(median_of "${clones[@]}"); floor_ms=$(median_of "${floors[@]}")
    floor_inner_ms=$(median_of "${floor_inners[@]}"); first_ms=$(median_of "${firsts[@]}")
    sync_cmd=(java -jar "$CLI" sync --repo "$repo" --target "$target-0")
    # no-change and one-file-change: three whole processes each, the median time and the largest
    # peak RSS (one run of a few seconds moves by 10% or more); each one-file run changes another file
    read -r same_ms same_rss rc2 < <(median3 "${sync_cmd[@]}")
    read -r one_ms one_rss rc3 < <(median3 one_file_change "$repo" -- "${sync_cmd[@]}")
    [ "$first" = 1 ] || echo ","
    first=0
    echo "    {\"n\": $n, \"gitCloneRunsMs\": [$(IFS=,; echo "${clones[*]}")], \"floorRunsMs\": [$(IFS=,; echo "${floors[*]}")], \"firstSyncRunsMs\": [$(IFS=,; echo "${firsts[*]}")],"
    echo "     \"gitCloneMs\": $clone_ms, \"floorMs\": $floor_ms, \"floorInnerMs\": $floor_inner_ms, \"floorPeakRssKb\": $floor_rss,"
    echo "     \"firstSyncMs\": $first_ms, \"firstSyncPeakRssKb\": $first_rss, \"firstExit\": $rc1,"
    echo "     \"noChangeSyncMs\": $same_ms, \"noChangeSyncPeakRssKb\": $same_rss, \"noChangeExit\": $rc2,"
    echo "     \"oneFileSyncMs\": $one_ms, \"oneFileSyncPeakRssKb\": $one_rss, \"oneFileExit\": $rc3,"
    echo "     \"command\": \"java -jar gitops-cli/target/gitops.jar sync --repo REPO --target DIR\"}"
    rm -rf "$repo" "$target"-? "$WORK"/clone-* "$WORK"/floor-*
  done
  echo "  ]"
  echo "}"
} > "$RAW/cli.json"
cat "$RAW/cli.json"

echo "== report"
java -cp "$JAR" dev.gitops.benchmarks.Report "$RAW" "$OUT/latest.json" "$OUT/latest.md"
cat "$OUT/latest.md"
echo "total $(( $(date +%s) - START )) s"
