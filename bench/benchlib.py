"""Helpers shared by the bench/ drivers: temporary PKI, loopback nginx, free ports, /proc readings.

Everything listens on 127.0.0.1; nothing reaches the network.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    """A port that was free a moment ago on 127.0.0.1 (bind to 0, read, close)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_pki(workdir):
    """CA + server certificate (EC P-256, SAN IP:127.0.0.1 and DNS:localhost). Returns paths."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=workdir, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=gomodprobe bench CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    with open(os.path.join(workdir, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext")
    return {k: os.path.join(workdir, v) for k, v in
            {"ca": "ca.pem", "cert": "server.pem", "key": "server.key"}.items()}


def start_nginx(workdir, pki, ports):
    """nginx (1 worker) serving 200 "ok" over TLS 1.3 + HTTP/2 on each port. Returns the Popen."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    conf = os.path.join(workdir, "nginx.conf")
    temp = os.path.join(workdir, "nginx-temp")
    os.makedirs(temp, exist_ok=True)
    lines = ["worker_processes 1;", "daemon off;", f"pid {workdir}/nginx.pid;",
             f"error_log {workdir}/nginx-error.log warn;",
             "events { worker_connections 4096; }", "http {", "  access_log off;"]
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        lines.append(f"  {sub}_temp_path {temp}/{sub};")
    lines += ["  ssl_protocols TLSv1.3;", f"  ssl_certificate {pki['cert']};",
              f"  ssl_certificate_key {pki['key']};", "  keepalive_timeout 5s;"]
    for port in ports:
        lines += ["  server {", f"    listen 127.0.0.1:{port} ssl http2;",
                  f"    server_name bench{port};",
                  "    location / { default_type text/plain; return 200 \"ok\\n\"; }", "  }"]
    lines.append("}")
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    proc = subprocess.Popen([nginx, "-p", workdir, "-e", f"{workdir}/nginx-error.log", "-c", conf],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for port in ports:
        wait_tcp(port, proc)
    return proc


def wait_tcp(port, proc=None, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args[0]} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def wait_http(url, proc=None, timeout=20.0, log=None):
    """Waits for url to answer 200; raises (with the tail of `log`) if proc exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = open(log).read()[-2000:] if log else ""
            raise RuntimeError(f"process {proc.args[0]} exited with {proc.returncode}\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer 200")


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def tree_pids(pid):
    """pid and its direct children (enough for nginx master + workers)."""
    pids = [pid]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    pids.append(int(entry))
        except OSError:
            pass
    return pids


def tree_cpu_seconds(pid):
    total = 0.0
    for p in tree_pids(pid):
        try:
            total += cpu_seconds(p)
        except OSError:
            pass
    return total


def status_kib(pid, key):
    """A kB field of /proc/<pid>/status (VmHWM, VmRSS), KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def start_exporter(exe, config, log, timeout=20.0):
    """Starts an exporter daemon (gomodprobe, blackbox_exporter) with `--config.file config` on a
    free 127.0.0.1 port, stderr to the file `log`, and waits for /-/healthy (stopping it if that
    fails). Returns (Popen, port)."""
    port = free_port()
    with open(log, "w") as err:
        proc = subprocess.Popen([exe, "--config.file", config, "--web.listen-address",
                                 f"127.0.0.1:{port}", "--log.level", "warn"],
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_http(f"http://127.0.0.1:{port}/-/healthy", proc, timeout=timeout, log=log)
    except BaseException:
        stop(proc)
        raise
    return proc, port


def add_tool_args(parser, root, blackbox=True):
    """--gomodprobe (env GOMODPROBE, default build/src/gomodprobe) and, with blackbox,
    --blackbox (env BLACKBOX_EXPORTER, default the Debian package's binary)."""
    parser.add_argument("--gomodprobe", default=os.environ.get(
        "GOMODPROBE", os.path.join(root, "build/src/gomodprobe")))
    if blackbox:
        parser.add_argument("--blackbox", default=os.environ.get(
            "BLACKBOX_EXPORTER",
            shutil.which("prometheus-blackbox-exporter") or "blackbox_exporter"))


def require_executables(paths, hint=""):
    """Exits with "not executable: PATH<hint>" for the first path that is not an executable."""
    for exe in paths:
        if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            sys.exit(f"not executable: {exe}{hint}")


def print_machine(note):
    """The report's first line: CPUs and the load average at start, with a note on noise."""
    print(f"machine: {os.cpu_count()} CPUs, load average at start {loadavg()} ({note})")


def print_goal(what, met, detail):
    """A report line "goal WHAT: met|NOT met (DETAIL)"."""
    print(f"goal {what}: {'met' if met else 'NOT met'} ({detail})")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
