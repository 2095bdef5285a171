#!/usr/bin/env python3
"""Generates the Grafana dashboards in dashboards/*.json (the committed files are its output).

    python3 scripts/dashboards.py            # rewrites dashboards/*.json
    python3 scripts/dashboards.py --out DIR  # writes them into DIR (the tests diff that copy)

Edit this file, not the JSON. Every query binds only to metric names and labels that
src/metrics/probe_collector.cc exports today (plus `up` from Prometheus itself); the dashboards
are provisioning-ready: a `datasource` variable, `${datasource}` everywhere, stable uids, no
`__inputs`, `"id": null`. The rules are enforced by tests/dashboards/check_dashboards.py.

Labels: `job` and `instance` come from the scrape (instance = one CI runner's agent); `target`
(`chain` for chain targets) from the agent.
"""

import argparse
import json
import pathlib
import sys

DS = {"type": "prometheus", "uid": "${datasource}"}
# Selectors: every query is filtered by the job/instance/target variables.
RUNNERS = 'job=~"$job", instance=~"$instance"'
SEL = RUNNERS + ', target=~"$target"'
CHAIN_SEL = RUNNERS + ', chain=~"$target"'
RI = "$__rate_interval"

# The availability SLO the SLO dashboard is built for (issue 5: 99.9 % over 30 days) and the
# latency SLO: module fetch steps faster than LATENCY_LE seconds, which must be a bucket bound of
# kLatencyBuckets in src/metrics/probe_collector.h (… 1, 2.5, 5 …).
AVAILABILITY_OBJECTIVE = "0.999"
LATENCY_OBJECTIVE = "0.99"
LATENCY_LE = "2.5"


# --- building blocks ---------------------------------------------------------------------------


def target(expr, legend="", ref="A", instant=False, fmt=None):
    t = {"datasource": DS, "refId": ref, "expr": expr, "editorMode": "code", "range": not instant,
         "instant": instant}
    if legend:
        t["legendFormat"] = legend
    if fmt:
        t["format"] = fmt
    return t


def thresholds(*steps):
    """steps: (color, value) pairs, the first value None (base)."""
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in steps]}


RED_GREEN = thresholds(("red", None), ("green", 1))


def red_green_text(bad, good):
    """Value mappings of a 0/1 gauge: 0 shows `bad` in red, 1 shows `good` in green."""
    return [{"type": "value", "options": {"0": {"text": bad, "color": "red", "index": 0},
                                           "1": {"text": good, "color": "green", "index": 1}}}]


OK_FAIL = red_green_text("FAIL", "OK")


def grouping_to_matrix(row_field, column_field, empty="null"):
    """Transformations of an instant table query into a row_field × column_field matrix."""
    return [{"id": "groupingToMatrix", "options": {
        "rowField": row_field, "columnField": column_field, "valueField": "Value",
        "emptyValue": empty}}]


def status_matrix(title, expr, description, bad, good, row_field, column_field, **kw):
    """A table of a 0/1 gauge as a row_field × column_field matrix, 0 red `bad`, 1 green `good`."""
    return table(title, "none", [target(expr, instant=True, fmt="table")], description,
                 steps=RED_GREEN, mappings=red_green_text(bad, good),
                 transformations=grouping_to_matrix(row_field, column_field), **kw)


def panel(kind, title, unit, targets, description="", defaults=None, options=None, overrides=None,
          transformations=None, w=12, h=8):
    fd = {"unit": unit}
    fd.update(defaults or {})
    p = {"type": kind, "title": title, "description": description, "datasource": DS,
         "fieldConfig": {"defaults": fd, "overrides": overrides or []}, "options": options or {},
         "targets": targets, "gridPos": {"w": w, "h": h}}
    if transformations:
        p["transformations"] = transformations
    return p


def timeseries(title, unit, targets, description="", stack=False, line_thresholds=None, **kw):
    custom = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10 if stack else 0,
              "showPoints": "never", "spanNulls": False,
              "stacking": {"mode": "normal" if stack else "none", "group": "A"}}
    defaults = {"custom": custom}
    if line_thresholds:
        custom["thresholdsStyle"] = {"mode": "dashed"}
        defaults["thresholds"] = line_thresholds
    defaults.update(kw.pop("defaults", {}))
    options = {"legend": {"displayMode": "table", "placement": "bottom", "showLegend": True,
                          "calcs": ["lastNotNull", "max"]},
               "tooltip": {"mode": "multi", "sort": "desc"}}
    return panel("timeseries", title, unit, targets, description, defaults, options, **kw)


def stat(title, unit, targets, description="", steps=None, mappings=None, w=6, h=4, **kw):
    defaults = {"thresholds": steps or thresholds(("green", None)), "color": {"mode": "thresholds"}}
    if mappings:
        defaults["mappings"] = mappings
    options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "colorMode": "background", "graphMode": "none", "textMode": "auto",
               "justifyMode": "auto", "orientation": "auto"}
    return panel("stat", title, unit, targets, description, defaults, options, w=w, h=h, **kw)


def table(title, unit, targets, description="", steps=None, mappings=None, cell="color-background",
          transformations=None, overrides=None, w=12, h=8, sort=None):
    defaults = {"custom": {"align": "auto", "cellOptions": {"type": cell}, "inspect": False},
                "thresholds": steps or thresholds(("green", None)), "color": {"mode": "thresholds"}}
    if mappings:
        defaults["mappings"] = mappings
    options = {"showHeader": True, "cellHeight": "sm", "footer": {"show": False}}
    if sort:
        options["sortBy"] = [{"displayName": sort, "desc": False}]
    return panel("table", title, unit, targets, description, defaults, options, overrides,
                 transformations, w=w, h=h)


def override_unit(field, unit, steps=None, mappings=None):
    props = [{"id": "unit", "value": unit}]
    if steps:
        props.append({"id": "thresholds", "value": steps})
    if mappings:
        props.append({"id": "mappings", "value": mappings})
    return {"matcher": {"id": "byName", "options": field}, "properties": props}


def merge_table(columns):
    """Instant table queries merged on their labels; columns: refId → display name."""
    return [{"id": "merge", "options": {}},
            {"id": "organize", "options": {
                "excludeByName": {"Time": True},
                "renameByName": {"Value #" + ref: name for ref, name in columns.items()}}}]


def query_var(name, label, query, multi=True, include_all=True):
    return {"type": "query", "name": name, "label": label, "datasource": DS,
            "definition": query, "query": {"query": query, "refId": "PrometheusVariableQueryEditor-"
                                           + name, "qryType": 1},
            "refresh": 2, "sort": 1, "multi": multi, "includeAll": include_all,
            "allValue": ".*" if include_all else None,
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]} if include_all
            else {}, "options": [], "hide": 0, "regex": ""}


def constant_var(name, value, description):
    return {"type": "constant", "name": name, "description": description, "query": value,
            "hide": 2, "current": {"text": value, "value": value},
            "options": [{"selected": True, "text": value, "value": value}]}


def variables(target_multi=True):
    return [
        {"type": "datasource", "name": "datasource", "label": "Data source", "query": "prometheus",
         "current": {}, "hide": 0, "includeAll": False, "multi": False, "options": [],
         "refresh": 1, "regex": ""},
        query_var("job", "Job", "label_values(gomodprobe_build_info, job)"),
        query_var("instance", "Runner",
                  'label_values(gomodprobe_build_info{job=~"$job"}, instance)'),
        query_var("target", "Target",
                  'label_values(gomodprobe_probes_total{job=~"$job", instance=~"$instance"}, '
                  'target)', multi=target_multi, include_all=target_multi),
    ]


def row(title):
    return {"type": "row", "title": title, "collapsed": False, "panels": [],
            "gridPos": {"w": 24, "h": 1}}


def layout(panels):
    """Assigns ids and x/y positions: panels flow left to right and wrap at 24 columns."""
    x = y = row_h = 0
    for i, p in enumerate(panels, start=1):
        p["id"] = i
        w, h = p["gridPos"]["w"], p["gridPos"]["h"]
        if p["type"] == "row" or x + w > 24:
            x, y, row_h = 0, y + row_h, 0
        p["gridPos"].update({"x": x, "y": y})
        x += w
        row_h = max(row_h, h)
        if p["type"] == "row":
            x, y, row_h = 0, y + h, 0
    return panels


def dashboard(uid, title, description, panels, tags, extra_vars=(), target_multi=True,
              time_from="now-6h"):
    return {
        "id": None, "uid": uid, "title": title, "description": description,
        "tags": ["gomodprobe"] + tags, "editable": True, "graphTooltip": 1,
        "schemaVersion": 38, "version": 1, "refresh": "1m", "timezone": "",
        "time": {"from": time_from, "to": "now"}, "fiscalYearStartMonth": 0, "liveNow": False,
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True,
            "hide": True, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts",
            "type": "dashboard"}]},
        "links": [{"type": "dashboards", "tags": ["gomodprobe"], "title": "gomodprobe",
                   "asDropdown": True, "includeVars": True, "keepTime": True}],
        "templating": {"list": variables(target_multi) + list(extra_vars)},
        "panels": layout(panels),
    }


def quantiles(expr_by, legend_prefix, metric, by):
    """p50/p95/p99 of a histogram, aggregated across runners `by` the given labels."""
    return [target(f"histogram_quantile({q}, sum by ({by}le) "
                   f"(rate({metric}_bucket{{{expr_by}}}[{RI}])))",
                   f"p{int(float(q) * 100)} {legend_prefix}", ref)
            for q, ref in (("0.5", "A"), ("0.95", "B"), ("0.99", "C"))]


# Run and phase histograms (gomodprobe_probe_duration_seconds, gomodprobe_phase_duration_seconds)
# come in two shapes (config `global.histograms`, include/gomodprobe/config.h HistogramScope):
# per target (label `target`, the default `per_target`) or, from agents set to `per_kind`, one per
# kind and runner (label `kind`, no `target`). scoped() selects both, so every panel works with
# either setting and with a fleet that mixes them, without a dashboard variable.
SCOPE_NOTE = ("With `histograms: per_kind` (many targets) an agent has no per-target run and "
              "phase histograms: this panel then shows the histograms of all targets of the "
              "selected targets' kinds on the selected runners, ")


def scoped(series, extra=""):
    """rate(series) of the selected targets' own histograms (per_target) or, on agents with
    `histograms: per_kind`, of the kind-wide ones (no target label) of the selected targets'
    kinds on the same runner. `extra`: more matchers, ", "-prefixed."""
    per_target = f'rate({series}{{{SEL}, target!=""{extra}}}[{RI}])'
    per_kind = (f'rate({series}{{{RUNNERS}, target=""{extra}}}[{RI}]) '
                f"and on (job, instance, kind) gomodprobe_probes_total{{{SEL}}}")
    return f"({per_target} or {per_kind})"


def scoped_quantiles(legend_prefix, metric, by, extra=""):
    """p50/p95/p99 of a run or phase histogram (either scope), across runners, `by` labels."""
    return [target(f"histogram_quantile({q}, sum by ({by}le) "
                   f"{scoped(metric + '_bucket', extra)})",
                   f"p{int(float(q) * 100)} {legend_prefix}", ref)
            for q, ref in (("0.5", "A"), ("0.95", "B"), ("0.99", "C"))]


def scoped_mean(metric, by, extra=""):
    """Mean of a run or phase histogram (either scope), across runners, `by` labels."""
    return (f"sum by ({by}) {scoped(metric + '_sum', extra)} / "
            f"sum by ({by}) {scoped(metric + '_count', extra)}")


def success_ratio(by, sel=SEL):
    """Share of successful runs by `by` over the rate interval (1 when no failure series)."""
    runs = f"sum by ({by}) (rate(gomodprobe_probes_total{{{sel}}}[{RI}]))"
    failed = f"sum by ({by}) (rate(gomodprobe_probe_failures_total{{{sel}}}[{RI}]))"
    return f"1 - (({failed}) or ({runs}) * 0) / ({runs} > 0)"


# --- fleet overview ----------------------------------------------------------------------------


def fleet():
    p = [
        row("Fleet"),
        stat("Runners reporting", "short",
             [target(f"count(count by (instance) (gomodprobe_build_info{{{RUNNERS}}}))",
                     instant=True)],
             "Agents (runners) with a gomodprobe_build_info series right now."),
        stat("Agents scraped up", "percentunit",
             [target(f"avg(up{{{RUNNERS}}})", instant=True)],
             "Share of the selected agents whose last scrape succeeded (Prometheus' `up`).",
             steps=thresholds(("red", None), ("orange", 0.9), ("green", 1))),
        stat("Targets failing now", "short",
             [target(f"count(max by (target) (gomodprobe_probe_success{{{SEL}}}) == 0) "
                     "or vector(0)", instant=True)],
             "Targets whose last run failed on every selected runner.",
             steps=thresholds(("green", None), ("red", 1))),
        stat("(Runner, target) pairs failing now", "short",
             [target(f"count(gomodprobe_probe_success{{{SEL}}} == 0) or vector(0)",
                     instant=True)],
             "Last runs that failed, counted per runner and target.",
             steps=thresholds(("green", None), ("orange", 1))),
        timeseries("Success ratio per target (all selected runners)", "percentunit",
                   [target(success_ratio("target"), "{{target}}")],
                   "Successful runs / runs per target, summed across runners, over the rate "
                   "interval. A drop on every target at once points at the runners' network; a "
                   "drop on one target at its proxy.",
                   defaults={"min": 0, "max": 1}, w=24),
        status_matrix("Runner × target status (last run)",
                      f"max by (instance, target) (gomodprobe_probe_success{{{SEL}}})",
                      "Rows: runners, columns: targets, cell: result of the last run. A red column "
                      "is a proxy/target problem seen from everywhere; a red row is a runner "
                      "(network segment, DNS, egress proxy) problem.",
                      "FAIL", "OK", "instance", "target", w=24, h=10),
        timeseries("Failure ratio per runner", "percentunit",
                   [target(f"1 - ({success_ratio('instance')})", "{{instance}}")],
                   "Failed runs / runs per runner over all selected targets.",
                   defaults={"min": 0, "max": 1}),
        timeseries("Failure reasons over time", "opm",
                   [target(f"sum by (reason) (rate(gomodprobe_probe_failures_total{{{SEL}}}"
                           f"[{RI}])) * 60", "{{reason}}")],
                   "Failed runs per minute by failure reason, across runners and targets.",
                   stack=True),
        timeseries("Runs not finished recently (seconds since last run)", "s",
                   [target(f"time() - max by (instance, target) "
                           f"(gomodprobe_probe_last_run_timestamp_seconds{{{SEL}}})",
                           "{{instance}} {{target}}")],
                   "Age of the last finished run; it should stay below the target's interval.",
                   w=24),
        row("Latency"),
        timeseries("Probe duration per target (p50/p95/p99)", "s",
                   scoped_quantiles("{{target}} ({{kind}})", "gomodprobe_probe_duration_seconds",
                                    "target, kind, "),
                   "Whole runs (DNS, every HTTP attempt, module fetches), across runners. "
                   + SCOPE_NOTE + "one line per kind with an empty target name, e.g. "
                   "\"p95  (http)\" for all http targets."),
        timeseries("Phase latency (p50/p95/p99)", "s",
                   scoped_quantiles("{{phase}}", "gomodprobe_phase_duration_seconds", "phase, "),
                   "resolve/connect/tls/processing/transfer of the HTTP attempts, across runners "
                   "and targets. " + SCOPE_NOTE + "not only the selected targets."),
        timeseries("Module fetch step latency (p50/p95/p99)", "s",
                   quantiles(SEL, "{{step}}", "gomodprobe_module_fetch_duration_seconds",
                             "step, "),
                   "list/latest/info/mod/zip (zip includes hashing) of goproxy and chain targets.",
                   w=24),
        row("HTTP/2 vs HTTP/1.1"),
        timeseries("HTTP/1.1: success per target", "percentunit",
                   [target(f'avg by (target) (gomodprobe_http_success{{{SEL}, '
                           f'http_version="1.1"}})', "{{target}}")],
                   "Share of runners whose last HTTP/1.1 attempt got a 2xx.",
                   defaults={"min": 0, "max": 1}),
        timeseries("HTTP/2: success per target", "percentunit",
                   [target(f'avg by (target) (gomodprobe_http_success{{{SEL}, '
                           f'http_version="2"}})', "{{target}}")],
                   "Share of runners whose last HTTP/2 attempt got a 2xx. HTTP/2 down while "
                   "HTTP/1.1 is up: an h2-breaking middlebox or proxy.",
                   defaults={"min": 0, "max": 1}),
        table("HTTP/1.1 vs HTTP/2 per target (last runs)", "percentunit",
              [target(f'avg by (target) (gomodprobe_http_success{{{SEL}, http_version="1.1"}})',
                      ref="A", instant=True, fmt="table"),
               target(f'avg by (target) (gomodprobe_http_success{{{SEL}, http_version="2"}})',
                      ref="B", instant=True, fmt="table"),
               target(f'min by (target) (gomodprobe_http_negotiated_version{{{SEL}, '
                      f'http_version="2"}})', ref="C", instant=True, fmt="table"),
               target(f'max by (target) (gomodprobe_http_status_code{{{SEL}, '
                      f'http_version="2"}})', ref="D", instant=True, fmt="table")],
              "Success share across runners per requested version, the lowest version spoken "
              "when HTTP/2 was asked for (1.1: downgraded by ALPN on some runner) and the last "
              "HTTP/2 status code.",
              steps=thresholds(("red", None), ("orange", 0.5), ("green", 1)),
              transformations=merge_table({"A": "HTTP/1.1 ok", "B": "HTTP/2 ok",
                                           "C": "spoken when h2 asked", "D": "h2 status"}),
              overrides=[override_unit("spoken when h2 asked", "none",
                                       thresholds(("red", None), ("orange", 1), ("green", 2))),
                         override_unit("h2 status", "none",
                                       thresholds(("red", None), ("green", 200),
                                                  ("red", 300)))],
              w=24),
        timeseries("HTTP/1.1 vs HTTP/2 time to first byte (p95)", "s",
                   [target("histogram_quantile(0.95, sum by (http_version, le) "
                           + scoped("gomodprobe_phase_duration_seconds_bucket",
                                    ', phase="processing"') + ")",
                           "HTTP/{{http_version}}")],
                   "p95 of the processing phase (request sent → first byte) per requested "
                   "version. " + SCOPE_NOTE + "not only the selected targets.", w=24),
        row("TLS and DNS"),
        table("TLS certificate expiry", "s",
              [target(f"min by (target) (gomodprobe_tls_cert_not_after_timestamp_seconds"
                      f"{{{SEL}}}) - time()", instant=True, fmt="table")],
              "Time left until the earliest notAfter in the presented chain, lowest across "
              "runners (a runner behind a TLS-intercepting proxy sees another chain).",
              steps=thresholds(("red", None), ("orange", 7 * 86400), ("green", 14 * 86400)),
              transformations=[{"id": "organize", "options": {
                  "excludeByName": {"Time": True}, "renameByName": {"Value": "expires in"}}}],
              sort="expires in"),
        status_matrix("DNS resolver agreement",
                      f"min by (instance, target) (gomodprobe_dns_resolvers_agree{{{SEL}}})",
                      "Per runner and target: do all configured resolvers return the same address "
                      "set? Disagreement on one runner: split-horizon or a poisoned resolver there.",
                      "DISAGREE", "agree", "instance", "target"),
        timeseries("DNS lookup duration per resolver (max across runners)", "s",
                   [target(f"max by (target, resolver) "
                           f"(gomodprobe_dns_lookup_duration_seconds{{{SEL}}})",
                           "{{target}} @ {{resolver}}")],
                   "Duration of the last lookup of each target's host per resolver.", w=24),
        row("Agents"),
        table("Agents (build, configuration)", "none",
              [target(f"max by (instance, version, revision) (gomodprobe_build_info{{{RUNNERS}}})",
                      ref="A", instant=True, fmt="table"),
               target(f"min by (instance) (gomodprobe_config_last_reload_successful{{{RUNNERS}}})",
                      ref="B", instant=True, fmt="table"),
               target(f"time() - max by (instance) "
                      f"(gomodprobe_config_last_reload_success_timestamp_seconds{{{RUNNERS}}})",
                      ref="C", instant=True, fmt="table")],
              "Agent version per runner, whether its last configuration (re)load succeeded (a "
              "failed reload keeps the old configuration running) and when the running one was "
              "loaded.", cell="auto",
              transformations=[{"id": "merge", "options": {}}, {"id": "organize", "options": {
                  "excludeByName": {"Time": True, "Value #A": True},
                  "renameByName": {"Value #B": "config reload ok", "Value #C": "config age"}}}],
              overrides=[override_unit("config reload ok", "none", RED_GREEN, OK_FAIL),
                         override_unit("config age", "s")]),
        timeseries("Scheduler lag p95 and skipped runs", "s",
                   [target(f"histogram_quantile(0.95, sum by (instance, le) (rate("
                           f"gomodprobe_scheduler_lag_seconds_bucket{{{RUNNERS}}}[{RI}])))",
                           "p95 lag {{instance}}"),
                    target(f"sum by (instance) (rate(gomodprobe_scheduler_skipped_runs_total"
                           f"{{{RUNNERS}}}[{RI}])) * 60", "skipped/min {{instance}}", ref="B")],
                   "Start delay of runs waiting for a concurrency slot (p95), and slots skipped "
                   "per minute because the previous run was still going (right axis: count).",
                   overrides=[{"matcher": {"id": "byFrameRefID", "options": "B"}, "properties": [
                       {"id": "unit", "value": "opm"},
                       {"id": "custom.axisPlacement", "value": "right"}]}]),
    ]
    return dashboard("gomodprobe-fleet", "gomodprobe / Fleet overview",
                     "Go module supply chain probes across all runners: which targets and which "
                     "runners fail, why, and how fast.", p, ["fleet"])


# --- target drill-down -------------------------------------------------------------------------


def mean(metric, sel, by):
    return (f"sum by ({by}) (rate({metric}_sum{{{sel}}}[{RI}])) / "
            f"sum by ({by}) (rate({metric}_count{{{sel}}}[{RI}]))")


def drilldown():
    latest_all = f"gomodprobe_module_latest_timestamp_seconds{{{RUNNERS}}}"
    latest_this = f"gomodprobe_module_latest_timestamp_seconds{{{SEL}}}"
    p = [
        row("Result"),
        stat("Last run (worst runner)", "none",
             [target(f"min(gomodprobe_probe_success{{{SEL}}})", instant=True)],
             "OK only if the last run succeeded on every selected runner.", steps=RED_GREEN,
             mappings=OK_FAIL),
        stat("Success ratio (rate interval)", "percentunit",
             [target(f"avg({success_ratio('target')})", instant=True)],
             "Successful runs / runs across runners.",
             steps=thresholds(("red", None), ("orange", 0.99), ("green", 0.999))),
        stat("Runs per minute (all runners)", "opm",
             [target(f"sum(rate(gomodprobe_probes_total{{{SEL}}}[{RI}])) * 60", instant=True)],
             "Runs of this target per minute across the selected runners."),
        stat("Runs in flight (selected agents)", "short",
             [target(f"sum(gomodprobe_probes_in_flight{{{RUNNERS}}})", instant=True)],
             "Runs in flight now on the selected agents (all targets)."),
        timeseries("Failures by reason and runner", "opm",
                   [target(f"sum by (instance, reason) (rate(gomodprobe_probe_failures_total"
                           f"{{{SEL}}}[{RI}])) * 60", "{{instance}} {{reason}}")],
                   "Failed runs per minute.", stack=True),
        timeseries("Probe duration (p50/p95/p99)", "s",
                   scoped_quantiles("", "gomodprobe_probe_duration_seconds", "") + [
                       target(f"max(gomodprobe_probe_last_duration_seconds{{{SEL}}})",
                              "last run (slowest runner)", "D")],
                   "Whole runs across runners, and the last run's duration on the slowest "
                   "runner. " + SCOPE_NOTE + "not only this one; `last run` stays this "
                   "target's own."),
        row("HTTP phases per version"),
        timeseries("HTTP/1.1 phases (mean)", "s",
                   [target(scoped_mean("gomodprobe_phase_duration_seconds", "phase",
                                       ', http_version="1.1"'), "{{phase}}")],
                   "Mean duration of each phase of the HTTP/1.1 attempts, stacked. " + SCOPE_NOTE
                   + "not only this one (its own phases: the agent's /probe?target= page).",
                   stack=True),
        timeseries("HTTP/2 phases (mean)", "s",
                   [target(scoped_mean("gomodprobe_phase_duration_seconds", "phase",
                                       ', http_version="2"'), "{{phase}}")],
                   "Mean duration of each phase of the HTTP/2 attempts, stacked. " + SCOPE_NOTE
                   + "not only this one (its own phases: the agent's /probe?target= page).",
                   stack=True),
        timeseries("Phase p95 per version", "s",
                   [target("histogram_quantile(0.95, sum by (phase, http_version, le) "
                           + scoped("gomodprobe_phase_duration_seconds_bucket") + ")",
                           "HTTP/{{http_version}} {{phase}}")],
                   "p95 of each phase per requested HTTP version, across runners. " + SCOPE_NOTE
                   + "not only this one."),
        table("HTTP per runner (last run)", "none",
              [target(f"max by (instance, http_version) (gomodprobe_http_status_code{{{SEL}}})",
                      ref="A", instant=True, fmt="table"),
               target(f"max by (instance, http_version) "
                      f"(gomodprobe_http_negotiated_version{{{SEL}}})",
                      ref="B", instant=True, fmt="table"),
               target(f"max by (instance, http_version) (gomodprobe_http_success{{{SEL}}})",
                      ref="C", instant=True, fmt="table")],
              "Status code, version spoken and result per runner and requested version.",
              cell="auto",
              transformations=merge_table({"A": "status", "B": "spoken", "C": "ok"}),
              overrides=[override_unit("ok", "none", RED_GREEN, OK_FAIL)]),
        table("TLS (last handshake per runner)", "s",
              [target(f"max by (instance, version, cipher) (gomodprobe_tls_info{{{SEL}}})",
                      ref="A", instant=True, fmt="table"),
               target(f"min by (instance) (gomodprobe_tls_cert_not_after_timestamp_seconds"
                      f"{{{SEL}}}) - time()", ref="B", instant=True, fmt="table")],
              "TLS version and cipher negotiated, and the time until the earliest notAfter.",
              cell="auto",
              transformations=[{"id": "merge", "options": {}}, {"id": "organize", "options": {
                  "excludeByName": {"Time": True, "Value #A": True},
                  "renameByName": {"Value #B": "cert expires in"}}}],
              overrides=[override_unit("cert expires in", "s",
                                       thresholds(("red", None), ("orange", 7 * 86400),
                                                  ("green", 14 * 86400)))]),
        timeseries("DNS lookup per resolver", "s",
                   [target(f"max by (resolver) (gomodprobe_dns_lookup_duration_seconds{{{SEL}}})",
                           "{{resolver}}")],
                   "Last lookup duration per resolver, the slowest runner."),
        timeseries("DNS answers per resolver", "short",
                   [target(f"max by (resolver, family) (gomodprobe_dns_answers{{{SEL}}})",
                           "{{resolver}} {{family}}"),
                    target(f"min(gomodprobe_dns_resolvers_agree{{{SEL}}})", "resolvers agree",
                           ref="B")],
                   "Addresses per resolver and family; `resolvers agree` 0 means some runner's "
                   "resolvers disagree."),
        row("Module fetch"),
        timeseries("Module fetch steps (p95)", "s",
                   [target(f"histogram_quantile(0.95, sum by (step, le) (rate("
                           f"gomodprobe_module_fetch_duration_seconds_bucket{{{SEL}}}[{RI}])))",
                           "{{step}}")],
                   "list → latest → info → mod → zip (zip includes streaming hash and zip "
                   "checks), across runners and modules."),
        timeseries("Module fetch steps (mean)", "s",
                   [target(mean("gomodprobe_module_fetch_duration_seconds", SEL, "step"),
                           "{{step}}")],
                   "Mean step duration, stacked: roughly the time of one module download.",
                   stack=True),
        timeseries("Module zip size", "bytes",
                   [target(f"max by (module) (gomodprobe_module_zip_size_bytes{{{SEL}}})",
                           "{{module}}")],
                   "Size of the module zip last fetched (max across runners)."),
        status_matrix("Hash match per module and runner",
                      f"min by (module, instance) (gomodprobe_module_hash_match{{{SEL}}})",
                      "h1 of the zip and go.mod against go_sum / the checksum database. A "
                      "mismatch is a tampered or corrupted module (security).",
                      "MISMATCH", "match", "module", "instance"),
        row("Checksum database"),
        timeseries("sumdb tree size", "short",
                   [target(f"max by (instance) (gomodprobe_sumdb_tree_size{{{SEL}}})",
                           "{{instance}}")],
                   "Size of the last verified signed tree head, per runner; it only grows."),
        table("sumdb verification (last run, worst runner)", "none",
              [target(f"min by (target) (gomodprobe_sumdb_signature_valid{{{SEL}}})", ref="A",
                      instant=True, fmt="table"),
               target(f"min by (target) (gomodprobe_sumdb_inclusion_verified{{{SEL}}})", ref="B",
                      instant=True, fmt="table"),
               target(f"min by (target) (gomodprobe_sumdb_consistency_verified{{{SEL}}})",
                      ref="C", instant=True, fmt="table")],
              "Signed note verified with the key; records proven included; tree proven to "
              "extend the largest tree seen before (0: fork or rollback).",
              steps=RED_GREEN, mappings=OK_FAIL,
              transformations=merge_table({"A": "signature", "B": "inclusion",
                                           "C": "consistency"})),
        row("Mirror freshness"),
        timeseries("@latest lag behind the freshest mirror", "s",
                   [target(f"max by (module) ({latest_all}) - on (module) "
                           f"min by (module) ({latest_this})", "{{module}}")],
                   "Per module asked at @latest: the .info Time of the newest @latest any mirror "
                   "serves minus the one this target serves (0: this target is the freshest).",
                   defaults={"min": 0}),
        table("@latest per mirror", "dateTimeAsIso",
              [target(f"max by (target, module) ({latest_all})", instant=True, fmt="table")],
              "The .info Time of the version each goproxy target serves as @latest.",
              cell="auto",
              transformations=grouping_to_matrix("module", "target")),
        table("@latest version per mirror and runner", "none",
              [target(f"max by (target, instance, module, version) "
                      f"(gomodprobe_module_latest_info{{{RUNNERS}}})", instant=True, fmt="table")],
              "Which version each mirror serves as @latest (CDN caches can lag).", cell="auto",
              transformations=[{"id": "organize", "options": {
                  "excludeByName": {"Time": True, "Value": True}}}]),
        table("Mirrors agree on h1 (per module version)", "none",
              [target(f"min by (module, version) (gomodprobe_mirrors_agree{{{RUNNERS}}})",
                      instant=True, fmt="table")],
              "Do all goproxy targets that served this version serve the same zip and go.mod h1? "
              "(Not per target: across the targets of each agent.)",
              steps=RED_GREEN, mappings=OK_FAIL,
              transformations=[{"id": "organize", "options": {"excludeByName": {"Time": True}}}]),
        row("GOPROXY chain"),
        table("Serving entry per module (chain targets)", "none",
              [target(f"max by (chain, module, instance) (gomodprobe_goproxy_chain_entry"
                      f"{{{CHAIN_SEL}}})", ref="A", instant=True, fmt="table")],
              "Index of the GOPROXY entry the go command would use (-1: none would serve).",
              steps=thresholds(("red", None), ("green", 0)),
              transformations=[{"id": "organize", "options": {"excludeByName": {"Time": True},
                                                              "renameByName": {
                                                                  "Value": "entry"}}}]),
        table("Chain lint findings", "none",
              [target(f"max by (chain, severity) (gomodprobe_chain_lint_problems{{{CHAIN_SEL}}})",
                      instant=True, fmt="table")],
              "GOPROXY / GONOPROXY / GONOSUMDB / GOPRIVATE lint findings by severity.",
              steps=thresholds(("green", None), ("orange", 1)),
              transformations=grouping_to_matrix("chain", "severity", empty="0")),
    ]
    return dashboard("gomodprobe-target", "gomodprobe / Target drill-down",
                     "One target in depth: HTTP phases per version, module fetch steps and "
                     "hashes, checksum database verification, mirror freshness.", p, ["target"],
                     target_multi=False)


# --- SLO ---------------------------------------------------------------------------------------
#
# Availability SLI: successful runs / runs of a target, summed across runners. Latency SLI:
# module fetch steps that took at most $latency_le seconds / all steps. The windows are the SRE
# workbook's (30 d SLO window; burn rates over 1h/5m, 6h/30m, 3d/6h): fixed by definition, so
# these rate()/increase() ranges are not $__rate_interval (the checker allows them only in
# dashboards tagged "slo").


def error_ratio(window, by="target"):
    runs = f"sum by ({by}) (increase(gomodprobe_probes_total{{{SEL}}}[{window}]))"
    failed = f"sum by ({by}) (increase(gomodprobe_probe_failures_total{{{SEL}}}[{window}]))"
    return f"(({failed}) or ({runs}) * 0) / ({runs} > 0)"


def burn_rate(window):
    return f"{error_ratio(window)} / (1 - $slo_availability)"


def latency_bad_ratio(window):
    total = (f"sum by (target) (increase(gomodprobe_module_fetch_duration_seconds_count"
             f"{{{SEL}}}[{window}]))")
    fast = (f"sum by (target) (increase(gomodprobe_module_fetch_duration_seconds_bucket"
            f"{{{SEL}, le=\"$latency_le\"}}[{window}]))")
    return f"1 - {fast} / ({total} > 0)"


def slo():
    budget = f"1 - {error_ratio('30d')} / (1 - $slo_availability)"
    lat_budget = f"1 - ({latency_bad_ratio('30d')}) / (1 - $slo_latency)"
    page = thresholds(("green", None), ("orange", 6), ("red", 14.4))
    p = [
        row("Availability (SLO: $slo_availability of runs over 30 d)"),
        table("Availability SLO per target", "percentunit",
              [target(f"1 - {error_ratio('30d')}", ref="A", instant=True, fmt="table"),
               target(budget, ref="B", instant=True, fmt="table"),
               target(burn_rate("1h"), ref="C", instant=True, fmt="table"),
               target(burn_rate("6h"), ref="D", instant=True, fmt="table"),
               target(burn_rate("3d"), ref="E", instant=True, fmt="table"),
               target(f"sum by (target) (increase(gomodprobe_probes_total{{{SEL}}}[1h]))",
                      ref="F", instant=True, fmt="table")],
              "30-day SLI (successful runs / runs across runners), error budget left and burn "
              "rates (1 = budget used up exactly in 30 d; page at 14.4 over 1h and 6 over 6h, "
              "ticket at 1 over 3d). Few runs in the last hour make the burn rates noisy.",
              steps=thresholds(("red", None), ("orange", 0.99), ("green", 0.999)),
              transformations=merge_table({"A": "SLI 30d", "B": "budget left", "C": "burn 1h",
                                           "D": "burn 6h", "E": "burn 3d", "F": "runs 1h"}),
              overrides=[override_unit("budget left", "percentunit",
                                       thresholds(("red", None), ("orange", 0.25),
                                                  ("green", 0.5))),
                         override_unit("burn 1h", "none", page),
                         override_unit("burn 6h", "none", page),
                         override_unit("burn 3d", "none",
                                       thresholds(("green", None), ("red", 1))),
                         override_unit("runs 1h", "short",
                                       thresholds(("orange", None), ("green", 10)))],
              w=24, h=9),
        timeseries("Availability SLI (30 d window)", "percentunit",
                   [target(f"1 - {error_ratio('30d')}", "{{target}}")],
                   "Rolling 30-day share of successful runs per target; the dashed line is the "
                   "objective.",
                   line_thresholds=thresholds(("red", None),
                                              ("green", float(AVAILABILITY_OBJECTIVE))),
                   defaults={"max": 1}),
        timeseries("Error budget remaining", "percentunit",
                   [target(budget, "{{target}}")],
                   "1 - (30-day error ratio / allowed error ratio). Below 0: SLO missed.",
                   line_thresholds=thresholds(("red", None), ("green", 0))),
        timeseries("Burn rate 1h and 5m (page at 14.4)", "none",
                   [target(burn_rate("1h"), "{{target}} 1h"),
                    target(burn_rate("5m"), "{{target}} 5m", ref="B")],
                   "Fast burn: both windows above 14.4 spends 2 % of the 30-day budget in an "
                   "hour.", line_thresholds=thresholds(("green", None), ("red", 14.4)), w=8),
        timeseries("Burn rate 6h and 30m (page at 6)", "none",
                   [target(burn_rate("6h"), "{{target}} 6h"),
                    target(burn_rate("30m"), "{{target}} 30m", ref="B")],
                   "Both windows above 6 spends 5 % of the budget in 6 hours.",
                   line_thresholds=thresholds(("green", None), ("red", 6)), w=8),
        timeseries("Burn rate 3d and 6h (ticket at 1)", "none",
                   [target(burn_rate("3d"), "{{target}} 3d"),
                    target(burn_rate("6h"), "{{target}} 6h", ref="B")],
                   "Slow burn: both windows above 1 spends 10 % of the budget in 3 days.",
                   line_thresholds=thresholds(("green", None), ("red", 1)), w=8),
        row("Latency (SLO: $slo_latency of module fetch steps ≤ $latency_le s over 30 d)"),
        table("Latency SLO per target", "percentunit",
              [target(f"1 - ({latency_bad_ratio('30d')})", ref="A", instant=True, fmt="table"),
               target(lat_budget, ref="B", instant=True, fmt="table"),
               target(f"({latency_bad_ratio('1h')}) / (1 - $slo_latency)", ref="C",
                      instant=True, fmt="table")],
              "Share of module fetch steps (list/latest/info/mod/zip) of goproxy and chain "
              "targets that took at most $latency_le s (a histogram bucket bound), budget left "
              "and the 1h burn rate.",
              steps=thresholds(("red", None), ("orange", 0.95), ("green", 0.99)),
              transformations=merge_table({"A": "SLI 30d", "B": "budget left",
                                           "C": "burn 1h"}),
              overrides=[override_unit("burn 1h", "none", page)], w=12),
        timeseries("Latency SLI (30 d window)", "percentunit",
                   [target(f"1 - ({latency_bad_ratio('30d')})", "{{target}}")],
                   "Rolling 30-day share of module fetch steps within $latency_le s.",
                   defaults={"max": 1}),
        timeseries("Latency SLI (1h window)", "percentunit",
                   [target(f"1 - ({latency_bad_ratio('1h')})", "{{target}}")],
                   "The same over the last hour: where a latency budget burn starts.",
                   defaults={"max": 1}, w=24),
    ]
    extra = [
        constant_var("slo_availability", AVAILABILITY_OBJECTIVE,
                     "Availability objective: share of successful runs over 30 days."),
        constant_var("slo_latency", LATENCY_OBJECTIVE,
                     "Latency objective: share of module fetch steps within latency_le."),
        constant_var("latency_le", LATENCY_LE,
                     "Latency threshold in seconds; must be a bucket bound of the histograms."),
    ]
    return dashboard("gomodprobe-slo", "gomodprobe / SLO",
                     "Availability (99.9 % of runs over 30 d) and module-fetch latency SLOs per "
                     "target, aggregated across runners, with error budgets and multi-window "
                     "burn rates.", p, ["slo"], extra_vars=extra, time_from="now-7d")


DASHBOARDS = {"fleet-overview.json": fleet, "target-drilldown.json": drilldown, "slo.json": slo}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = pathlib.Path(__file__).resolve().parent.parent
    parser.add_argument("--out", type=pathlib.Path, default=root / "dashboards")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, build in DASHBOARDS.items():
        text = json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
        (args.out / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
