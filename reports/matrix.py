"""Writes the compatibility matrix (programs x requirement areas) between the matrix markers of
reports/README.md, from the committed reports/<folder>/report.json files. A folder's `origin`
file (written by regenerate.sh: `Debian 12`, `upstream`, ...) is shown beside the version, so
two builds of one program read as two rows of the same name."""
import json
import pathlib
import re
import sys

here = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent)
order = ["docker-credential-pass", "docker-credential-secretservice", "docker-credential-ecr-login",
         "docker", "skopeo", "podman", "buildah", "crane", "oras"]
# Tables in this order; a report of another kind gets a table of its own after them.
titles = {"helper": "Credential helpers (suite helper-protocol)",
          "login-cli": "Login CLIs (suite login)",
          "registry": "Registries"}
reports = {p.parent.name: json.loads(p.read_text()) for p in here.glob("*/report.json")}


def program(folder):
    """The program's name: the report's target name without its profile."""
    return reports[folder]["target"]["name"].split(" (profile ")[0]


def rank(folder):
    """Known programs first, in `order`; two builds of one program side by side, Debian first."""
    name = program(folder)
    return (order.index(name) if name in order else len(order), name, folder)


names = sorted(reports, key=rank)


def version(folder):
    """The version number in the program's version output (`... v0.9.13` reads `0.9.13`)."""
    text = reports[folder]["target"].get("version") or "?"
    found = re.search(r"\bv?(\d+(?:\.\d+)+[\w.+-]*)", text)
    return found.group(1) if found else text.replace("|", "/")


def origin(folder):
    path = here / folder / "origin"
    return path.read_text().strip() if path.exists() else ""


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
        shown = version(n) + (f" ({origin(n)})" if origin(n) else "")
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
        out.append(f"| [{program(n)}]({n}/report.md) | {shown} | {verdict} | " + " | ".join(cells) + " |")
    return "\n".join(out)


readme = here / "README.md"
text = readme.read_text()
start, end = "<!-- matrix:start -->", "<!-- matrix:end -->"
kinds = list(titles) + sorted({r["target"]["kind"] for r in reports.values()} - set(titles))
body = "".join(f"\n### {titles.get(kind, kind)}\n\n" + table(kind) + "\n"
               for kind in kinds if any(r["target"]["kind"] == kind for r in reports.values()))
before, rest = text.split(start, 1)
after = rest.split(end, 1)[1]
readme.write_text(before + start + "\n" + body + end + after)
print(f"matrix written for {len(names)} programs")
