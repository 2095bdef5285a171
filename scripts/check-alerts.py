#!/usr/bin/env python3
"""Checks the Prometheus rule files in alerts/ against gomodprobe's conventions.

Monitoring-mixin conventions (github.com/monitoring-mixins/docs):
  - every rule file passes `promtool check rules`;
  - alert names are CamelCase with the prefix GoModProbe;
  - `severity` is critical, warning or info;
  - annotations `summary`, `description` (templated with $labels or $value) and `runbook_url`
    = RUNBOOK_BASE#<alertname-lowercase>, an anchor that docs/runbook.md has (GitHub heading
    slugs); docs/runbook.md has no section for an alert that does not exist;
  - recording rules are named level:metric:operations;
  - every gomodprobe_* metric an expression uses is a family of src/metrics/probe_collector.cc
    (plus _bucket/_count/_sum of its histograms), every recording rule used is defined;
  - every alert has tests/rules/<AlertName>.test.yml with a case where it fires and one where it
    stays silent, and every test file fixes the group evaluation order (recording rules first).

Usage: scripts/check-alerts.py [--root DIR] [--promtool PATH]. Exit status 1 on any problem.
"""

import argparse
import pathlib
import re
import subprocess
import sys

import yaml

RUNBOOK_BASE = "https://github.com/gomodprobe/gomodprobe/blob/main/docs/runbook.md"
PREFIX = "GoModProbe"
SEVERITIES = {"critical", "warning", "info"}
REQUIRED_ANNOTATIONS = ("summary", "description", "runbook_url")
# GoModProbe + CamelCase words; an acronym word may be all caps with digits (HTTP2, TLS, DNS).
ALERT_NAME = re.compile(r"^GoModProbe(?:[A-Z][a-z0-9]+|[A-Z][A-Z0-9]*(?=[A-Z][a-z]|$))+$")
RECORD_NAME = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*:[a-z0-9_]+$")
# A metric name not part of a recording rule name (those have colons on either side).
METRIC_REF = re.compile(r"(?<![\w:])(gomodprobe_[a-z0-9_]+)(?![\w:])")
RECORD_REF = re.compile(r"(?<![\w:])([a-z][a-z0-9_]*:[a-z][a-z0-9_]*:[a-z0-9_]+)(?![\w:])")
FAMILY = re.compile(r'family\(\s*"(gomodprobe_[a-z0-9_]+)".*?MetricType::(\w+)\s*\)', re.DOTALL)


def github_slug(heading):
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces → '-'."""
    slug = heading.strip().lower()
    slug = re.sub(r"[^\w\- ]", "", slug)
    return slug.replace(" ", "-")


def runbook_anchors(path):
    anchors = {}
    in_fence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if match:
            anchors[github_slug(match.group(2))] = (len(match.group(1)), match.group(2))
    return anchors


def collector_metrics(path):
    """Metric names the agent exposes, from the family(...) calls of the collector."""
    names = set()
    for name, kind in FAMILY.findall(path.read_text(encoding="utf-8")):
        names.add(name)
        if kind == "Histogram":
            names.update({name + "_bucket", name + "_count", name + "_sum"})
    return names


class Checker:
    def __init__(self, root, promtool):
        self.root = root
        self.promtool = promtool
        self.problems = []

    def problem(self, where, message):
        self.problems.append(f"{where}: {message}")

    def run(self):
        rule_files = sorted((self.root / "alerts").glob("*.yml"))
        if not rule_files:
            self.problem("alerts/", "no rule files")
            return self.problems
        for path in rule_files:
            self.promtool_check(path)
        docs = self.root / "docs" / "runbook.md"
        anchors = runbook_anchors(docs) if docs.exists() else {}
        if not docs.exists():
            self.problem("docs/runbook.md", "missing")
        metrics = collector_metrics(self.root / "src" / "metrics" / "probe_collector.cc")
        if not metrics:
            self.problem("src/metrics/probe_collector.cc", "no metric families found")

        groups, recording_groups, alerts, records, exprs = [], [], {}, set(), []
        for path in rule_files:
            rel = path.relative_to(self.root)
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for group in data.get("groups", []):
                groups.append(group["name"])
                if all("record" in rule for rule in group.get("rules", [])):
                    recording_groups.append(group["name"])
                for rule in group.get("rules", []):
                    exprs.append((rel, rule.get("alert") or rule.get("record"), str(rule["expr"])))
                    if "alert" in rule:
                        alerts.setdefault(rule["alert"], []).append(rule)
                        self.check_alert(rel, rule, anchors)
                    else:
                        records.add(rule["record"])
                        if not RECORD_NAME.match(rule["record"]):
                            self.problem(rel, f"recording rule {rule['record']!r} is not "
                                         "level:metric:operations")
        if len(groups) != len(set(groups)):
            self.problem("alerts/", f"duplicate group names in {groups}")
        for rel, name, expr in exprs:
            for metric in sorted(set(METRIC_REF.findall(expr)) - metrics):
                self.problem(rel, f"{name}: metric {metric} is not exposed by the collector")
            for record in sorted(set(RECORD_REF.findall(expr)) - records):
                self.problem(rel, f"{name}: recording rule {record} is not defined")

        alert_anchors = {name.lower() for name in alerts}
        for slug, (_, heading) in anchors.items():
            if heading.startswith(PREFIX) and slug not in alert_anchors:
                self.problem("docs/runbook.md", f"section {heading!r} has no alert")
        # Recording rules before the alerts that read them, each in file order.
        order = recording_groups + [g for g in groups if g not in recording_groups]
        self.check_tests(alerts, order)
        return self.problems

    def promtool_check(self, path):
        result = subprocess.run([self.promtool, "check", "rules", str(path)],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            self.problem(path.relative_to(self.root),
                         "promtool check rules failed:\n" + result.stdout + result.stderr)

    def check_alert(self, rel, rule, anchors):
        name = rule["alert"]
        where = f"{rel}: {name}"
        if not name.startswith(PREFIX) or not ALERT_NAME.match(name):
            self.problem(where, f"name is not CamelCase with the prefix {PREFIX}")
        severity = (rule.get("labels") or {}).get("severity")
        if severity not in SEVERITIES:
            self.problem(where, f"severity {severity!r} is not one of {sorted(SEVERITIES)}")
        annotations = rule.get("annotations") or {}
        for key in REQUIRED_ANNOTATIONS:
            if not str(annotations.get(key, "")).strip():
                self.problem(where, f"annotation {key} is missing or empty")
        description = str(annotations.get("description", ""))
        if "{{" not in description or not re.search(r"\$labels|\$value", description):
            self.problem(where, "description is not templated with $labels or $value")
        expected = f"{RUNBOOK_BASE}#{name.lower()}"
        if annotations.get("runbook_url") != expected:
            self.problem(where, f"runbook_url is {annotations.get('runbook_url')!r}, "
                         f"expected {expected!r}")
        anchor = anchors.get(name.lower())
        if anchor is None:
            self.problem(where, f"docs/runbook.md has no heading with anchor #{name.lower()}")
        elif anchor[1] != name:
            self.problem(where, f"runbook heading {anchor[1]!r} should be exactly the alert name")

    def check_tests(self, alerts, order):
        test_dir = self.root / "tests" / "rules"
        for name in sorted(alerts):
            path = test_dir / f"{name}.test.yml"
            rel = path.relative_to(self.root)
            if not path.exists():
                self.problem(rel, f"missing: {name} has no promtool unit test")
                continue
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if data.get("group_eval_order") != order:
                self.problem(rel, f"group_eval_order must be {order} (recording rules first)")
            fires = silent = 0
            for test in data.get("tests", []):
                for case in test.get("alert_rule_test", []):
                    if case.get("alertname") != name:
                        continue
                    if case.get("exp_alerts"):
                        fires += 1
                    else:
                        silent += 1
            if not fires:
                self.problem(rel, f"no case where {name} fires")
            if not silent:
                self.problem(rel, f"no case where {name} stays silent")
        for path in sorted(test_dir.glob("*.test.yml")):
            if path.name[: -len(".test.yml")] not in alerts:
                self.problem(path.relative_to(self.root), "tests an alert that does not exist")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=pathlib.Path,
                        default=pathlib.Path(__file__).resolve().parent.parent)
    parser.add_argument("--promtool", default="promtool")
    args = parser.parse_args()
    problems = Checker(args.root.resolve(), args.promtool).run()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("alerts: conventions OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
