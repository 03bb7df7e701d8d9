#!/usr/bin/env python3
"""Count line-only candidates in an hpdiff --json --show report.

   python3 realworld/lineonly.py REPORT.json

hpdiff does not recognise line-number-only changes yet (issue 11 item 3).
This counts CANDIDATES from its own report: a changed function whose
disassembly diff pairs every removed line with an added line at the same
offset, the pair differing only in immediate operands, each old/new pair a
plausible line shift (both in 1..100000, |new - old| <= 500).  Not exact
(no DWARF line-table check), an upper bound for that check.

Prints: changed N candidates N unpatchable_objects N, then one line per
object not hotpatchable with its findings/reasons.
"""
import json
import re
import sys

IMM = re.compile(r'\$(-?0x[0-9a-fA-F]+|-?[0-9]+)')


def candidate(block):
    minus = [l for l in block if l.startswith('-')]
    plus = [l for l in block if l.startswith('+')]
    if not minus or len(minus) != len(plus):
        return False
    for a, b in zip(minus, plus):
        oa, ia = a[1:].split(':', 1) if ':' in a else (None, a)
        ob, ib = b[1:].split(':', 1) if ':' in b else (None, b)
        if oa is None or oa.strip() != ob.strip():
            return False
        if IMM.sub('$I', ia) != IMM.sub('$I', ib):
            return False
        va = [int(x, 0) for x in IMM.findall(ia)]
        vb = [int(x, 0) for x in IMM.findall(ib)]
        moved = [(x, y) for x, y in zip(va, vb) if x != y]
        if not moved:
            return False
        for x, y in moved:
            if not (1 <= x <= 100000 and 1 <= y <= 100000 and abs(y - x) <= 500):
                return False
    return True


def main():
    rep = json.load(open(sys.argv[1]))
    changed = cand = 0
    bad = []
    for o in rep.get('objects', []):
        blocks = {}
        cur = None
        for line in (o.get('show') or '').split('\n'):
            m = re.match(r'^@@ (\S+)', line)
            if m:
                cur = m.group(1)
                blocks[cur] = []
            elif cur is not None:
                blocks[cur].append(line)
        for f in o.get('functions', []):
            if f.get('status') in ('changed',):
                changed += 1
                if f['name'] in blocks and candidate(blocks[f['name']]):
                    cand += 1
        why = [f"{x.get('name')}: {x.get('reason')}" for x in o.get('functions', []) + o.get('data', [])
               + o.get('findings', []) if x.get('hotpatchable') is False]
        if why or o.get('hotpatchable') is False or o.get('status') == 'not-hotpatchable':
            bad.append((o.get('name'), why))
    bad = [(n, [w if len(w) <= 240 else w[:240] + '...' for w in why]) for n, why in bad]
    print(f"changed {changed} candidates {cand} unpatchable_objects {len(bad)}")
    for name, why in bad:
        print(f"  {name}: " + ('; '.join(why[:3]) + (f' (+{len(why) - 3} more)' if len(why) > 3 else '') if why else 'not hotpatchable'))


main()
