#!/usr/bin/env bash
# A stand-in for the terraform / tofu binary, for tests: no real binary can be installed here.
# It records every call (argv, working directory, the automation environment, the content of
# every -var-file) as one JSON line in $FAKE_TF_SCENARIO/calls.jsonl and replays the response the
# test wrote for the command:
#   $FAKE_TF_SCENARIO/responses/<command>.<n>/  (the n-th call of that command), else
#   $FAKE_TF_SCENARIO/responses/<command>/
# holding any of: stdout, stderr, exit (a number), sleep (seconds before answering),
# state (a state file copied to ./terraform.tfstate after answering, as an apply would),
# no-data-dir (init makes no .terraform/, as for a configuration of built-in providers only).
# Commands: version, init, workspace-select, plan, show-plan, show-state, state-pull, state-rm,
# apply, force-unlock (state-rm: its "state" is the state file left after the removal). init makes .terraform/; plan writes its -out file; show of a plan file and apply
# refuse a plan file that does not exist; plan and apply refuse to run without -input=false.
set -u
scenario="${FAKE_TF_SCENARIO:-}"
if [ -z "$scenario" ]; then
  echo "fake terraform: FAKE_TF_SCENARIO is not set" >&2
  exit 97
fi

esc() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  printf '%s' "$s"
}

cmd=none
if [ $# -gt 0 ]; then
  case "$1" in
    show)
      cmd=show-state
      for a in "${@:2}"; do case "$a" in -*) ;; *) cmd=show-plan ;; esac; done ;;
    state|workspace)
      if [ $# -gt 1 ]; then cmd="$1-$2"; else cmd=$1; fi ;;
    *) cmd=$1 ;;
  esac
fi

argv=""
varfiles=""
last=""
for a in "$@"; do
  argv+="${argv:+,}\"$(esc "$a")\""
  case "$a" in
    -var-file=*)
      p=${a#-var-file=}
      if [ -r "$p" ]; then c=$(cat "$p"); else c="<unreadable>"; fi
      varfiles+="${varfiles:+,}\"$(esc "$p")\":\"$(esc "$c")\"" ;;
    -*) ;;
    *) last=$a ;;
  esac
done
env="\"TF_IN_AUTOMATION\":\"$(esc "${TF_IN_AUTOMATION:-}")\",\"TF_INPUT\":\"$(esc "${TF_INPUT:-}")\",\"TF_DATA_DIR\":\"$(esc "${TF_DATA_DIR:-}")\""
env+=",\"CHECKPOINT_DISABLE\":\"$(esc "${CHECKPOINT_DISABLE:-}")\""
printf '{"command":"%s","argv":[%s],"cwd":"%s","env":{%s},"var_files":{%s}}\n' \
  "$cmd" "$argv" "$(esc "$PWD")" "$env" "$varfiles" >> "$scenario/calls.jsonl"

n=1
if [ -f "$scenario/count-$cmd" ]; then n=$(( $(cat "$scenario/count-$cmd") + 1 )); fi
echo "$n" > "$scenario/count-$cmd"
resp="$scenario/responses/$cmd.$n"
[ -d "$resp" ] || resp="$scenario/responses/$cmd"

case "$cmd" in
  plan|apply)
    case " $* " in *" -input=false "*) ;; *) echo "fake terraform: $cmd without -input=false" >&2; exit 96 ;; esac ;;
esac
if [ "$cmd" = show-plan ] || [ "$cmd" = apply ]; then
  if [ ! -f "$last" ]; then
    echo "Error: Failed to load plan file: open $last: no such file or directory" >&2
    exit 1
  fi
fi

if [ -f "$resp/sleep" ]; then sleep "$(cat "$resp/sleep")"; fi
code=0
if [ -f "$resp/exit" ]; then code=$(tr -d '[:space:]' < "$resp/exit"); fi
if [ "$cmd" = plan ] && { [ "$code" = 0 ] || [ "$code" = 2 ]; }; then
  for a in "$@"; do
    case "$a" in -out=*) printf 'fake saved plan %s\n' "$n" > "${a#-out=}" ;; esac
  done
fi
# init makes .terraform/, unless the configuration needs nothing installed (built-in providers, no modules)
if [ "$cmd" = init ] && [ "$code" = 0 ] && [ ! -f "$resp/no-data-dir" ]; then mkdir -p .terraform; fi
if [ -f "$resp/stdout" ]; then cat "$resp/stdout"; fi
if [ -f "$resp/stderr" ]; then cat "$resp/stderr" >&2; fi
if [ -f "$resp/state" ]; then cp "$resp/state" terraform.tfstate; fi
exit "$code"
