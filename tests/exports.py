#!/usr/bin/env python3
"""tests/exports.py LIBWGC_SO INCLUDE_DIR -- the shared library exports the
public API and nothing else.

Fails when `nm -D --defined-only` lists a symbol that does not start with
wgc_ (or starts with wgc__, the internal prefix), when a function declared
in the public headers is not exported (a declaration without WGC_API is
hidden by -fvisibility=hidden, and consumers of libwgc.so fail to link),
or when an exported function is declared in no public header."""
import glob
import os
import re
import subprocess
import sys

lib, include = sys.argv[1], sys.argv[2]
out = subprocess.run(['nm', '-D', '--defined-only', lib], check=True,
                     capture_output=True, text=True).stdout
exported = set()
bad = []
for line in out.splitlines():
    parts = line.split()
    if len(parts) < 3:
        continue
    name = parts[2].split('@')[0]
    if not name.startswith('wgc_') or name.startswith('wgc__'):
        bad.append(line.strip())
    else:
        exported.add(name)

declared, unmarked = set(), []
headers = [os.path.join(include, 'wgc.h')] + sorted(glob.glob(os.path.join(include, 'wgc', '*.h')))
decl = re.compile(r'^(WGC_API\s+)?[A-Za-z_][\w \t]*?[\s*](wgc_\w+)\s*\(')
for h in headers:
    for n, line in enumerate(open(h), 1):
        if line.startswith(('static', 'typedef', '#', ' ', '\t', '/', '}')):
            continue
        m = decl.match(line)
        if not m:
            continue
        if m.group(1):
            declared.add(m.group(2))
        else:
            unmarked.append('%s:%d: %s' % (h, n, line.strip()))

ok = True
for line in bad:
    print('exported but not public (no wgc_ prefix, or wgc__):', line)
    ok = False
for line in unmarked:
    print('public declaration without WGC_API:', line)
    ok = False
for name in sorted(declared - exported):
    print('declared WGC_API but not exported:', name)
    ok = False
for name in sorted(exported - declared):
    print('exported but declared in no public header:', name)
    ok = False
print('%d symbols exported, %d functions declared' % (len(exported), len(declared)))
sys.exit(0 if ok and exported else 1)
