#!/usr/bin/env python3
"""Evaluates every dashboard query and every recording rule against a real agent's /metrics.

    query_data.py EXPOSITION --root SOURCE_DIR --promtool P

EXPOSITION is the text of one scrape of an agent (tests/integration/dashboard_metrics_test.cc
writes it after every target ran). It becomes the input series of a `promtool test rules` file, as
Prometheus would have scraped it once a minute for an hour (job="gomodprobe",
instance="runner-01", plus `up` 1): gauges keep their value, counters and histogram series grow by their value
every minute (so rates are not zero and buckets stay cumulative). Then each expression of
dashboards/*.json (Grafana variables substituted as by check_dashboards.py, the job/instance/target
query variables by ".*", i.e. "All") and each recording rule of alerts/*.yml must return at least
one sample at minute 30: `(count(EXPR) > bool 0) or vector(0)` must be 1.

This catches what a check of metric names cannot: label matchers, joins and aggregations that
select nothing with the series the agent really exports, e.g. run/phase histogram panels against an
agent with `histograms: per_kind` (no `target` label on those series).

Exit status 0 only if promtool accepted every expression.
"""

import argparse
import json
import math
import pathlib
import re
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import check_dashboards  # noqa: E402  (same directory: variable substitution)

STEPS = 60          # one hour of samples, one a minute
EVAL_TIME = "30m"   # every window up to 30m is full; longer ones (1h … 30d) extrapolate
SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+\d+)?$")
GROWING = {"counter", "histogram", "summary"}


def input_series(exposition):
    """promtool input_series of one exposition text (see the module docstring)."""
    types = {}
    series = []
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) >= 4:
                types[parts[2]] = parts[3]
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError(f"cannot parse exposition line: {line!r}")
        name, labels, value = m.group(1), m.group(2) or "{}", float(m.group(3))
        if not math.isfinite(value):
            continue
        family = next((name[: -len(s)] for s in ("_bucket", "_sum", "_count", "_total")
                       if name.endswith(s) and name[: -len(s)] in types), name)
        inner = labels[1:-1].rstrip(",")
        scrape = 'job="gomodprobe",instance="runner-01"'
        selector = f"{name}{{{scrape}{',' + inner if inner else ''}}}"
        if types.get(family) in GROWING and value != 0:
            values = f"{value!r}+{value!r}x{STEPS}"
        else:
            values = f"{value!r}x{STEPS}"
        series.append({"series": selector, "values": values})
    if series:  # the scrape's own series (dashboards use `up`)
        series.append({"series": 'up{job="gomodprobe",instance="runner-01"}',
                       "values": f"1x{STEPS}"})
    return series


def targets_of(series):
    """The target names in the input series (values of `target` on gomodprobe_probes_total)."""
    names = set()
    for s in series:
        if s["series"].startswith("gomodprobe_probes_total{"):
            names.update(re.findall(r'[{,]target="((?:[^"\\]|\\.)*)"', s["series"]))
    return sorted(names)


def dashboard_queries(root, targets):
    """[(where, [(selection, expr)])] of every panel target of dashboards/*.json: the expression
    with every query variable "All" (selection "All") and, if it uses $target, with $target set to
    each one target (selection = its name), as a user picking one target sees it."""
    check_dashboards.QUERY_VAR_LITERAL = ".*"
    out = []
    for path in sorted((root / "dashboards").glob("*.json")):
        d = json.loads(path.read_text(encoding="utf-8"))
        variables = check_dashboards.variables_of(d)
        for p in check_dashboards.panels_of(d):
            for t in p.get("targets", []) or []:
                expr = t.get("expr")
                if not isinstance(expr, str) or not expr.strip():
                    continue
                variants = [("All", check_dashboards.substitute(expr, variables))]
                if "target" in check_dashboards.used_variables(expr):
                    for name in targets:
                        one = dict(variables, target={"type": "constant",
                                                      "current": {"value": name}})
                        variants.append((name, check_dashboards.substitute(expr, one)))
                out.append((f"{path.name} / {p.get('title')} / {t.get('refId')}", variants))
    return out


def recording_rules(root):
    """(rule files, group names, [(where, [("All", record name)])]) of alerts/*.yml."""
    files, groups, out = [], [], []
    for path in sorted((root / "alerts").glob("*.y*ml")):
        files.append(str(path))
        for group in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("groups", []):
            groups.append(group["name"])
            for rule in group.get("rules", []):
                if "record" in rule:
                    out.append((f"{path.name} / {group['name']} / {rule['record']}",
                                [("All", rule["record"])]))
    return files, groups, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exposition", type=pathlib.Path)
    parser.add_argument("--root", type=pathlib.Path, required=True)
    parser.add_argument("--promtool", default="promtool")
    args = parser.parse_args()
    root = args.root.resolve()

    series = input_series(args.exposition.read_text(encoding="utf-8"))
    targets = targets_of(series)
    rule_files, groups, queries = recording_rules(root)
    queries = dashboard_queries(root, targets) + queries
    if not series or not targets or not queries:
        print("nothing to evaluate (no series, no target or no expressions)")
        return 1
    # One recording rule per (query, selection), evaluated after the shipped rules.
    rules = [{"record": "query_data_result",
              "expr": f"(count(({expr})) > bool 0) or vector(0)",
              "labels": {"query": str(i), "selection": selection}}
             for i, (_, variants) in enumerate(queries) for selection, expr in variants]
    per_target = [i for i, (_, variants) in enumerate(queries) if len(variants) > 1]

    def expect(indexes):
        return [{"labels": f'{{query="{i}"}}', "value": 1} for i in indexes]

    with tempfile.TemporaryDirectory() as tmp:
        generated = pathlib.Path(tmp) / "query_data.rules.yml"
        generated.write_text(yaml.safe_dump({"groups": [{"name": "query_data", "rules": rules}]},
                                            sort_keys=False, width=1 << 16), encoding="utf-8")
        test_file = {
            "rule_files": rule_files + [str(generated)], "evaluation_interval": "2m",
            "group_eval_order": groups + ["query_data"],
            "tests": [{
                "name": f"{len(queries)} queries against {args.exposition.name}",
                "interval": "1m", "input_series": series,
                "promql_expr_test": [
                    # Every query returns data with every variable at "All" …
                    {"expr": 'min by (query) (query_data_result{selection="All"})',
                     "eval_time": EVAL_TIME, "exp_samples": expect(range(len(queries)))},
                    # … and for at least one target picked alone.
                    {"expr": 'max by (query) (query_data_result{selection!="All"})',
                     "eval_time": EVAL_TIME, "exp_samples": expect(per_target)}]}]}
        path = pathlib.Path(tmp) / "query_data.test.yml"
        path.write_text(yaml.safe_dump(test_file, sort_keys=False, width=1 << 16),
                        encoding="utf-8")
        result = subprocess.run([args.promtool, "test", "rules", str(path)],
                                capture_output=True, text=True, check=False)
    print(result.stdout + result.stderr)
    if result.returncode != 0:
        print("queries (query label → dashboard / panel / refId, or rule file / group / record):")
        for i, (where, _) in enumerate(queries):
            print(f"  {i}: {where}")
        return 1
    print(f"ok: {len(queries)} queries return data with every variable at All, the "
          f"{len(per_target)} using $target also with one of {len(targets)} targets picked "
          f"alone ({len(rules)} evaluations over {len(series)} input series)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
