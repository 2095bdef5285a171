#!/usr/bin/env python3
"""Checks the Grafana dashboards (dashboards/*.json). Exit status 0 only if every check passed.

    check_dashboards.py structure DASHBOARD_DIR          provisioning/structure rules (below)
    check_dashboards.py promql DASHBOARD_DIR [--promtool P]
                                                         every PromQL expression parses
    check_dashboards.py selftest DASHBOARD_DIR [--promtool P]
                                                         each rule rejects a broken copy
    check_dashboards.py generated DASHBOARD_DIR GENERATOR
                                                         the JSON equals the generator's output

Structure rules, per dashboard:
  - "id" is null, "uid" is a stable slug ([a-z0-9-], ≤ 40) unique across the files, a title;
  - no "__inputs" (nor "__requires"): provisioning-ready, not an export for manual import;
  - templating has a variable "datasource" of type datasource with query "prometheus", and query
    variables "job", "instance" and "target" whose query is label_values(...) and whose data source
    is ${datasource};
  - every panel: type timeseries, stat or table (rows allowed, also nested panels of rows), a
    title, a unit (fieldConfig.defaults.unit), data source ${datasource}, at least one target, and
    every target: data source ${datasource} and a non-empty expr;
  - panel ids unique;
  - every rate()/irate()/increase() range is [$__rate_interval]; dashboards tagged "slo" may
    instead use the SRE-workbook SLO windows (5m, 30m, 1h, 6h, 3d, 30d), fixed by definition;
  - every expr filters on $job and $instance, and every $variable it uses is defined (a template
    variable or a Grafana built-in).

PromQL check: each expr and the selector of each label_values(SELECTOR, label) variable query,
with Grafana variables substituted (see substitute()), becomes a recording rule in a temporary rule file; `promtool check rules` must accept the file.
"""

import argparse
import copy
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ALLOWED_PANELS = {"timeseries", "stat", "table"}
SLO_WINDOWS = {"5m", "30m", "1h", "6h", "3d", "30d"}
DS_UID = "${datasource}"
BUILTINS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h", "__range_s": "3600",
            "__range_ms": "3600000", "__interval_ms": "60000", "__dashboard": "x", "__name": "x"}
# A literal each query variable stands for when an expression is parsed.
QUERY_VAR_LITERAL = "x"
VAR_RE = re.compile(r"\$\{(\w+)(?::[\w]+)?\}|\[\[(\w+)(?::[\w]+)?\]\]|\$(\w+)")
RANGE_FN_RE = re.compile(r"\b(rate|irate|increase)\s*\(")


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def panels_of(dashboard):
    """Every panel, rows' nested (collapsed) panels included."""
    for p in dashboard.get("panels", []):
        yield p
        for nested in p.get("panels", []) or []:
            yield nested


def variables_of(dashboard):
    return {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}


def ds_is_variable(ds):
    return isinstance(ds, dict) and ds.get("uid") == DS_UID or ds == DS_UID


def range_args(expr):
    """The [range] of each rate/irate/increase call: the text in the last top-level brackets of
    the call's argument."""
    out = []
    for m in RANGE_FN_RE.finditer(expr):
        depth, i, start = 1, m.end(), m.end()
        while i < len(expr) and depth:
            depth += {"(": 1, ")": -1}.get(expr[i], 0)
            i += 1
        arg = expr[start:i - 1]
        ranges = re.findall(r"\[([^\[\]]*)\]\s*$", arg)
        out.append((m.group(1), ranges[0] if ranges else None))
    return out


def used_variables(expr):
    return {next(g for g in m.groups() if g) for m in VAR_RE.finditer(expr)}


def check_structure(paths):
    errors = []
    uids = {}
    for path in paths:
        def err(msg, where=""):
            errors.append(f"{path.name}{': ' + where if where else ''}: {msg}")
        try:
            d = load(path)
        except (OSError, ValueError) as e:
            err(f"not valid JSON: {e}")
            continue
        if "id" not in d or d["id"] is not None:
            err('"id" must be null')
        uid = d.get("uid")
        if not isinstance(uid, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", uid):
            err(f'"uid" must be a stable slug ([a-z0-9-], at most 40), got {uid!r}')
        elif uid in uids:
            err(f'"uid" {uid} also used by {uids[uid]}')
        else:
            uids[uid] = path.name
        if not d.get("title"):
            err("no title")
        for key in ("__inputs", "__requires"):
            if key in d:
                err(f'"{key}" present: export for sharing, not provisioning-ready')
        tags = set(d.get("tags", []))
        variables = variables_of(d)
        ds = variables.get("datasource")
        if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
            err('needs a template variable "datasource" of type datasource, query "prometheus"')
        for name in ("job", "instance", "target"):
            v = variables.get(name)
            query = v.get("query") if v else None
            if isinstance(query, dict):
                query = query.get("query")
            if not v or v.get("type") != "query" or not isinstance(query, str) \
                    or not query.startswith("label_values("):
                err(f'needs a query variable "{name}" from label_values(...)')
            elif not ds_is_variable(v.get("datasource")):
                err(f'variable "{name}" must use the ${{datasource}} data source')
        known = set(variables) | set(BUILTINS)
        ids = set()
        for p in panels_of(d):
            where = f"panel {p.get('id')} {p.get('title')!r}"
            if p.get("id") in ids:
                err("duplicate panel id", where)
            ids.add(p.get("id"))
            kind = p.get("type")
            if kind == "row":
                continue
            if kind not in ALLOWED_PANELS:
                err(f"panel type {kind!r} not allowed (timeseries, stat, table, row)", where)
            if not p.get("title"):
                err("no title", where)
            if not p.get("fieldConfig", {}).get("defaults", {}).get("unit"):
                err("no unit (fieldConfig.defaults.unit)", where)
            if not ds_is_variable(p.get("datasource")):
                err("panel data source is not ${datasource}", where)
            targets = p.get("targets") or []
            if not targets:
                err("no targets", where)
            for t in targets:
                twhere = f"{where} target {t.get('refId')}"
                if not ds_is_variable(t.get("datasource")):
                    err("target data source is not ${datasource}", twhere)
                expr = t.get("expr")
                if not isinstance(expr, str) or not expr.strip():
                    err("no expr", twhere)
                    continue
                for fn, rng in range_args(expr):
                    if rng == "$__rate_interval":
                        continue
                    if "slo" in tags and rng in SLO_WINDOWS:
                        continue
                    err(f"{fn}() range [{rng}] is not [$__rate_interval]", twhere)
                for name in ("$job", "$instance"):
                    if name not in expr:
                        err(f"expr does not filter on {name}", twhere)
                for name in used_variables(expr) - known:
                    err(f"expr uses undefined variable ${name}", twhere)
    return errors


def substitute(expr, variables):
    """Grafana variables → literals: built-ins by BUILTINS, constant/custom/textbox variables by
    their current value, query (and other) variables by QUERY_VAR_LITERAL."""
    def value(name):
        if name in BUILTINS:
            return BUILTINS[name]
        v = variables.get(name, {})
        if v.get("type") in ("constant", "custom", "textbox", "interval"):
            current = v.get("current", {}).get("value", v.get("query", ""))
            return current[0] if isinstance(current, list) else str(current)
        return QUERY_VAR_LITERAL
    return VAR_RE.sub(lambda m: value(next(g for g in m.groups() if g)), expr)


def rules_for(paths):
    """(rule file object, [(record name, dashboard, panel, refId, expr)])."""
    groups, index = [], []
    for path in paths:
        d = load(path)
        variables = variables_of(d)
        rules = []
        for p in panels_of(d):
            for t in p.get("targets", []) or []:
                expr = t.get("expr")
                if not isinstance(expr, str) or not expr.strip():
                    continue
                record = f"dashboard:panel_{p.get('id')}_{t.get('refId', 'X')}:{len(rules)}"
                rules.append({"record": record, "expr": substitute(expr, variables)})
                index.append((record, path.name, p.get("title"), t.get("refId"), rules[-1]["expr"]))
        # label_values(SELECTOR, label) of query variables: the selector is PromQL too.
        for name, v in variables.items():
            query = v.get("query")
            query = query.get("query") if isinstance(query, dict) else query
            m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", query or "", re.S)
            if v.get("type") == "query" and m:
                record = f"dashboard:variable_{name}:{len(rules)}"
                rules.append({"record": record, "expr": substitute(m.group(1), variables)})
                index.append((record, path.name, f"variable {name}", "-", rules[-1]["expr"]))
        groups.append({"name": path.stem, "rules": rules})
    return {"groups": groups}, index


def check_promql(paths, promtool):
    rules, index = rules_for(paths)
    if not index:
        return ["no PromQL expressions found"]
    with tempfile.TemporaryDirectory() as tmp:
        # JSON is YAML: promtool reads this as a rule file.
        rule_file = pathlib.Path(tmp) / "dashboards.rules.yml"
        rule_file.write_text(json.dumps(rules, indent=1))
        r = subprocess.run([promtool, "check", "rules", str(rule_file)], capture_output=True,
                           text=True)
        if r.returncode == 0:
            print(f"promtool: {len(index)} expressions from {len(paths)} dashboards parse")
            return []
        errors = [f"promtool check rules failed:\n{r.stdout}{r.stderr}"]
        # Name the culprits: one expression per file.
        for record, dash, title, ref, expr in index:
            single = pathlib.Path(tmp) / "one.yml"
            single.write_text(json.dumps({"groups": [{"name": "one", "rules": [
                {"record": "check:one", "expr": expr}]}]}))
            one = subprocess.run([promtool, "check", "rules", str(single)], capture_output=True,
                                 text=True)
            if one.returncode != 0:
                errors.append(f"{dash}: panel {title!r} target {ref}: {expr}\n"
                              f"  {one.stdout.strip()} {one.stderr.strip()}")
        return errors


def first_panel_with_target(d):
    return next(p for p in panels_of(d) if p.get("targets"))


def selftest(directory, promtool):
    """Breaks a copy of each dashboard in one way at a time and expects the matching check to
    fail with the expected message; the unbroken copy must pass."""
    paths = sorted(directory.glob("*.json"))
    if not paths:
        return ["no dashboards to self-test"]
    base = load(paths[0])

    def mut(fn):
        def apply(d):
            fn(d)
            return d
        return apply

    def set_first_expr(d, expr):
        first_panel_with_target(d)["targets"][0]["expr"] = expr

    mutations = [
        ("id", mut(lambda d: d.update(id=7)), '"id" must be null'),
        ("uid", mut(lambda d: d.update(uid="Not Stable!")), '"uid" must be a stable slug'),
        ("__inputs", mut(lambda d: d.update(__inputs=[])), '"__inputs" present'),
        ("no datasource var", mut(lambda d: d["templating"].update(list=[
            v for v in d["templating"]["list"] if v["name"] != "datasource"])),
         'variable "datasource"'),
        ("target var not label_values", mut(lambda d: next(
            v for v in d["templating"]["list"] if v["name"] == "target").update(
                query={"query": "query_result(up)"}, definition="query_result(up)")),
         'query variable "target"'),
        ("graph panel", mut(lambda d: first_panel_with_target(d).update(type="graph")),
         "panel type 'graph' not allowed"),
        ("no unit", mut(lambda d: first_panel_with_target(d)["fieldConfig"]["defaults"].pop(
            "unit")), "no unit"),
        ("no title", mut(lambda d: first_panel_with_target(d).update(title="")), "no title"),
        ("fixed datasource", mut(lambda d: first_panel_with_target(d).update(
            datasource={"type": "prometheus", "uid": "P1809F7CD0C75ACF3"})),
         "panel data source is not ${datasource}"),
        ("target datasource", mut(lambda d: first_panel_with_target(d)["targets"][0].update(
            datasource={"type": "prometheus", "uid": "prometheus"})),
         "target data source is not ${datasource}"),
        ("fixed rate range", mut(lambda d: set_first_expr(
            d, 'sum(rate(gomodprobe_probes_total{job=~"$job",instance=~"$instance"}[5m]))')),
         "rate() range [5m] is not [$__rate_interval]"),
        ("fixed increase range", mut(lambda d: set_first_expr(
            d, 'sum(increase(gomodprobe_probes_total{job=~"$job",instance=~"$instance"}[1h]))')),
         "increase() range [1h] is not [$__rate_interval]"),
        ("no job filter", mut(lambda d: set_first_expr(
            d, 'sum(gomodprobe_probe_success{instance=~"$instance"})')),
         "does not filter on $job"),
        ("undefined variable", mut(lambda d: set_first_expr(
            d, 'sum(gomodprobe_probe_success{job=~"$job",instance=~"$instance",x="$nope"})')),
         "undefined variable $nope"),
    ]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        good = tmp / "good.json"
        good.write_text(json.dumps(base))
        if check_structure([good]):
            failures.append(f"unbroken copy of {paths[0].name} fails: {check_structure([good])}")
        for name, mutate, expected in mutations:
            broken = tmp / f"broken-{re.sub(r'[^a-z]+', '-', name)}.json"
            broken.write_text(json.dumps(mutate(copy.deepcopy(base))))
            errors = check_structure([broken])
            if not any(expected in e for e in errors):
                failures.append(f"structure check missed '{name}' (wanted {expected!r}, "
                                f"got {errors})")
            else:
                print(f"ok: structure check rejects {name}")
        # Two files with the same uid.
        twin = tmp / "twin.json"
        twin.write_text(json.dumps(base))
        if not any("also used by" in e for e in check_structure([good, twin])):
            failures.append("structure check missed a duplicate uid")
        else:
            print("ok: structure check rejects a duplicate uid")
        # PromQL: the unbroken copy parses, a broken expression does not.
        if check_promql([good], promtool):
            failures.append(f"unbroken copy fails promtool: {check_promql([good], promtool)}")
        # A copy with just the broken panel keeps the per-expression culprit search short.
        bad = copy.deepcopy(base)
        bad["panels"] = [first_panel_with_target(bad)]
        set_first_expr(bad, 'sum(rate(gomodprobe_probes_total{job=~"$job",'
                            'instance=~"$instance"}[$__rate_interval])')  # missing ")"
        bad_path = tmp / "bad-promql.json"
        bad_path.write_text(json.dumps(bad))
        if not check_promql([bad_path], promtool):
            failures.append("promtool accepted an unbalanced expression")
        else:
            print("ok: promql check rejects an unbalanced expression")
        bad = copy.deepcopy(base)
        bad["panels"] = [first_panel_with_target(bad)]
        set_first_expr(bad, 'rate(gomodprobe_probe_success{job=~"$job",instance=~"$instance"})')
        bad_path.write_text(json.dumps(bad))
        if not check_promql([bad_path], promtool):
            failures.append("promtool accepted rate() of an instant vector")
        else:
            print("ok: promql check rejects rate() of an instant vector")
    return failures


def check_generated(directory, generator):
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([sys.executable, str(generator), "--out", tmp], capture_output=True,
                           text=True)
        if r.returncode != 0:
            return [f"generator failed: {r.stdout}{r.stderr}"]
        errors = []
        fresh = {p.name for p in pathlib.Path(tmp).glob("*.json")}
        committed = {p.name for p in directory.glob("*.json")}
        for name in sorted(fresh ^ committed):
            errors.append(f"{name}: only in {'generator output' if name in fresh else directory}")
        for name in sorted(fresh & committed):
            if (pathlib.Path(tmp) / name).read_bytes() != (directory / name).read_bytes():
                errors.append(f"{name} differs from the generator's output: run "
                              f"python3 {generator}")
        return errors


def main():
    parser = argparse.ArgumentParser(description="Checks the gomodprobe Grafana dashboards.")
    parser.add_argument("mode", choices=["structure", "promql", "selftest", "generated"])
    parser.add_argument("directory", type=pathlib.Path)
    parser.add_argument("generator", type=pathlib.Path, nargs="?")
    parser.add_argument("--promtool", default="promtool")
    args = parser.parse_args()
    paths = sorted(args.directory.glob("*.json"))
    if args.mode != "selftest" and not paths:
        print(f"no dashboards in {args.directory}", file=sys.stderr)
        return 1
    if args.mode == "structure":
        errors = check_structure(paths)
    elif args.mode == "promql":
        if shutil.which(args.promtool) is None:
            print(f"{args.promtool} not found", file=sys.stderr)
            return 1
        errors = check_promql(paths, args.promtool)
    elif args.mode == "selftest":
        errors = selftest(args.directory, args.promtool)
    else:
        if args.generator is None:
            parser.error("generated needs GENERATOR")
        errors = check_generated(args.directory, args.generator)
    for e in errors:
        print(f"FAIL {e}", file=sys.stderr)
    if not errors:
        print(f"{args.mode}: ok ({len(paths)} dashboards)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
