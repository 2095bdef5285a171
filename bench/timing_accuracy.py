#!/usr/bin/env python3
"""Timing accuracy: gomodprobe's and blackbox_exporter's phase durations vs known injected delays.

A loopback HTTP/1.1 server (this script, one thread per connection) answers GET /p/<P>/<X> by
waiting P ms after the request arrived, sending the headers and half the body, waiting X ms,
then sending the rest and closing. The reference for each request is what the server actually did,
measured with the kernel's receive timestamp of the request (SO_TIMESTAMPNS, so the server's own
wake-up latency is not counted against the tools) and the wall clock just before each send:
  processing_ref = first send - request received;  transfer_ref = last send - first send.
Each tool probes the server K times per case, one request at a time:
  gomodprobe: the daemon (interval 1 s; per run the increase of the phase histograms' _sum),
              or with --gomodprobe-mode check one `gomodprobe check --output json` per sample;
              http_versions ["1.1"],
              phases.processing / phases.transfer (curl STARTTRANSFER-PRETRANSFER, TOTAL-STARTTRANSFER);
  blackbox:   GET /probe?debug=true, probe_http_duration_seconds{phase="processing"|"transfer"}.
Reported: p50 and p95 of |tool phase - reference| per case and phase, in ms, both tools side by
side. Goal: gomodprobe within 1 ms at p95. Connect-phase delays need `tc netem` on lo inside a
network namespace; the script checks whether the kernel offers it and says so.
A measurement: exits 0 whatever the result.
"""

import argparse
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
CHUNK = b"x" * 1024


class DelayServer:
    """HTTP/1.1 on 127.0.0.1: /p/<processing_ms>/<transfer_ms>; records (processing, transfer) s."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.records = []
        self.untimestamped = 0
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def take(self):
        with self.lock:
            out, self.records = self.records, []
            return out

    def accept_loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        with conn:
            conn.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            data, arrived = b"", None
            while b"\r\n\r\n" not in data:
                chunk, anc, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(16))
                if not chunk:
                    return
                if arrived is None:
                    for level, kind, payload in anc:
                        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                            sec, nsec = struct.unpack("qq", payload[:16])
                            arrived = sec + nsec / 1e9
                    if arrived is None:
                        arrived = time.time()
                        with self.lock:
                            self.untimestamped += 1
                data += chunk
            m = re.match(rb"GET /p/(\d+)/(\d+)", data)
            if not m:
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")
                return
            processing, transfer = int(m.group(1)) / 1000, int(m.group(2)) / 1000
            sleep_until(arrived + processing)
            head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                    b"Content-Length: " + str(2 * len(CHUNK)).encode() + b"\r\n\r\n")
            first = time.time()
            conn.sendall(head + CHUNK)
            sleep_until(first + transfer)
            last = time.time()
            with self.lock:  # before the send: the client may return as soon as it has the body
                self.records.append((first - arrived, last - first))
            conn.sendall(CHUNK)
            try:
                conn.shutdown(socket.SHUT_WR)
                conn.recv(1)  # wait for the client's close so no RST races the last bytes
            except OSError:
                pass


def sleep_until(wall):
    """Sleeps to a wall-clock time; the last 2 ms spin so the server itself is punctual."""
    while True:
        left = wall - time.time()
        if left <= 0:
            return
        time.sleep(left - 0.002 if left > 0.003 else 0)


def netem_available():
    """Whether `tc qdisc add dev lo root netem` works in a fresh network namespace."""
    if not (shutil.which("unshare") and shutil.which("tc") and shutil.which("ip")):
        return False, "unshare/tc/ip not installed"
    r = subprocess.run(["unshare", "-n", "sh", "-c",
                        "ip link set lo up && tc qdisc add dev lo root netem delay 10ms"],
                       capture_output=True, text=True)
    if r.returncode == 0:
        return True, "netem works in a network namespace"
    return False, (r.stderr.strip() or f"exit {r.returncode}") + f" (kernel {os.uname().release})"


def percentile(values, q):
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def probe_gomodprobe(args, workdir, url):
    cfg = os.path.join(workdir, "timing.yml")
    base, path = url.split("/p/", 1)
    with open(cfg, "w") as f:
        f.write(f"global:\n  interval: 30s\n  timeout: 10s\ntargets:\n  - name: timing\n"
                f"    kind: http\n    url: {base}\n    path: /p/{path}\n"
                f"    http_versions: [\"1.1\"]\n    ip_protocol: ip4\n")
    r = subprocess.run([args.gomodprobe, "check", "--config.file", cfg, "--output", "json"],
                       capture_output=True, text=True)
    doc = json.loads(r.stdout)
    targets = doc if isinstance(doc, list) else doc.get("targets", [])
    attempt = targets[0]["http"][0]
    if not attempt["success"]:
        raise RuntimeError(f"gomodprobe probe failed: {attempt}")
    return attempt["phases"].get("processing"), attempt["phases"].get("transfer")


def metric_samples(text, name, labels):
    """Value of `name` whose label set contains every k="v" in labels (first match)."""
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def gomodprobe_daemon_samples(args, workdir, url, server, k):
    """K runs of a gomodprobe daemon (interval 1 s): per run, the increase of the phase
    histograms' _sum when _count grew by exactly 1, matched to that run's server record."""
    cfg = os.path.join(workdir, "timing-daemon.yml")
    base, path = url.split("/p/", 1)
    with open(cfg, "w") as f:
        f.write(f"global:\n  interval: 1s\n  timeout: 900ms\ntargets:\n  - name: timing\n"
                f"    kind: http\n    url: {base}\n    path: /p/{path}\n"
                f"    http_versions: [\"1.1\"]\n    ip_protocol: ip4\n")
    proc, port = benchlib.start_exporter(args.gomodprobe, cfg, f"{workdir}/gomodprobe.log")
    measured, refs = [], []
    try:
        server.take()
        prev = None
        deadline = time.monotonic() + 10 + 3 * k
        while len(measured) < k and time.monotonic() < deadline:
            time.sleep(0.2)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                text = r.read().decode()
            records = server.take()
            name = "gomodprobe_phase_duration_seconds"
            cur = {ph: (metric_samples(text, name + "_count", {"phase": ph}),
                        metric_samples(text, name + "_sum", {"phase": ph}))
                   for ph in ("processing", "transfer")}
            if any(c is None for c, _ in cur.values()):
                prev = None
                continue
            if prev is not None:
                dc = [cur[ph][0] - prev[ph][0] for ph in cur]
                if dc == [1, 1] and len(records) == 1:
                    measured.append(tuple(cur[ph][1] - prev[ph][1] for ph in
                                          ("processing", "transfer")))
                    refs.append(records[0])
            prev = cur
    finally:
        benchlib.stop(proc)
    return measured, refs


def probe_blackbox(bb_port, url):
    q = urllib.parse.urlencode({"target": url, "module": "http_timing", "debug": "true"})
    with urllib.request.urlopen(f"http://127.0.0.1:{bb_port}/probe?{q}", timeout=30) as r:
        text = r.read().decode()
    if not re.search(r"^probe_success 1$", text, re.M):
        raise RuntimeError("blackbox probe failed:\n" + text[-3000:])
    phases = dict(re.findall(
        r'^probe_http_duration_seconds\{phase="(\w+)"\} (\S+)$', text, re.M))
    return float(phases["processing"]), float(phases["transfer"])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("-k", "--samples", type=int, default=30, help="probes per tool and case")
    p.add_argument("--cases", default="50:100,10:10,0:0",
                   help="processing_ms:transfer_ms,… injected per case")
    p.add_argument("--gomodprobe-mode", choices=("daemon", "check"), default="daemon",
                   help="daemon: warm long-running agent (like blackbox); check: one "
                        "`gomodprobe check` process per sample (cold start included)")
    benchlib.add_tool_args(p, root)
    args = p.parse_args()
    benchlib.require_executables((args.gomodprobe, args.blackbox))

    ok, why = netem_available()
    benchlib.print_machine("shared with other workloads")
    print(f"connect delay via tc netem: {'available' if ok else 'NOT available'}: {why}")
    if not ok:
        print("  -> connect phase not injected; processing and transfer delays injected by the "
              "server (plain HTTP/1.1 on 127.0.0.1)")
    cases = [tuple(int(x) for x in c.split(":")) for c in args.cases.split(",")]
    server = DelayServer()
    rows = []
    with tempfile.TemporaryDirectory(prefix="gomodprobe-timing-") as workdir:
        bb_cfg = os.path.join(workdir, "blackbox.yml")
        with open(bb_cfg, "w") as f:
            f.write("modules:\n  http_timing:\n    prober: http\n    timeout: 10s\n    http:\n"
                    "      preferred_ip_protocol: ip4\n      ip_protocol_fallback: false\n")
        bb, bb_port = benchlib.start_exporter(args.blackbox, bb_cfg, f"{workdir}/bb.log")
        try:
            for processing_ms, transfer_ms in cases:
                url = f"http://127.0.0.1:{server.port}/p/{processing_ms}/{transfer_ms}"
                for tool in ("gomodprobe", "blackbox"):
                    server.take()
                    measured = []
                    if tool == "gomodprobe" and args.gomodprobe_mode == "daemon":
                        measured, refs = gomodprobe_daemon_samples(args, workdir, url, server,
                                                                   args.samples)
                    else:
                        for _ in range(args.samples):
                            if tool == "gomodprobe":
                                measured.append(probe_gomodprobe(args, workdir, url))
                            else:
                                measured.append(probe_blackbox(bb_port, url))
                        refs = server.take()
                    if len(refs) != len(measured):
                        raise RuntimeError(f"{tool}: {len(measured)} probes, server saw "
                                           f"{len(refs)} requests")
                    for i, phase in enumerate(("processing", "transfer")):
                        errors = [abs(m[i] - r[i]) * 1000 for m, r in zip(measured, refs)]
                        signed = [(m[i] - r[i]) * 1000 for m, r in zip(measured, refs)]
                        rows.append((processing_ms, transfer_ms, phase, tool,
                                     percentile([r[i] * 1000 for r in refs], 0.5),
                                     percentile([m[i] * 1000 for m in measured], 0.5),
                                     percentile(signed, 0.5), percentile(errors, 0.5),
                                     percentile(errors, 0.95), max(errors)))
                print(f"  case processing {processing_ms} ms / transfer {transfer_ms} ms done, "
                      f"load {benchlib.loadavg()}", flush=True)
        finally:
            benchlib.stop(bb)
    if server.untimestamped:
        print(f"note: {server.untimestamped} requests had no kernel timestamp (wall clock used)")
    print()
    print(f"K = {args.samples} probes per tool and case (gomodprobe as {args.gomodprobe_mode}); "
          "errors are |tool - server reference|, ms")
    print(f"{'injected P/X ms':>15} {'phase':>10} {'tool':>10} {'ref p50':>8} {'tool p50':>9} "
          f"{'bias p50':>9} {'|err| p50':>9} {'|err| p95':>9} {'max':>8}")
    worst = 0.0
    for pr, tr, phase, tool, ref50, tool50, bias, e50, e95, emax in rows:
        print(f"{f'{pr}/{tr}':>15} {phase:>10} {tool:>10} {ref50:8.2f} {tool50:9.2f} "
              f"{bias:+9.3f} {e50:9.3f} {e95:9.3f} {emax:8.2f}")
        if tool == "gomodprobe":
            worst = max(worst, e95)
    print()
    benchlib.print_goal("gomodprobe |error| p95 <= 1 ms", worst <= 1, f"worst p95 {worst:.3f} ms")
    print(f"load average at end {benchlib.loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
