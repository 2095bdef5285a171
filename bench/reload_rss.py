#!/usr/bin/env python3
"""Daemon RSS at start and at reload with a large config (issue 6: RSS <= 60 MB at 10,000 targets).

Writes scale.py's 10,000-target config (http targets, `histograms: per_kind`), but with a 1 h
interval and every target on one closed loopback port, so that probing costs next to nothing
(~3 refused connections a second) and what is measured is the config: the daemon's peak RSS
(VmHWM) up to /-/healthy and its RSS then, then for each of --reloads POST /-/reload calls the
peak during the reload (VmHWM reset through /proc/<pid>/clear_refs before it) and the RSS after.
A 0-target config gives the daemon's own floor. Nothing leaves 127.0.0.1.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

import benchlib

MIB = 1024.0


def write_config(path, targets, port):
    with open(path, "w") as f:
        f.write("global:\n  interval: 3600000ms\n  timeout: 10000ms\n"
                "  ca_file: /tmp/gomodprobe-scale-pki/ca.pem\n"
                "  max_concurrent_probes: 2000\n  histograms: per_kind\ntargets:\n")
        for i in range(targets):
            f.write(f"  - name: t{i}\n    kind: http\n    url: https://127.0.0.1:{port}\n"
                    f"    path: /t/{i}\n    http_versions: [\"2\"]\n    ip_protocol: ip4\n")


def reset_hwm(pid):
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def measure(args, workdir, targets):
    cfg = os.path.join(workdir, f"gomodprobe-{targets}.yml")
    write_config(cfg, targets, benchlib.free_port())  # nothing listens there
    port = benchlib.free_port()
    log = os.path.join(workdir, "gomodprobe.log")
    proc = subprocess.Popen([args.gomodprobe, "--config.file", cfg, "--web.listen-address",
                             f"127.0.0.1:{port}", "--log.level", "warn"],
                            stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    row = {}
    try:
        benchlib.wait_http(f"http://127.0.0.1:{port}/-/healthy", proc, timeout=120, log=log)
        time.sleep(1)  # the daemon trims after it reports ready
        row["start peak"] = benchlib.status_kib(proc.pid, "VmHWM") / MIB
        row["after start"] = benchlib.status_kib(proc.pid, "VmRSS") / MIB
        peaks = []
        for _ in range(args.reloads):
            reset_hwm(proc.pid)
            req = urllib.request.Request(f"http://127.0.0.1:{port}/-/reload", method="POST")
            with urllib.request.urlopen(req, timeout=120) as r:
                if r.status != 200:
                    raise RuntimeError(f"reload answered {r.status}")
            peaks.append(benchlib.status_kib(proc.pid, "VmHWM") / MIB)
        row["reload peak (max)"] = max(peaks) if peaks else 0.0
        row["after reloads"] = benchlib.status_kib(proc.pid, "VmRSS") / MIB
    finally:
        benchlib.stop(proc)
    return row


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--gomodprobe", default=os.path.join(here, "..", "build", "src", "gomodprobe"))
    p.add_argument("--targets", "-n", type=int, default=10000)
    p.add_argument("--reloads", type=int, default=3)
    args = p.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load average at start {benchlib.loadavg()}")
    with tempfile.TemporaryDirectory(prefix="gomodprobe-reload-rss-") as workdir:
        rows = {n: measure(args, workdir, n) for n in (0, args.targets)}
    print(f"\n{'RSS MiB':<28}" + "".join(f"{f'{n} targets':>14}" for n in rows))
    for key in rows[0]:
        print(f"{key:<28}" + "".join(f"{rows[n][key]:>14.1f}" for n in rows))
    peak = max(rows[args.targets]["start peak"], rows[args.targets]["reload peak (max)"])
    print(f"\ngoal RSS <= 60 MB (57.2 MiB) at {args.targets} targets, start and reload peaks: "
          f"{'met' if peak <= 60e6 / 2**20 else 'NOT met'} ({peak:.1f} MiB)")
    print(f"load average at end {benchlib.loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
