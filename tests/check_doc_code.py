#!/usr/bin/env python3
"""check_doc_code.py DOC ROOT -- every listing in DOC between
<!-- begin PATH --> and <!-- end PATH --> must be the file ROOT/PATH, byte
for byte, so that the guide shows the code the tests run."""
import re
import sys

doc, root = sys.argv[1], sys.argv[2]
text = open(doc).read()
blocks = re.findall(r'<!-- begin (\S+) -->\n```\w*\n(.*?)```\n<!-- end \1 -->', text, re.S)
if not blocks:
    sys.exit('FAIL: %s has no <!-- begin PATH --> listing' % doc)
bad = 0
for path, listing in blocks:
    actual = open(root + '/' + path).read()
    if listing != actual:
        print('FAIL: the listing of %s in %s differs from the file' % (path, doc))
        bad += 1
    else:
        print('ok: %s' % path)
sys.exit(1 if bad else 0)
