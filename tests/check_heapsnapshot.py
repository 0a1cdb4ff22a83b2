#!/usr/bin/env python3
"""tests/check_heapsnapshot.py -- checks a Chrome DevTools .heapsnapshot.

Usage:
  check_heapsnapshot.py FILE             checks the format of any snapshot
  check_heapsnapshot.py --run PROGRAM    runs tests/diag_snapshot (PROGRAM),
                                         checks the format of what it writes
                                         and the edges it must contain

The format, as DevTools' HeapSnapshotLoader reads it: snapshot.meta names
the fields of the flat nodes and edges arrays; a node's edges follow those
of the node before it; to_node is an index into nodes (a multiple of the
node field count); an edge's name_or_index is a number for "element" and
"hidden" edges and a strings index otherwise.  wgc adds: node 0 is the
root, and every node is reachable from it by non-weak edges (docs/diag.md
[D5]).
"""
import json
import subprocess
import sys
import tempfile

NODE_FIELDS = ["type", "name", "id", "self_size", "edge_count",
               "trace_node_id", "detachedness"]
EDGE_FIELDS = ["type", "name_or_index", "to_node"]


class Bad(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Bad(what)


def load(text):
    snap = json.loads(text)
    for key in ("snapshot", "nodes", "edges", "strings", "trace_function_infos",
                "trace_tree", "samples", "locations"):
        need(key in snap, "top-level key %r missing" % key)
    meta = snap["snapshot"]["meta"]
    need(meta["node_fields"] == NODE_FIELDS, "node_fields %r" % meta["node_fields"])
    need(meta["edge_fields"] == EDGE_FIELDS, "edge_fields %r" % meta["edge_fields"])
    node_types, edge_types = meta["node_types"], meta["edge_types"]
    need(len(node_types) == len(NODE_FIELDS), "node_types has one entry per field")
    need(len(edge_types) == len(EDGE_FIELDS), "edge_types has one entry per field")
    need(isinstance(node_types[0], list) and "object" in node_types[0] and
         "synthetic" in node_types[0], "node_types[0] lists the node types")
    need(isinstance(edge_types[0], list) and "weak" in edge_types[0] and
         "element" in edge_types[0] and "property" in edge_types[0],
         "edge_types[0] lists the edge types, weak included")
    for key in ("trace_function_info_fields", "trace_node_fields",
                "sample_fields", "location_fields"):
        need(isinstance(meta.get(key), list), "meta.%s missing" % key)
    return snap


def decode(snap):
    """Checks the arrays; returns (nodes, edges by source node)."""
    meta = snap["snapshot"]["meta"]
    nf, ef = len(NODE_FIELDS), len(EDGE_FIELDS)
    node_kinds, edge_kinds = meta["node_types"][0], meta["edge_types"][0]
    raw_nodes, raw_edges, strings = snap["nodes"], snap["edges"], snap["strings"]
    need(all(isinstance(s, str) for s in strings), "strings are strings")
    need(all(isinstance(x, int) and x >= 0 for x in raw_nodes + raw_edges),
         "nodes and edges are non-negative integers")
    need(len(raw_nodes) % nf == 0, "nodes length %d not a multiple of %d" % (len(raw_nodes), nf))
    need(len(raw_edges) % ef == 0, "edges length %d not a multiple of %d" % (len(raw_edges), ef))
    n_nodes, n_edges = len(raw_nodes) // nf, len(raw_edges) // ef
    need(snap["snapshot"]["node_count"] == n_nodes, "node_count %d, nodes %d" %
         (snap["snapshot"]["node_count"], n_nodes))
    need(snap["snapshot"]["edge_count"] == n_edges, "edge_count %d, edges %d" %
         (snap["snapshot"]["edge_count"], n_edges))
    need(n_nodes >= 1, "no root node")
    nodes, ids = [], set()
    for i in range(n_nodes):
        t, name, nid, size, ecount, trace, det = raw_nodes[i * nf:(i + 1) * nf]
        need(t < len(node_kinds), "node %d: type %d out of range" % (i, t))
        need(name < len(strings), "node %d: name %d out of range" % (i, name))
        need(nid not in ids, "node %d: id %d repeated" % (i, nid))
        ids.add(nid)
        nodes.append({"type": node_kinds[t], "name": strings[name], "id": nid,
                      "size": size, "edge_count": ecount})
    need(sum(n["edge_count"] for n in nodes) == n_edges,
         "the nodes' edge counts add up to %d, not %d" %
         (sum(n["edge_count"] for n in nodes), n_edges))
    edges, at = [], 0
    for i, n in enumerate(nodes):
        out = []
        for _ in range(n["edge_count"]):
            t, name, to = raw_edges[at * ef:(at + 1) * ef]
            at += 1
            need(t < len(edge_kinds), "edge %d: type %d out of range" % (at - 1, t))
            kind = edge_kinds[t]
            if kind not in ("element", "hidden"):
                need(name < len(strings), "edge %d: name %d out of range" % (at - 1, name))
                name = strings[name]
            need(to % nf == 0, "edge %d: to_node %d not a node start" % (at - 1, to))
            need(to // nf < n_nodes, "edge %d: to_node %d past the nodes" % (at - 1, to))
            out.append((kind, name, to // nf))
        edges.append(out)
    # every node reachable from the root by non-weak edges
    seen, todo = {0}, [0]
    while todo:
        i = todo.pop()
        for kind, _, to in edges[i]:
            if kind != "weak" and to not in seen:
                seen.add(to)
                todo.append(to)
    unreached = [i for i in range(n_nodes) if i not in seen]
    need(not unreached, "%d nodes unreachable from the root, e.g. %r" %
         (len(unreached), [nodes[i]["name"] for i in unreached[:5]]))
    return nodes, edges


def check_demo(nodes, edges):
    """The edges tests/diag_snapshot.c's heap must have (see its comment)."""
    names = [n["name"] for n in nodes]
    need(names[0] == "(root)" and nodes[0]["type"] == "synthetic", "node 0 is the root")
    need(names[1:5] == ["(handles)", "(frames)", "(kept objects)", "(trace_roots)"],
         "root kinds %r" % names[1:5])
    need([e[2] for e in edges[0]] == [1, 2, 3, 4], "root -> its four kinds")
    need("garbage" not in names, "garbage made it into the snapshot")
    for name in ("cnode", "triple", "blob", "WeakRef", "WeakMap",
                 "FinalizationRegistry", "WeakRefGroup", "WeakRefGroup ref",
                 "kept_target", "odd \"name\"\\\n\ttab"):
        need(name in names, "no node named %r" % name)
    need(names.count("cnode") == 4, "cnodes: %d" % names.count("cnode"))
    need(names.count("WeakRef") == 2, "WeakRefs: %d (the garbage ones are out)" %
         names.count("WeakRef"))

    def out(i, kind=None):
        return [e for e in edges[i] if kind is None or e[0] == kind]

    def target(e):
        return names[e[2]]

    handles, frames, kept, vm = (out(k) for k in (1, 2, 3, 4))
    need(len(handles) == 8 and all(e[0] == "element" for e in handles),
         "handles: %r" % handles)
    need([e[1] for e in handles] == list(range(8)), "handles by index")
    need(frames == [("property", "frame 0 slot 0", frames[0][2])] and
         target(frames[0]) == "triple", "frames: %r" % frames)
    need(len(kept) == 1 and target(kept[0]) == "kept_target", "kept: %r" % kept)
    need([(k, n) for k, n, _ in vm] == [("element", 0), ("weak", "[1]")], "vm: %r" % vm)
    c1 = handles[0][2]
    need(names[c1] == "cnode" and nodes[c1]["size"] == 32, "handle 0 -> a 32-byte cnode")
    need(vm[1][2] == c1, "the weak VM slot points at cnode 1")
    c2 = [e for e in out(c1) if e[1] == "+0"][0][2]
    c3 = [e for e in out(c2) if e[1] == "+0"][0][2]
    need(out(c1, "property") == [("property", "+0", c2)], "cnode 1 -> cnode 2 by +0")
    triple = frames[0][2]
    need([(k, n, names[t]) for k, n, t in out(triple)] == [("property", "+16", "blob")],
         "triple -> blob by +16: %r" % out(triple))
    ref = handles[1][2]
    need(names[ref] == "WeakRef" and out(ref) == [("weak", "+0", c2)],
         "WeakRef -> cnode 2, weak +0: %r" % out(ref))
    dead_ref = handles[2][2]
    need(names[dead_ref] == "WeakRef" and out(dead_ref) == [],
         "a WeakRef to garbage has no edge: %r" % out(dead_ref))
    wm = handles[3][2]
    need(names[wm] == "WeakMap", "handle 3 -> the WeakMap")
    wm_edges = out(wm)
    need(len(wm_edges) == 2 and wm_edges[0] == ("weak", "[0]", c3) and
         wm_edges[1][:2] == ("element", 1) and target(wm_edges[1]) == "blob",
         "WeakMap: key weak, value strong, dead entry absent: %r" % wm_edges)
    reg = handles[4][2]
    reg_edges = out(reg)
    need(names[reg] == "FinalizationRegistry" and len(reg_edges) == 2 and
         reg_edges[0][:2] == ("element", 0) and target(reg_edges[0]) == "blob" and
         reg_edges[1] == ("weak", "[1]", c2),
         "registry: holdings strong, target weak: %r" % reg_edges)
    gref = handles[6][2]
    need(names[gref] == "WeakRefGroup ref", "handle 6 -> the group's ref")
    gref_edges = out(gref)
    need(("weak", "+0", c1) in gref_edges and
         any(k == "weak" and names[t] == "WeakRefGroup" for k, _, t in gref_edges),
         "group ref: target and group weak: %r" % gref_edges)
    weak = sum(1 for es in edges for e in es if e[0] == "weak")
    need(weak == 6, "weak edges: %d" % weak)


def main(argv):
    if len(argv) == 3 and argv[1] == "--run":
        with tempfile.NamedTemporaryFile(suffix=".heapsnapshot") as f:
            subprocess.run([argv[2], f.name], check=True)
            text = open(f.name, encoding="utf-8").read()
        demo = True
    elif len(argv) == 2:
        text = open(argv[1], encoding="utf-8").read()
        demo = False
    else:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        nodes, edges = decode(load(text))
        if demo:
            check_demo(nodes, edges)
    except (Bad, ValueError, KeyError, IndexError, TypeError) as e:
        print("check_heapsnapshot: FAIL: %s" % e, file=sys.stderr)
        return 1
    print("check_heapsnapshot: ok: %d nodes, %d edges, %d weak" %
          (len(nodes), sum(len(e) for e in edges),
           sum(1 for es in edges for e in es if e[0] == "weak")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
