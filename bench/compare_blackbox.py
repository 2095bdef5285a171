#!/usr/bin/env python3
"""Side-by-side benchmark: gomodprobe vs prometheus-blackbox-exporter on the same HTTPS targets.

A loopback nginx (TLS 1.3 + HTTP/2, EC P-256 certificate from a throw-away CA, several ports)
serves N targets https://127.0.0.1:<port>/t/<i>. Each tool probes every target once per interval
for the measured duration, one tool after the other (sequential: fairer on a small shared machine):

- gomodprobe: the daemon with an http-kind config, http_versions ["2"] (one HTTP/2 request per
  probe, like blackbox's http_2xx with valid_http_versions [HTTP/2.0]); its /metrics is scraped
  once per interval, as Prometheus would at the same rate. Probes counted by
  gomodprobe_probes_total.
- blackbox_exporter: module http_2xx (prober http, preferred_ip_protocol ip4, tls_config ca_file,
  valid_http_versions [HTTP/2.0]); a scraper in this script GETs /probe?target=…&module=http_2xx
  for every target once per interval, spread evenly over the interval (target i at offset
  i*T/N, like gomodprobe's scheduler spreads its targets). Probes counted as /probe answers.

- curl-floor (bench/curl_floor.cc): the same probes through libcurl alone, the least a prober
  built on libcurl + OpenSSL can cost (what gomodprobe asks of libcurl per probe, and nothing of
  ours: no config, scheduler, metrics or web server). It shows how much of gomodprobe's CPU and
  RSS is its own and how much is the HTTP/TLS stack the project is built on. Probes counted by
  the count file it rewrites every 250 ms.

Reported per tool: CPU seconds (utime+stime from /proc/<pid>/stat, over the measured window after
one warm-up interval) per 1000 probes, peak RSS (VmHWM), RSS at the end, nginx CPU per 1000 probes
(a check that both did the same work), the ratios gomodprobe/blackbox and gomodprobe/curl-floor. A measurement: exits 0
whether or not the goals (CPU <= 0.5x, RSS <= 0.5x and <= 10 MB at 100 targets) are met.
"""

import argparse
import concurrent.futures
import http.client
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


def metric_sum(text, name):
    """Sum of every sample of `name` (any labels) in an exposition text."""
    total = 0.0
    pattern = re.compile(r"^" + re.escape(name) + r"(\{[^}]*\})?\s+(\S+)")
    for line in text.splitlines():
        m = pattern.match(line)
        if m:
            total += float(m.group(2))
    return total


def ms(seconds):
    """A Prometheus duration string: 5s → "5000ms"."""
    return f"{round(seconds * 1000)}ms"


def per_k(r, v):
    """v per 1000 probes of measurement r."""
    return 1000 * v / r.probes if r.probes else float("nan")


def lower_median(values):
    """The middle of the sorted values (the lower middle one if their number is even)."""
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2] if ordered else None


def curl_version():
    """libcurl's version as the floor binary links it (curl-config's, the same Debian package)."""
    try:
        return subprocess.run(["curl-config", "--version"], capture_output=True,
                              text=True).stdout.split()[-1]
    except (OSError, IndexError):
        return "?"


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


class Measurement:
    def __init__(self, tool):
        self.tool = tool
        self.probes = 0
        self.ok = 0
        self.cpu = 0.0
        self.nginx_cpu = 0.0
        self.hwm_kib = 0
        self.rss_kib = 0
        self.window = 0.0
        self.load_start = ""
        self.load_end = ""


def measure(tool, proc, nginx, warmup, duration, counters, drive=None):
    """Warm up, then measure CPU and probe count over `duration` seconds."""
    m = Measurement(tool)
    time.sleep(warmup)
    m.load_start = benchlib.loadavg()
    n0, _ = counters()
    c0, g0, t0 = benchlib.cpu_seconds(proc.pid), benchlib.tree_cpu_seconds(nginx.pid), time.monotonic()
    time.sleep(duration)
    n1, ok = counters()
    c1, g1, t1 = benchlib.cpu_seconds(proc.pid), benchlib.tree_cpu_seconds(nginx.pid), time.monotonic()
    m.load_end = benchlib.loadavg()
    m.probes, m.ok = n1 - n0, ok
    m.cpu, m.nginx_cpu, m.window = c1 - c0, g1 - g0, t1 - t0
    m.hwm_kib = benchlib.status_kib(proc.pid, "VmHWM")
    m.rss_kib = benchlib.status_kib(proc.pid, "VmRSS")
    m.anon_kib = benchlib.status_kib(proc.pid, "RssAnon")
    m.file_kib = benchlib.status_kib(proc.pid, "RssFile")
    return m


class Scraper:
    """GETs a URL per target once per interval, target i at offset i*T/N; counts answers."""

    def __init__(self, port, urls, interval, workers=16):
        self.port, self.urls, self.interval = port, urls, interval
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
        self.local = threading.local()
        self.lock = threading.Lock()
        self.answered = 0
        self.succeeded = 0
        self.errors = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def get(self, path):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            # Prometheus sends its scrape timeout; blackbox subtracts --timeout-offset (0.5 s).
            conn.request("GET", path, headers={
                "X-Prometheus-Scrape-Timeout-Seconds": str(self.interval)})
            resp = conn.getresponse()
            body = resp.read().decode()
        except (OSError, http.client.HTTPException):
            self.local.conn = None
            with self.lock:
                self.errors += 1
            return
        with self.lock:
            if resp.status == 200:
                self.answered += 1
                if re.search(r"^probe_success 1$", body, re.M):
                    self.succeeded += 1
            else:
                self.errors += 1

    def loop(self):
        start = time.monotonic()
        n = len(self.urls)
        k = 0
        while not self.stop_event.is_set():
            for i, path in enumerate(self.urls):
                due = start + k * self.interval + i * self.interval / n
                delay = due - time.monotonic()
                if delay > 0 and self.stop_event.wait(delay):
                    return
                self.pool.submit(self.get, path)
            k += 1

    def counts(self):
        with self.lock:
            return self.answered, self.succeeded

    def start(self):
        self.thread.start()

    def stop(self):
        self.stop_event.set()
        self.thread.join()
        self.pool.shutdown(wait=True, cancel_futures=True)


def run_gomodprobe(args, workdir, pki, targets, nginx):
    cfg = os.path.join(workdir, "gomodprobe.yml")
    with open(cfg, "w") as f:
        f.write(f"global:\n  interval: {ms(args.interval)}\n  timeout: {ms(args.timeout)}\n"
                f"  ca_file: {pki['ca']}\ntargets:\n")
        for i, (base, path) in enumerate(targets):
            f.write(f"  - name: t{i}\n    kind: http\n    url: {base}\n    path: {path}\n"
                    f"    http_versions: [\"2\"]\n    ip_protocol: ip4\n")
    proc, port = benchlib.start_exporter(args.gomodprobe, cfg, f"{workdir}/gomodprobe.log")
    try:
        metrics_url = f"http://127.0.0.1:{port}/metrics"
        # Prometheus scraping /metrics at the probe interval.
        scraper = Scraper(port, ["/metrics"], args.interval, workers=1)
        scraper.start()

        def counters():
            text = fetch(metrics_url)
            return (metric_sum(text, "gomodprobe_probes_total"),
                    metric_sum(text, "gomodprobe_probe_success"))
        m = measure("gomodprobe", proc, nginx, args.warmup, args.duration, counters)
        scraper.stop()
        text = fetch(metrics_url)
        m.failures = metric_sum(text, "gomodprobe_probe_failures_total")
        return m
    finally:
        benchlib.stop(proc)


def run_blackbox(args, workdir, pki, targets, nginx):
    cfg = os.path.join(workdir, "blackbox.yml")
    with open(cfg, "w") as f:
        f.write("modules:\n  http_2xx:\n    prober: http\n"
                f"    timeout: {ms(args.timeout)}\n    http:\n"
                "      preferred_ip_protocol: ip4\n      ip_protocol_fallback: false\n"
                "      valid_http_versions: [\"HTTP/2.0\"]\n"
                f"      tls_config:\n        ca_file: {pki['ca']}\n")
    proc, port = benchlib.start_exporter(args.blackbox, cfg, f"{workdir}/blackbox.log")
    try:
        paths = ["/probe?" + urllib.parse.urlencode({"target": base + path, "module": "http_2xx"})
                 for base, path in targets]
        scraper = Scraper(port, paths, args.interval)
        scraper.start()
        m = measure("blackbox", proc, nginx, args.warmup, args.duration, scraper.counts)
        scraper.stop()
        answered, succeeded = scraper.counts()
        m.failures = answered - succeeded + scraper.errors
        return m
    finally:
        benchlib.stop(proc)


def run_floor(args, workdir, pki, targets, nginx):
    count_file = os.path.join(workdir, "curl-floor.count")
    if os.path.exists(count_file):
        os.remove(count_file)  # an earlier round's
    with open(f"{workdir}/curl-floor.log", "w") as log:
        proc = subprocess.Popen(
            [args.curl_floor, "--ca", pki["ca"], "--interval", f"{args.interval:g}",
             "--timeout", f"{args.timeout:g}", "--count-file", count_file]
            + [base + path for base, path in targets], stdout=log, stderr=subprocess.STDOUT)
    try:
        def counters():
            try:
                with open(count_file) as f:
                    finished, succeeded = (int(v) for v in f.read().split())
            except (OSError, ValueError):
                finished, succeeded = 0, 0
            return finished, succeeded
        m = measure("curl-floor", proc, nginx, args.warmup, args.duration, counters)
        time.sleep(0.3)  # one more count-file write
        finished, succeeded = counters()
        m.failures = finished - succeeded
        return m
    finally:
        benchlib.stop(proc)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--targets", "-n", type=int, default=100)
    p.add_argument("--interval", "-t", type=float, default=5.0, help="probe interval, seconds")
    p.add_argument("--duration", "-d", type=float, default=120.0, help="measured seconds per tool")
    p.add_argument("--warmup", type=float, default=None, help="seconds before measuring (interval)")
    p.add_argument("--timeout", type=float, default=None, help="probe timeout (interval - 1)")
    p.add_argument("--ports", type=int, default=10, help="nginx listen ports")
    p.add_argument("--repeat", "-r", type=int, default=1,
                   help="rounds of the whole order (the table shows each tool's median round)")
    p.add_argument("--order", default="gomodprobe,blackbox,curl-floor",
                   help="tools to run, in this order (gomodprobe, blackbox, curl-floor)")
    benchlib.add_tool_args(p, root)
    p.add_argument("--curl-floor", default=os.environ.get(
        "GOMODPROBE_CURL_FLOOR", os.path.join(root, "build/bench/gomodprobe_curl_floor")))
    args = p.parse_args()
    tools = args.order.split(",")
    runners = {"gomodprobe": run_gomodprobe, "blackbox": run_blackbox, "curl-floor": run_floor}
    if any(t not in runners for t in tools):
        p.error(f"--order: tools are {', '.join(runners)}")
    args.warmup = args.interval if args.warmup is None else args.warmup
    args.timeout = max(1.0, args.interval - 1) if args.timeout is None else args.timeout
    benchlib.require_executables(
        (args.gomodprobe, args.blackbox) + ((args.curl_floor,) if "curl-floor" in tools else ()),
        " (build gomodprobe; apt-get install prometheus-blackbox-exporter)")
    bb_run = subprocess.run([args.blackbox, "--version"], capture_output=True, text=True)
    bb_version = (bb_run.stdout + bb_run.stderr).splitlines()[:1]
    gp_version = subprocess.run([args.gomodprobe, "--version"], capture_output=True,
                                text=True).stdout.strip()

    benchlib.print_machine(
        "shared with other workloads: absolute CPU figures are noisy, ratios less so")
    print(f"gomodprobe: {args.gomodprobe} ({gp_version})")
    print(f"blackbox:   {args.blackbox} ({' '.join(bb_version)})")
    if "curl-floor" in tools:
        print(f"curl-floor: {args.curl_floor} (libcurl {curl_version()})")
    print(f"targets {args.targets} on {args.ports} nginx ports (TLS 1.3, HTTP/2), interval "
          f"{args.interval:g}s, timeout {args.timeout:g}s, warm-up {args.warmup:g}s, measured "
          f"{args.duration:g}s per tool, sequential ({args.order}), {args.repeat} round(s)")
    sys.stdout.flush()

    rounds = {tool: [] for tool in tools}  # Measurement per round, in round order
    with tempfile.TemporaryDirectory(prefix="gomodprobe-bench-") as workdir:
        pki = benchlib.make_pki(workdir)
        ports = [benchlib.free_port() for _ in range(args.ports)]
        nginx = benchlib.start_nginx(workdir, pki, ports)
        try:
            targets = [(f"https://127.0.0.1:{ports[i % len(ports)]}", f"/t/{i}")
                       for i in range(args.targets)]
            for k in range(args.repeat):
                for tool in tools:
                    r = runners[tool](args, workdir, pki, targets, nginx)
                    rounds[tool].append(r)
                    print(f"  round {k + 1} {tool}: {r.probes:.0f} probes in {r.window:.1f}s, "
                          f"{per_k(r, r.cpu):.3f} CPU-s/1000, load {r.load_start} -> "
                          f"{r.load_end}", flush=True)
        finally:
            benchlib.stop(nginx)

    def median_round(runs):
        """The round whose CPU per 1000 probes is the (lower) median."""
        cpu = lower_median(per_k(r, r.cpu) for r in runs)
        return next((r for r in runs if per_k(r, r.cpu) == cpu), None)

    results = {tool: median_round(runs) for tool, runs in rounds.items()}
    g, b, f = results.get("gomodprobe"), results.get("blackbox"), results.get("curl-floor")

    rows = [
        ("probes measured", lambda r: f"{r.probes:.0f}"),
        ("probes/s", lambda r: f"{r.probes / r.window:.1f}"),
        ("failed probes (whole run)", lambda r: f"{r.failures:.0f}"),
        ("CPU s per 1000 probes", lambda r: f"{per_k(r, r.cpu):.3f}"),
        ("CPU % of one core", lambda r: f"{100 * r.cpu / r.window:.1f}"),
        ("peak RSS (VmHWM) MiB", lambda r: f"{r.hwm_kib / 1024:.1f}"),
        ("RSS at end MiB", lambda r: f"{r.rss_kib / 1024:.1f}"),
        ("  of which anonymous MiB", lambda r: f"{r.anon_kib / 1024:.1f}"),
        ("  of which file-backed MiB", lambda r: f"{r.file_kib / 1024:.1f}"),
        ("nginx CPU s per 1000 probes", lambda r: f"{per_k(r, r.nginx_cpu):.3f}"),
    ]
    def ratio(label, x, y):
        if not label.startswith(("CPU s", "peak RSS", "RSS at", "  of")) or x == "-" or y == "-":
            return ""
        try:
            return f"{float(x) / float(y):.2f}x"
        except (ValueError, ZeroDivisionError):
            return "n/a"

    print()
    print(f"{'':30} {'gomodprobe':>12} {'blackbox':>12} {'ratio g/b':>10} {'curl-floor':>12} "
          f"{'ratio g/f':>10}")
    for label, fmt in rows:
        gv, bv, fv = (fmt(r) if r else "-" for r in (g, b, f))
        print(f"{label:30} {gv:>12} {bv:>12} {ratio(label, gv, bv):>10} {fv:>12} "
              f"{ratio(label, gv, fv):>10}")
    if args.repeat > 1:
        print()
        for tool, runs in rounds.items():
            print(f"{tool + ' CPU s per 1000, by round':45} "
                  + " ".join(f"{per_k(r, r.cpu):.3f}" for r in runs))
        for other, short in (("blackbox", "b"), ("curl-floor", "f")):
            if "gomodprobe" in rounds and other in rounds:
                # Rounds run the tools back to back, so a round's ratio shares its conditions.
                ratios = sorted(per_k(x, x.cpu) / per_k(y, y.cpu)
                                for x, y in zip(rounds["gomodprobe"], rounds[other]))
                print(f"{'CPU ratio g/' + short + ' within each round (sorted)':45} "
                      + " ".join(f"{v:.2f}x" for v in ratios)
                      + f", median {lower_median(ratios):.2f}x")
    if g and b and g.probes and b.probes:
        cpu_ratio = per_k(g, g.cpu) / per_k(b, b.cpu) if b.cpu else float("inf")
        rss_ratio = g.hwm_kib / b.hwm_kib
        print()
        if args.repeat > 1:
            print("(goals below: each tool's median round)")
        benchlib.print_goal("CPU <= 0.5x", cpu_ratio <= 0.5, f"{cpu_ratio:.2f}x")
        benchlib.print_goal("RSS <= 0.5x", rss_ratio <= 0.5, f"{rss_ratio:.2f}x")
        if args.targets == 100:
            mb = g.hwm_kib * 1024 / 1e6  # 10 MB = 10,000,000 bytes (9.5 MiB)
            benchlib.print_goal("RSS <= 10 MB at 100 targets", mb <= 10,
                                f"{mb:.1f} MB = {g.hwm_kib / 1024:.1f} MiB")
    print(f"load average at end {benchlib.loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
