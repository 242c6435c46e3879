#!/usr/bin/env python3
"""Handover times of `gitops run --cluster etcd://...`, measured by hand (not run in CI).

Starts one etcd on loopback (free ports, a temporary data directory), TARGETS local Git
repositories and MEMBERS agents (`java -jar gitops.jar run`) sharing one configuration, then times, by polling
the ownership keys with etcdctl every 50 ms:
  kill -9 of one member      -> until its targets are owned by the others
  restart of that member     -> until its share is back
  SIGSTOP of one member for TTL + 5 s, then SIGCONT -> until the others own its targets, and what
                                the paused member logs when it wakes (it must write nothing)
  SIGTERM of one member      -> until its targets are owned by the others
Everything it starts is stopped at the end; it binds only 127.0.0.1.

Usage: benchmarks/scale-out-handover.py [JAR=gitops-cli/target/gitops.jar] [MEMBERS=3] [TARGETS=12]
"""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

JAR = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "gitops-cli/target/gitops.jar")
MEMBERS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
TARGETS = int(sys.argv[3]) if len(sys.argv) > 3 else 12
TTL = 10  # the agent's default lease
PREFIX = "/gitops/default/owners/"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def owners(endpoint):
    out = subprocess.run(["etcdctl", "--endpoints", endpoint, "-w", "json", "get", "--prefix", PREFIX],
                         capture_output=True, text=True, env=dict(os.environ, ETCDCTL_API="3"), check=True).stdout
    result = {}
    for kv in json.loads(out).get("kvs", []):
        target = base64.b64decode(kv["key"]).decode()[len(PREFIX):]
        result[target] = json.loads(base64.b64decode(kv["value"]))["member"]
    return result


def wait(what, condition, endpoint, limit=60.0):
    start = time.monotonic()
    while time.monotonic() - start < limit:
        o = owners(endpoint)
        if condition(o):
            return time.monotonic() - start, o
        time.sleep(0.05)
    raise SystemExit(f"gave up after {limit} s waiting for {what}: {owners(endpoint)}")


def main():
    work = tempfile.mkdtemp(prefix="gitops-handover-")
    procs = {}
    etcd = None
    try:
        client, peer = free_port(), free_port()
        endpoint = f"http://127.0.0.1:{client}"
        etcd = subprocess.Popen(["etcd", "--name", "h", "--data-dir", f"{work}/etcd",
                                 "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
                                 "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                                 "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                                 "--initial-cluster", f"h=http://127.0.0.1:{peer}", "--log-level", "warn"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        yaml = ["agent: {stateDir: state}", "targets:"]
        for i in range(TARGETS):
            repo = f"{work}/repo{i}"
            os.makedirs(repo)
            subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
            with open(f"{repo}/hello.txt", "w") as f:
                f.write(f"target {i}\n")
            subprocess.run(["git", "-C", repo, "add", "."], check=True)
            subprocess.run(["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "hello"],
                           check=True)
            yaml += [f"  - name: t{i}", f"    source: {{url: \"{repo}\"}}",
                     f"    provider: {{type: files, directory: live/t{i}}}", "    interval: 2s"]
        with open(f"{work}/agent.yaml", "w") as f:
            f.write("\n".join(yaml) + "\n")

        def start(member):
            log = open(f"{work}/{member}.log", "a")
            procs[member] = subprocess.Popen(["java", "-jar", JAR, "run", "--config", f"{work}/agent.yaml",
                                              "--cluster", f"etcd://127.0.0.1:{client}", "--member", member, "--verbose"],
                                             stdout=log, stderr=subprocess.STDOUT)

        members = [f"m{i + 1}" for i in range(MEMBERS)]
        for m in members:
            start(m)
        took, o = wait("every target owned", lambda o: len(o) == TARGETS and set(o.values()) == set(members),
                       endpoint, 120)
        print(f"start: all {TARGETS} targets owned by {MEMBERS} members after {took:.1f} s")

        victim = members[-1]
        theirs = {t for t, m in o.items() if m == victim}
        procs[victim].kill()  # SIGKILL
        took, _ = wait("kill -9 handover", lambda o: all(o.get(t) not in (None, victim) for t in theirs), endpoint)
        print(f"kill -9 {victim}: its {len(theirs)} targets owned by the others after {took:.1f} s (TTL {TTL} s)")

        start(victim)
        took, o = wait("restart", lambda o: {t for t, m in o.items() if m == victim} == theirs, endpoint)
        print(f"restart {victim}: its {len(theirs)} targets back after {took:.1f} s")

        sleeper = members[0]
        theirs = {t for t, m in o.items() if m == sleeper}
        procs[sleeper].send_signal(signal.SIGSTOP)
        took, _ = wait("SIGSTOP handover", lambda o: all(o.get(t) not in (None, sleeper) for t in theirs), endpoint)
        print(f"SIGSTOP {sleeper}: its {len(theirs)} targets owned by the others after {took:.1f} s")
        time.sleep(max(0.0, TTL + 5 - took))
        mark = os.path.getsize(f"{work}/{sleeper}.log")
        procs[sleeper].send_signal(signal.SIGCONT)
        took, _ = wait("the sleeper's return", lambda o: any(m == sleeper for m in o.values()), endpoint)
        print(f"SIGCONT {sleeper}: owns targets again after {took:.1f} s (rejoins with a new lease, then settles)")
        with open(f"{work}/{sleeper}.log") as f:
            f.seek(mark)
            woke = [l.rstrip() for l in f if any(w in l.lower() for w in ("fenced", "lost", "lease", "stopp", "left",
                                                                          "joined", "warn", "error"))]
        print(f"  what {sleeper} logged after waking about leases, fencing and stops ({len(woke)} lines, the first 15):")
        for line in woke[:15]:
            print("    " + line[:200])

        leaver = members[1]
        theirs = {t for t, m in owners(endpoint).items() if m == leaver}
        procs[leaver].terminate()  # SIGTERM: graceful, revokes the lease
        took, _ = wait("SIGTERM handover", lambda o: all(o.get(t) not in (None, leaver) for t in theirs), endpoint)
        print(f"SIGTERM {leaver}: its {len(theirs)} targets owned by the others after {took:.1f} s")
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)
                p.kill()
                p.wait()
        if etcd is not None:
            etcd.kill()
            etcd.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
