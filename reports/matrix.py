"""Writes the compatibility matrix (programs x requirement areas) between the matrix markers of
reports/README.md, from the committed reports/<program>/report.json files."""
import json
import pathlib
import sys

here = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent)
order = ["docker-credential-pass", "docker-credential-secretservice", "docker-credential-ecr-login",
         "docker", "skopeo", "podman", "buildah"]
reports = {p.parent.name: json.loads(p.read_text()) for p in here.glob("*/report.json")}
names = [n for n in order if n in reports] + sorted(set(reports) - set(order))


def table(kind):
    rows = [n for n in names if reports[n]["target"]["kind"] == kind]
    areas = []
    for n in rows:
        for c in reports[n]["cases"]:
            if c["area"] not in areas:
                areas.append(c["area"])
    out = ["| program | version | verdict | " + " | ".join(areas) + " |",
           "|---|---|---|" + "---|" * len(areas)]
    for n in rows:
        r = reports[n]
        version = (r["target"].get("version") or "?").replace("|", "/")
        cells = []
        for area in areas:
            cases = [c for c in r["cases"] if c["area"] == area]
            failed = [c["id"] for c in cases if c["status"] in ("failed", "error")]
            blocked = [c["id"] for c in cases if c["status"] == "blocked"]
            skipped = [c for c in cases if c["status"] == "skipped"]
            ran = len(cases) - len(skipped)
            cell = "pass" if not failed else "FAIL " + ", ".join(failed)
            if blocked:
                cell = ("" if not failed else cell + "; ") + "BLOCKED " + ", ".join(blocked)
                failed += blocked
            if skipped:
                cell += f" ({len(skipped)} skipped)"
            cells.append(f"{ran - len(failed)}/{ran} {cell}" if ran else "n/a")
        verdict = r["summary"]["verdict"].replace("-", " ")
        if r["target"].get("get_only"):
            verdict += " (get-only)"
        out.append(f"| [{n}]({n}/report.md) | {version} | {verdict} | " + " | ".join(cells) + " |")
    return "\n".join(out)


readme = here / "README.md"
text = readme.read_text()
start, end = "<!-- matrix:start -->", "<!-- matrix:end -->"
body = ("\n### Credential helpers (suite helper-protocol)\n\n" + table("helper")
        + "\n\n### Login CLIs (suite login)\n\n" + table("login-cli") + "\n")
before, rest = text.split(start, 1)
after = rest.split(end, 1)[1]
readme.write_text(before + start + "\n" + body + end + after)
print(f"matrix written for {len(names)} programs")
