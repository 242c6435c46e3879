# Sourced by run.sh and b3-ab.sh: B3's repository.
# b3_repo DIR N: a Git repository in DIR (branch main, one commit) of N files of about 1 KB,
# conf/d<i/100>/f<i>.conf, 100 per directory.
b3_repo() {
  local repo=$1 n=$2 i d
  mkdir -p "$repo"
  for ((i = 0; i < n; i++)); do
    d="$repo/conf/d$(( i / 100 ))"; mkdir -p "$d"
    printf 'service-%06d\n%s\n' "$i" "$(head -c 1000 /dev/zero | tr '\0' 'x')" > "$d/f$i.conf"
  done
  git -C "$repo" init -q -b main && git -C "$repo" add -A
  git -C "$repo" -c user.name=b -c user.email=b@x commit -q -m gen
}
