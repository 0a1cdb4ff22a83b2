#!/usr/bin/env python3
"""check_tags.py ROOT -- rule tags stay true: every tag cited in code, tests
and docs (G4, [W3], W10_... in a test name) is defined once in docs/*.md (a
bold "**G4 ...**" or "**[G4] ...**" paragraph), and every defined tag is
cited somewhere outside its definition."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
PREFIXES = "ACDFGHMRWY"   # the rule families of docs/*.md
define = re.compile(r"^\s*[-*]\s+\*\*\[?([%s]\d+)\]?[ .\]]" % PREFIXES, re.M)
cite = re.compile(r"(?<![A-Za-z0-9_])([%s]\d{1,2})(?![0-9])" % PREFIXES)

defs = {}
for doc in sorted((root / "docs").glob("*.md")):
    for m in define.finditer(doc.read_text()):
        defs.setdefault(m.group(1), []).append(doc.name)

sources = [p for d in ("gc", "weak", "finalize", "diag", "include", "tests", "docs",
                       "examples", "fuzz", "bench")
           for p in sorted((root / d).rglob("*"))
           if p.suffix in (".c", ".h", ".md", ".cpp", ".hpp") and p.is_file()]
cited = {}
for p in sources:
    text = p.read_text(errors="replace")
    if p.suffix == ".md":
        text = define.sub("", text)  # a definition is not a citation
    for m in cite.finditer(text):
        cited.setdefault(m.group(1), set()).add(str(p.relative_to(root)))

bad = 0
for tag, where in sorted(defs.items()):
    if len(where) > 1:
        print("FAIL: %s defined %d times (%s)" % (tag, len(where), ", ".join(where)))
        bad += 1
    if tag not in cited:
        print("FAIL: %s is defined in docs/%s but cited nowhere" % (tag, where[0]))
        bad += 1
for tag, where in sorted(cited.items()):
    if tag not in defs:
        print("FAIL: %s is cited (%s) but defined in no docs/*.md"
              % (tag, ", ".join(sorted(where)[:3])))
        bad += 1
print("%d tags defined, %d cited, %d problems" % (len(defs), len(cited), bad))
sys.exit(1 if bad else 0)
