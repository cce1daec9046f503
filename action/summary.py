#!/usr/bin/env python3
"""The GitHub Action's job summary and outputs, from the JSON reports of one action step.

Usage: summary.py SUMMARY_FILE OUTPUT_FILE REPORT.json...

The summary starts with the regressions: failures that no baseline or waiver accepts (with a
baseline, these are the cases that did not fail in it); then a table of counts, then each
report's Markdown (report.md beside its report.json). The outputs are the worst verdict and the
counts summed over the reports: passed, failed, skipped, known-failures, waived, regressed.
"""

import json
import os
import sys

VERDICTS = ["conformant", "conformant-with-warnings", "not-conformant"]


def load(path):
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    if not isinstance(report, dict) or "summary" not in report or "cases" not in report:
        raise SystemExit(f"{path}: not a credconform JSON report")
    return report


def failing(case):
    return case.get("status") not in ("passed", "skipped")


def main(summary_file, output_file, paths):
    reports = [(p, load(p)) for p in paths]
    totals = dict.fromkeys(["passed", "failed", "skipped", "known-failures", "waived"], 0)
    regressions = []
    verdict = "conformant"
    gated = False
    for path, r in reports:
        s = r["summary"]
        for level in ("must", "should"):
            c = s[level]
            totals["passed"] += c["passed"]
            totals["failed"] += c["failed"]
            totals["skipped"] += c["skipped"]
            totals["known-failures"] += c.get("known_failures", 0)
            totals["waived"] += c.get("waived", 0)
        if VERDICTS.index(s["verdict"]) > VERDICTS.index(verdict):
            verdict = s["verdict"]
        gated = gated or bool(r.get("gate", {}).get("baseline"))
        regressions += [
            (r["target"]["name"], c)
            for c in r["cases"]
            if failing(c) and not c.get("disposition")
        ]
    totals["regressed"] = len(regressions)

    lines = ["## credconform gate", ""]
    what = "not in the baseline" if gated else "not accepted by a waiver"
    if regressions:
        lines += [f"### ❌ Regressions: {len(regressions)} failing case(s) {what}", "",
                  "| target | case | level | status | title |", "|---|---|---|---|---|"]
        for name, c in regressions:
            title = c.get("title", "").replace("|", "\\|")
            lines.append(f"| {name} | `{c['id']}` | {c['level']} | {c['status']} | {title} |")
    else:
        lines.append("### ✅ No regressions: every failure is a known failure or waived"
                     if totals["failed"] else "### ✅ No failures")
    lines += ["", "| verdict | passed | failed | known failures | waived | skipped |",
              "|---|--:|--:|--:|--:|--:|",
              f"| {verdict} | {totals['passed']} | {totals['failed']} | "
              f"{totals['known-failures']} | {totals['waived']} | {totals['skipped']} |", ""]
    for path, _ in reports:
        md = os.path.join(os.path.dirname(path), "report.md")
        if os.path.exists(md):
            with open(md, encoding="utf-8") as f:
                lines += [f.read(), ""]
    with open(summary_file, "a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    with open(output_file, "a", encoding="utf-8") as f:
        f.write(f"verdict={verdict}\n")
        for key, n in totals.items():
            f.write(f"{key}={n}\n")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
