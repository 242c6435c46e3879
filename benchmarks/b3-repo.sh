# Sourced by run.sh and b3-ab.sh: B3's repository.
# b3_repo DIR N: a packed Git repository in DIR (branch main, one commit) of N files of about 1 KB,
# conf/d<i/100>/f<i>.conf, 100 per directory.
b3_repo() {
  local repo=$1 n=$2 d
  mkdir -p "$repo"
  for ((d = 0; d * 100 < n; d++)); do mkdir -p "$repo/conf/d$d"; done
  # one awk for all the files (a shell loop forking per file took minutes at 10,000)
  # the path through the environment: awk -v would read backslashes in it as escapes
  B3_REPO="$repo" awk -v n="$n" 'BEGIN {
    repo = ENVIRON["B3_REPO"]
    x = sprintf("%1000s", ""); gsub(/ /, "x", x)
    for (i = 0; i < n; i++) {
      f = sprintf("%s/conf/d%d/f%d.conf", repo, int(i / 100), i)
      printf "service-%06d\n%s\n", i, x > f
      close(f)
    }
  }'
  git -C "$repo" init -q -b main && git -C "$repo" add -A
  # no automatic gc: after 10,000 loose objects `git commit` starts `git gc --auto` in the
  # background, which ran during the measurements and removed loose objects a `git clone` was
  # copying. The repository is packed here instead, before anything is measured, as a real one is.
  git -C "$repo" -c gc.auto=0 -c user.name=b -c user.email=b@x commit -q -m gen
  git -C "$repo" gc -q
}

# b3_ab_setup DEFAULT_ROUNDS "$@": the A/B scripts' common set-up. Reads A.jar B.jar [rounds] [files]
# into A, B, ROUNDS and N, checks GNU time (TIME), makes WORK (removed at exit) and B3's repository
# in $WORK/repo (repo).
b3_ab_setup() {
  local rounds=$1
  shift
  [ "$#" -ge 2 ] || { echo "usage: $0 A.jar B.jar [rounds] [files]" >&2; exit 2; }
  A=$(realpath "$1")
  B=$(realpath "$2")
  ROUNDS=${3:-$rounds}
  N=${4:-10000}
  TIME=/usr/bin/time
  [ -x "$TIME" ] || { echo "GNU time is needed at $TIME (apt-get install time)" >&2; exit 2; }
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  repo="$WORK/repo"
  b3_repo "$repo" "$N"
}
