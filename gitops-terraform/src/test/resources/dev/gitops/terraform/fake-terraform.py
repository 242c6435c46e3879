#!/usr/bin/env python3
# A stand-in for the terraform / tofu binary, for tests: no real binary can be installed here.
# It records every call (argv, working directory, selected environment, variable files) to
# $FAKE_TF_SCENARIO/calls.jsonl and replays the response the test wrote for the command:
#   $FAKE_TF_SCENARIO/responses/<command>.<n>/  (the n-th call of that command), else
#   $FAKE_TF_SCENARIO/responses/<command>/
# holding any of: stdout, stderr, exit (a number), sleep (seconds before answering),
# state (a state file written to ./terraform.tfstate after answering).
# Commands: version, init, workspace-select, plan, show-plan, show-state, state-pull, apply,
# force-unlock. plan writes its -out file; show and apply refuse a plan file that does not exist.
import json, os, sys, time

scenario = os.environ.get("FAKE_TF_SCENARIO")
if not scenario:
    sys.stderr.write("fake terraform: FAKE_TF_SCENARIO is not set\n")
    sys.exit(97)
args = sys.argv[1:]

def command():
    if not args:
        return "none"
    if args[0] == "show":
        rest = [a for a in args[1:] if not a.startswith("-")]
        return "show-plan" if rest else "show-state"
    if args[0] in ("state", "workspace") and len(args) > 1:
        return args[0] + "-" + args[1]
    return args[0]

cmd = command()
var_files = {}
for a in args:
    if a.startswith("-var-file="):
        p = a[len("-var-file="):]
        try:
            with open(p) as f:
                var_files[p] = f.read()
        except OSError as e:
            var_files[p] = "<unreadable: %s>" % e
env = {k: v for k, v in os.environ.items() if k.startswith("TF_") or k == "CHECKPOINT_DISABLE"}
with open(os.path.join(scenario, "calls.jsonl"), "a") as log:
    log.write(json.dumps({"command": cmd, "argv": args, "cwd": os.getcwd(), "env": env,
                          "var_files": var_files}) + "\n")

count_file = os.path.join(scenario, "count-" + cmd)
n = 1
if os.path.exists(count_file):
    with open(count_file) as f:
        n = int(f.read()) + 1
with open(count_file, "w") as f:
    f.write(str(n))

base = os.path.join(scenario, "responses")
resp = os.path.join(base, "%s.%d" % (cmd, n))
if not os.path.isdir(resp):
    resp = os.path.join(base, cmd)

def read(name, default=None):
    p = os.path.join(resp, name)
    if not os.path.exists(p):
        return default
    with open(p) as f:
        return f.read()

if cmd in ("plan", "apply") and "-input=false" not in args:
    sys.stderr.write("fake terraform: %s without -input=false\n" % cmd)
    sys.exit(96)
if cmd == "show-plan" or cmd == "apply":
    plan_file = [a for a in args[1:] if not a.startswith("-")][-1]
    if not os.path.exists(plan_file):
        sys.stderr.write("Error: Failed to load plan file: open %s: no such file or directory\n" % plan_file)
        sys.exit(1)

sleep = read("sleep")
if sleep:
    time.sleep(float(sleep))
exit_code = int((read("exit", "0") or "0").strip())
if cmd == "plan" and exit_code in (0, 2):
    for a in args:
        if a.startswith("-out="):
            with open(a[len("-out="):], "w") as f:
                f.write("fake saved plan %d\n" % n)
out = read("stdout", "")
sys.stdout.write(out)
sys.stdout.flush()
err = read("stderr", "")
sys.stderr.write(err)
state = read("state")
if state is not None:
    with open("terraform.tfstate", "w") as f:
        f.write(state)
sys.exit(exit_code)
