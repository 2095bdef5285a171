#!/usr/bin/env python3
"""Scale benchmark: gomodprobe with 10,000 HTTPS targets on loopback, then half of them black-holed.

Everything listens on 127.0.0.1; nothing reaches the network. A loopback nginx (TLS 1.3 + HTTP/2,
one worker, several ports) serves the healthy targets https://127.0.0.1:<port>/t/<i>. Two runs,
one after the other, each with a fresh gomodprobe daemon (http kind, http_versions ["2"],
`histograms: per_kind`, interval 60 s → ~167 runs/s at 10,000 targets):

1. all targets healthy;
2. the odd-numbered targets point at "black holes": listeners that accept the TCP connection and
   never answer (the client's TLS ClientHello is read and dropped; the socket is closed only when
   the client gives up), so each such run lasts until its timeout and holds a socket meanwhile.
   The even-numbered (healthy) half is the same 5,000 targets in both runs.

Each run warms up (default one interval, so every target has run once), then measures for
`--duration` seconds (default 300): CPU (utime+stime of the daemon, /proc/<pid>/stat) per second
of the window, peak RSS (VmHWM, the whole life of the daemon including config parsing) and RSS at
the end, the scheduler lag (gomodprobe_scheduler_lag_seconds, difference of the histogram between
the window's ends: fraction of runs started within 100 ms, p99 by linear interpolation in the
bucket), /metrics (scraped every `--scrape-interval` seconds as Prometheus would: render time
measured from request to last byte, size; one scrape checked with `promtool check metrics`), and
per half: runs and failures (gomodprobe_probes_total, gomodprobe_probe_failures_total deltas per
target), the start lag of each target's last run (computed from
gomodprobe_probe_last_run_timestamp_seconds: every slot is anchor + FNV-1a(name) mod interval +
k·interval, so start − offset mod interval is the same for every target up to its lag; the
anchor is taken as the start of the tightest cluster), and the mean run duration.

Goals reported (a measurement: exits 0 whether or not they are met): CPU <= 1 core, RSS <= 60 MB,
scheduler lag p99 < 100 ms, /metrics renders < 100 ms and passes promtool; with half the targets
black-holed, the healthy half's lag and results unchanged.
"""

import argparse
import os
import re
import resource
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """Exposition text → {(name, frozenset(labels)): value}."""
    out = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        m = SAMPLE.match(line)
        if not m:
            continue
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def by_target(samples, name):
    """{target: summed value} of every sample of `name` with a target label."""
    out = {}
    for (n, labels), v in samples.items():
        if n != name:
            continue
        target = dict(labels).get("target")
        if target is not None:
            out[target] = out.get(target, 0.0) + v
    return out


def histogram(samples, name):
    """[(le, cumulative)] of an unlabelled histogram, sorted."""
    buckets = []
    for (n, labels), v in samples.items():
        if n == name + "_bucket" and len(labels) == 1:
            le = dict(labels)["le"]
            buckets.append((float("inf") if le == "+Inf" else float(le), v))
    return sorted(buckets)


def quantile(buckets, q):
    """Linear interpolation in cumulative buckets (as PromQL histogram_quantile)."""
    if not buckets or buckets[-1][1] <= 0:
        return float("nan")
    rank = q * buckets[-1][1]
    prev_le, prev_c = 0.0, 0.0
    for le, c in buckets:
        if c >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * ((rank - prev_c) / (c - prev_c) if c > prev_c else 0)
        prev_le, prev_c = le, c
    return prev_le


def fnv1a_ms(name, interval_ms):
    h = 14695981039346656037
    for b in name.encode():
        h ^= b
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h % interval_ms


def start_lags(last_run, interval):
    """Per target: start of the last run minus its planned slot, seconds (see module doc)."""
    ms = int(interval * 1000)
    phase = {t: (ts - fnv1a_ms(t, ms) / 1000.0) % interval for t, ts in last_run.items()}
    values = sorted(phase.values())
    if not values:
        return {}
    # The anchor: the phase after the largest circular gap (lags are small next to the interval).
    gaps = [(values[(i + 1) % len(values)] - values[i]) % interval for i in range(len(values))]
    anchor = values[(max(range(len(gaps)), key=gaps.__getitem__) + 1) % len(values)]
    return {t: (p - anchor) % interval for t, p in phase.items()}


def percentile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


class BlackHole:
    """Listeners that accept connections and never answer; a socket is closed when its client
    closes it. One thread, selectors."""

    def __init__(self, count):
        self.selector = selectors.DefaultSelector()
        self.listeners = []
        self.ports = []
        self.open = 0
        self.peak_open = 0
        self.accepted = 0
        for _ in range(count):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", 0))
            s.listen(4096)
            s.setblocking(False)
            self.selector.register(s, selectors.EVENT_READ, "listen")
            self.listeners.append(s)
            self.ports.append(s.getsockname()[1])
        self.stopping = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stopping:
            for key, _ in self.selector.select(timeout=0.5):
                sock = key.fileobj
                if key.data == "listen":
                    try:
                        conn, _ = sock.accept()
                    except OSError:
                        continue
                    conn.setblocking(False)
                    self.selector.register(conn, selectors.EVENT_READ, "conn")
                    self.accepted += 1
                    self.open += 1
                    self.peak_open = max(self.peak_open, self.open)
                    continue
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:  # the client gave up
                    self.selector.unregister(sock)
                    sock.close()
                    self.open -= 1

    def stop(self):
        self.stopping = True
        self.thread.join()
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()


class Window:
    """One run's readings."""

    def __init__(self, name):
        self.name = name
        self.scrapes = []  # (seconds, bytes)
        self.promtool = "not run"


def scrape(url):
    t0 = time.monotonic()
    with urllib.request.urlopen(url, timeout=30) as r:
        body = r.read()
    return time.monotonic() - t0, body


def run_once(args, workdir, pki, nginx_ports, holes, blackholed):
    w = Window("half black-holed" if blackholed else "all healthy")
    cfg = os.path.join(workdir, f"gomodprobe-{'bh' if blackholed else 'ok'}.yml")
    with open(cfg, "w") as f:
        f.write(f"global:\n  interval: {round(args.interval * 1000)}ms\n"
                f"  timeout: {round(args.timeout * 1000)}ms\n  ca_file: {pki['ca']}\n"
                f"  max_concurrent_probes: {args.max_concurrent}\n"
                f"  histograms: {args.histograms}\ntargets:\n")
        for i in range(args.targets):
            if blackholed and i % 2 == 1:
                base = f"https://127.0.0.1:{holes.ports[i % len(holes.ports)]}"
            else:
                base = f"https://127.0.0.1:{nginx_ports[i % len(nginx_ports)]}"
            f.write(f"  - name: t{i}\n    kind: http\n    url: {base}\n    path: /t/{i}\n"
                    f"    http_versions: [\"2\"]\n    ip_protocol: ip4\n")
    proc, port = benchlib.start_exporter(args.gomodprobe, cfg,
                                         os.path.join(workdir, "gomodprobe.log"), timeout=120)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        time.sleep(args.warmup)
        w.load_start = benchlib.loadavg()
        _, body0 = scrape(url)
        s0 = parse(body0.decode())
        c0, t0 = benchlib.cpu_seconds(proc.pid), time.monotonic()
        end = t0 + args.duration
        last_body = body0
        while True:
            now = time.monotonic()
            if now >= end:
                break
            time.sleep(min(args.scrape_interval, end - now))
            seconds, last_body = scrape(url)
            w.scrapes.append((seconds, len(last_body)))
        c1, t1 = benchlib.cpu_seconds(proc.pid), time.monotonic()
        s1 = parse(last_body.decode())
        w.load_end = benchlib.loadavg()
        w.cpu, w.window = c1 - c0, t1 - t0
        w.hwm_kib = benchlib.status_kib(proc.pid, "VmHWM")
        w.rss_kib = benchlib.status_kib(proc.pid, "VmRSS")
        w.anon_kib = benchlib.status_kib(proc.pid, "RssAnon")
        w.file_kib = benchlib.status_kib(proc.pid, "RssFile")
        w.fds = len(os.listdir(f"/proc/{proc.pid}/fd"))
        promtool = shutil.which("promtool")
        if promtool:
            check = subprocess.run([promtool, "check", "metrics"], input=last_body,
                                   capture_output=True)
            problems = (check.stdout + check.stderr).decode().strip()
            w.promtool = ("ok" if check.returncode == 0 else
                          f"FAILED (exit {check.returncode}): {problems[:300]}")
        lag0 = dict(histogram(s0, "gomodprobe_scheduler_lag_seconds"))
        lag1 = histogram(s1, "gomodprobe_scheduler_lag_seconds")
        w.lag = [(le, c - lag0.get(le, 0.0)) for le, c in lag1]
        w.skipped = (s1.get(("gomodprobe_scheduler_skipped_runs_total", frozenset()), 0)
                     - s0.get(("gomodprobe_scheduler_skipped_runs_total", frozenset()), 0))
        p0, p1 = by_target(s0, "gomodprobe_probes_total"), by_target(s1, "gomodprobe_probes_total")
        f0 = by_target(s0, "gomodprobe_probe_failures_total")
        f1 = by_target(s1, "gomodprobe_probe_failures_total")
        last_run = by_target(s1, "gomodprobe_probe_last_run_timestamp_seconds")
        lags = start_lags(last_run, args.interval)
        duration = by_target(s1, "gomodprobe_probe_last_duration_seconds")
        w.halves = {}
        for half, parity in (("healthy half", 0), ("other half", 1)):
            targets = [f"t{i}" for i in range(args.targets) if i % 2 == parity]
            runs = sum(p1.get(t, 0) - p0.get(t, 0) for t in targets)
            fails = sum(f1.get(t, 0) - f0.get(t, 0) for t in targets)
            half_lags = [lags[t] for t in targets if t in lags]
            durations = [duration[t] for t in targets if t in duration]
            w.halves[half] = {
                "runs": runs, "failures": fails,
                "expected": len(targets) * w.window / args.interval,
                "lag_p50": percentile(half_lags, 0.50), "lag_p99": percentile(half_lags, 0.99),
                "lag_max": max(half_lags) if half_lags else float("nan"),
                "duration_mean": sum(durations) / len(durations) if durations else float("nan"),
            }
        reasons = {}
        for (n, labels), v in s1.items():
            if n == "gomodprobe_probe_failures_total":
                d = dict(labels)
                key = ("healthy half" if int(d["target"][1:]) % 2 == 0 else "other half",
                       d["reason"])
                reasons[key] = reasons.get(key, 0) + v - s0.get((n, labels), 0)
        w.reasons = reasons
        w.holes_peak_open = holes.peak_open if blackholed else 0
        return w
    finally:
        benchlib.stop(proc)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--targets", "-n", type=int, default=10000)
    p.add_argument("--interval", "-t", type=float, default=60.0, help="probe interval, seconds")
    p.add_argument("--timeout", type=float, default=10.0, help="probe timeout, seconds")
    p.add_argument("--duration", "-d", type=float, default=300.0, help="measured seconds per run")
    p.add_argument("--warmup", type=float, default=None, help="seconds before measuring (interval)")
    p.add_argument("--scrape-interval", type=float, default=15.0)
    p.add_argument("--ports", type=int, default=20, help="nginx listen ports")
    p.add_argument("--holes", type=int, default=20, help="black-hole listen ports")
    p.add_argument("--max-concurrent", type=int, default=2000,
                   help="max_concurrent_probes (black-holed runs hold a slot until their timeout)")
    p.add_argument("--histograms", default="per_kind", choices=["per_kind", "per_target"])
    p.add_argument("--runs", default="healthy,blackhole")
    benchlib.add_tool_args(p, root, blackbox=False)
    args = p.parse_args()
    args.warmup = args.interval if args.warmup is None else args.warmup
    benchlib.require_executables((args.gomodprobe,), " (build gomodprobe first)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the black holes hold thousands
    version = subprocess.run([args.gomodprobe, "--version"], capture_output=True,
                             text=True).stdout.strip()
    benchlib.print_machine("shared with other workloads: absolute CPU figures are noisy")
    print(f"gomodprobe: {args.gomodprobe} ({version})")
    print(f"targets {args.targets} (http, HTTP/2, TLS 1.3) on {args.ports} nginx ports, interval "
          f"{args.interval:g}s ({args.targets / args.interval:.0f} runs/s), timeout "
          f"{args.timeout:g}s, max_concurrent_probes {args.max_concurrent}, histograms "
          f"{args.histograms}, warm-up {args.warmup:g}s, measured {args.duration:g}s per run, "
          f"/metrics every {args.scrape_interval:g}s", flush=True)

    results = []
    with tempfile.TemporaryDirectory(prefix="gomodprobe-scale-") as workdir:
        pki = benchlib.make_pki(workdir)
        ports = [benchlib.free_port() for _ in range(args.ports)]
        nginx = benchlib.start_nginx(workdir, pki, ports)
        holes = BlackHole(args.holes)
        try:
            for run in args.runs.split(","):
                w = run_once(args, workdir, pki, ports, holes, blackholed=(run == "blackhole"))
                results.append(w)
                print(f"  {w.name}: load {w.load_start} -> {w.load_end}", flush=True)
        finally:
            holes.stop()
            benchlib.stop(nginx)

    def lag_row(w, fn):
        return fn(w.lag)

    rows = [
        ("CPU % of one core", lambda w: f"{100 * w.cpu / w.window:.1f}"),
        ("CPU s per 1000 runs", lambda w: f"{1000 * w.cpu / max(1, sum(h['runs'] for h in w.halves.values())):.3f}"),
        ("peak RSS (VmHWM) MiB", lambda w: f"{w.hwm_kib / 1024:.1f}"),
        ("RSS at end MiB", lambda w: f"{w.rss_kib / 1024:.1f}"),
        ("  of which anonymous MiB", lambda w: f"{w.anon_kib / 1024:.1f}"),
        ("  of which file-backed MiB", lambda w: f"{w.file_kib / 1024:.1f}"),
        ("open fds at end", lambda w: f"{w.fds}"),
        ("scheduler lag runs", lambda w: f"{w.lag[-1][1]:.0f}" if w.lag else "-"),
        ("scheduler lag <= 100 ms %", lambda w: f"{100 * dict(w.lag).get(0.1, 0) / w.lag[-1][1]:.2f}"
         if w.lag and w.lag[-1][1] else "-"),
        ("scheduler lag p50 ms", lambda w: f"{1000 * quantile(w.lag, 0.5):.2f}"),
        ("scheduler lag p99 ms", lambda w: f"{1000 * quantile(w.lag, 0.99):.2f}"),
        ("skipped slots", lambda w: f"{w.skipped:.0f}"),
        ("/metrics scrapes", lambda w: f"{len(w.scrapes)}"),
        ("/metrics size KiB (last)", lambda w: f"{w.scrapes[-1][1] / 1024:.0f}" if w.scrapes else "-"),
        ("/metrics time ms p50", lambda w: f"{1000 * percentile([s for s, _ in w.scrapes], 0.5):.1f}"),
        ("/metrics time ms max", lambda w: f"{1000 * max(s for s, _ in w.scrapes):.1f}"
         if w.scrapes else "-"),
        ("promtool check metrics", lambda w: w.promtool.split(":")[0]),
    ]
    for half in ("healthy half", "other half"):
        rows += [
            (f"{half}: runs (expected)",
             lambda w, h=half: f"{w.halves[h]['runs']:.0f} ({w.halves[h]['expected']:.0f})"),
            (f"{half}: failed runs", lambda w, h=half: f"{w.halves[h]['failures']:.0f}"),
            (f"{half}: start lag p50 ms", lambda w, h=half: f"{1000 * w.halves[h]['lag_p50']:.2f}"),
            (f"{half}: start lag p99 ms", lambda w, h=half: f"{1000 * w.halves[h]['lag_p99']:.2f}"),
            (f"{half}: start lag max ms", lambda w, h=half: f"{1000 * w.halves[h]['lag_max']:.2f}"),
            (f"{half}: mean run duration ms",
             lambda w, h=half: f"{1000 * w.halves[h]['duration_mean']:.2f}"),
        ]
    print()
    print(f"{'':34}" + "".join(f"{w.name:>20}" for w in results))
    for label, fmt in rows:
        cells = []
        for w in results:
            try:
                cells.append(fmt(w))
            except (ValueError, ZeroDivisionError, KeyError, IndexError):
                cells.append("-")
        print(f"{label:34}" + "".join(f"{c:>20}" for c in cells))
    print()
    for w in results:
        failed = ", ".join(f"{h} {r}: {v:.0f}" for (h, r), v in sorted(w.reasons.items()) if v)
        print(f"failure reasons ({w.name}): {failed or 'none'}")
    for w in results:
        if w.promtool != "ok":
            print(f"promtool ({w.name}): {w.promtool}")
        cpu = w.cpu / w.window
        mib = w.hwm_kib / 1024
        mb = w.hwm_kib * 1024 / 1e6  # the goal is 60 MB = 60,000,000 bytes (57.2 MiB)
        p99 = quantile(w.lag, 0.99)
        render = max((s for s, _ in w.scrapes), default=float("nan"))
        print(f"[{w.name}] goal CPU <= 1 core: {'met' if cpu <= 1 else 'NOT met'} ({cpu:.2f}); "
              f"RSS <= 60 MB: {'met' if mb <= 60 else 'NOT met'} (peak {mb:.1f} MB = "
              f"{mib:.1f} MiB, end "
              f"{w.rss_kib / 1024:.1f} MiB); lag p99 < 100 ms: "
              f"{'met' if p99 < 0.1 else 'NOT met'} ({1000 * p99:.1f} ms); /metrics < 100 ms: "
              f"{'met' if render < 0.1 else 'NOT met'} (max {1000 * render:.1f} ms); promtool: "
              f"{w.promtool.split(':')[0]}")
    if len(results) == 2:
        a, b = (r.halves["healthy half"] for r in results)
        same_runs = abs(a["runs"] / a["expected"] - b["runs"] / b["expected"]) < 0.01
        print(f"healthy half with the other half black-holed: runs {b['runs']:.0f} vs "
              f"{a['runs']:.0f} (per expected: {b['runs'] / b['expected']:.3f} vs "
              f"{a['runs'] / a['expected']:.3f}), failures {b['failures']:.0f} vs "
              f"{a['failures']:.0f}, start lag p99 {1000 * b['lag_p99']:.2f} vs "
              f"{1000 * a['lag_p99']:.2f} ms, mean duration {1000 * b['duration_mean']:.2f} vs "
              f"{1000 * a['duration_mean']:.2f} ms -> "
              f"{'unchanged' if same_runs and b['failures'] == 0 and b['lag_p99'] < 0.1 else 'CHANGED'}"
              f" (black holes: peak {results[1].holes_peak_open} connections held)")
    print(f"load average at end {benchlib.loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
