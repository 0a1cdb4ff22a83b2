/*
 * diag/snapshot.c -- the reachable heap in Chrome DevTools' .heapsnapshot
 * format (wgc/diag.h states the mapping; docs/diag.md [D5]).
 *
 * The format: one JSON object; "snapshot.meta" names the fields of the
 * flat "nodes" and "edges" integer arrays; a node's edges follow those of
 * the node before it (edge_count says how many); an edge's to_node is the
 * target's index in "nodes" (node position * 7); names are indexes into
 * "strings", except for element edges, whose name is a number.
 */
#include "diag/diag_internal.h"

#define NODE_FIELDS 7
#define KINDS 4
#define FIRST_OBJECT (1 + KINDS)

/* node_types[0] and edge_types[0], as V8 writes them. */
enum { NODE_OBJECT = 3, NODE_SYNTHETIC = 9 };
enum { EDGE_ELEMENT = 1, EDGE_PROPERTY = 2, EDGE_WEAK = 6 };

/* ========================================================== buffered out */

typedef struct out {
    wgc_sink_fn sink;
    void *user;
    bool failed;
    size_t used;
    char buf[1 << 16];
} out;

static void flush(out *o)
{
    if (o->used && !o->failed && !o->sink(o->buf, o->used, o->user))
        o->failed = true;
    o->used = 0;
}

static void put(out *o, const char *s, size_t n)
{
    while (n) {
        if (o->used == sizeof o->buf)
            flush(o);
        size_t take = sizeof o->buf - o->used;
        if (take > n)
            take = n;
        memcpy(o->buf + o->used, s, take);
        o->used += take;
        s += take;
        n -= take;
    }
}

static void puts_(out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* (snprintf was most of the writing time: a snapshot is mostly numbers) */
static void putu(out *o, size_t u)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    put(o, p, (size_t)(tmp + sizeof tmp - p));
}

/* A JSON string: quotes, backslashes and control characters escaped;
 * other bytes as they are (type names are UTF-8 or ASCII). */
static void put_json_string(out *o, const char *s)
{
    put(o, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            put(o, esc, 2);
        } else if (c < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(o, esc, 6);
        } else {
            put(o, (const char *)&c, 1);
        }
    }
    put(o, "\"", 1);
}

/* ============================================================ strings */

/* The "strings" array: each distinct string once, in first-use order. */
#define NAME_CACHE 64

typedef struct strings {
    size_t offset_names[2][NAME_CACHE]; /* [weak][offset / 8]: 1 + index */
    char **items;             /* owned copies, in index order */
    size_t count, capacity;
    size_t *table;            /* open addressing: 1 + index, 0 empty */
    size_t table_size;
    bool oom;
} strings;

static size_t str_hash(const char *s)
{
    size_t h = 14695981039346656037u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static size_t intern(strings *st, const char *s)
{
    if (st->oom)
        return 0;
    if ((st->count + 1) * 2 > st->table_size) {
        size_t size = st->table_size ? st->table_size * 2 : 64;
        size_t *table = calloc(size, sizeof *table);
        if (!table) {
            st->oom = true;
            return 0;
        }
        for (size_t i = 0; i < st->count; i++) {
            size_t j = str_hash(st->items[i]) & (size - 1);
            while (table[j])
                j = (j + 1) & (size - 1);
            table[j] = i + 1;
        }
        free(st->table);
        st->table = table;
        st->table_size = size;
    }
    size_t j = str_hash(s) & (st->table_size - 1);
    for (; st->table[j]; j = (j + 1) & (st->table_size - 1))
        if (strcmp(st->items[st->table[j] - 1], s) == 0)
            return st->table[j] - 1;
    if (st->count == st->capacity) {
        size_t capacity = st->capacity ? st->capacity * 2 : 64;
        char **items = realloc(st->items, capacity * sizeof *items);
        if (!items) {
            st->oom = true;
            return 0;
        }
        st->items = items;
        st->capacity = capacity;
    }
    char *copy = strdup(s);
    if (!copy) {
        st->oom = true;
        return 0;
    }
    st->items[st->count] = copy;
    st->table[j] = ++st->count;
    return st->count - 1;
}

static void strings_free(strings *st)
{
    for (size_t i = 0; i < st->count; i++)
        free(st->items[i]);
    free(st->items);
    free(st->table);
}

/* ============================================================== edges */

typedef struct sedge {
    size_t type, name, to; /* to: node position */
} sedge;

/* Whether a recorded slot becomes an edge: its target (and an ephemeron
 * value's key) are in the snapshot. */
static bool kept_edge(dwalk *w, void *target, void *key)
{
    return wgc__diag_node_of(w, target) != DIAG_NONE &&
           (!key || wgc__diag_node_of(w, key) != DIAG_NONE);
}

static sedge slot_edge(strings *st, dslot slot, bool weak, size_t to)
{
    char name[32];
    size_t *cached = slot.in_object && slot.where / 8 < NAME_CACHE && slot.where % 8 == 0
                         ? &st->offset_names[weak][slot.where / 8] : NULL;
    if (cached && *cached)
        return (sedge){weak ? EDGE_WEAK : EDGE_PROPERTY, *cached - 1, to};
    if (slot.in_object)
        snprintf(name, sizeof name, "+%zu", slot.where);
    else if (weak)
        snprintf(name, sizeof name, "[%zu]", slot.where);
    else
        return (sedge){EDGE_ELEMENT, slot.where, to};
    size_t index = intern(st, name);
    if (cached && !st->oom)
        *cached = index + 1;
    return (sedge){weak ? EDGE_WEAK : EDGE_PROPERTY, index, to};
}

static sedge root_edge(strings *st, const droot *r, size_t to)
{
    char name[48];
    if (r->kind == WGC_ROOT_FRAME) {
        snprintf(name, sizeof name, "frame %zu slot %zu", r->index, r->slot);
        return (sedge){r->weak ? EDGE_WEAK : EDGE_PROPERTY, intern(st, name), to};
    }
    if (r->weak) {
        snprintf(name, sizeof name, "[%zu]", r->index);
        return (sedge){EDGE_WEAK, intern(st, name), to};
    }
    return (sedge){EDGE_ELEMENT, r->index, to};
}

/* Every edge, grouped by node in node order; per node, its count. */
static bool build_edges(dwalk *w, strings *st, sedge **edges_out,
                        size_t *count_out, size_t *per_node)
{
    size_t n = KINDS;
    for (size_t i = 0; i < w->roots.count; i++) {
        const droot *r = &DVEC_AT(&w->roots, droot, i);
        n += kept_edge(w, r->target, r->key);
    }
    for (size_t i = 0; i < w->edges.count; i++) {
        const dedge *e = &DVEC_AT(&w->edges, dedge, i);
        n += kept_edge(w, e->target, e->key);
    }
    sedge *edges = malloc((n ? n : 1) * sizeof *edges);
    if (!edges)
        return false;
    size_t at = 0;
    for (size_t k = 0; k < KINDS; k++)
        edges[at++] = (sedge){EDGE_ELEMENT, k, 1 + k};
    per_node[0] = KINDS;
    for (size_t i = 0; i < w->roots.count; i++) {
        const droot *r = &DVEC_AT(&w->roots, droot, i);
        if (!kept_edge(w, r->target, r->key))
            continue;
        size_t to = FIRST_OBJECT + wgc__diag_node_of(w, r->target);
        edges[at++] = root_edge(st, r, to);
        per_node[1 + r->kind]++;
    }
    for (size_t i = 0; i < w->nodes.count; i++) {
        const dnode *node = &DVEC_AT(&w->nodes, dnode, i);
        size_t end = i + 1 < w->nodes.count
                         ? DVEC_AT(&w->nodes, dnode, i + 1).first_edge : w->edges.count;
        for (size_t j = node->first_edge; j < end; j++) {
            const dedge *e = &DVEC_AT(&w->edges, dedge, j);
            if (!kept_edge(w, e->target, e->key))
                continue;
            size_t to = FIRST_OBJECT + wgc__diag_node_of(w, e->target);
            edges[at++] = slot_edge(st, e->slot, e->weak, to);
            per_node[FIRST_OBJECT + i]++;
        }
    }
    *edges_out = edges;
    *count_out = at;
    return !st->oom;
}

/* ============================================================== writer */

static const char META[] =
    "{\"snapshot\":{\"meta\":{"
    "\"node_fields\":[\"type\",\"name\",\"id\",\"self_size\",\"edge_count\","
    "\"trace_node_id\",\"detachedness\"],"
    "\"node_types\":[[\"hidden\",\"array\",\"string\",\"object\",\"code\","
    "\"closure\",\"regexp\",\"number\",\"native\",\"synthetic\","
    "\"concatenated string\",\"sliced string\",\"symbol\",\"bigint\","
    "\"object shape\"],\"string\",\"number\",\"number\",\"number\",\"number\","
    "\"number\"],"
    "\"edge_fields\":[\"type\",\"name_or_index\",\"to_node\"],"
    "\"edge_types\":[[\"context\",\"element\",\"property\",\"internal\","
    "\"hidden\",\"shortcut\",\"weak\"],\"string_or_number\",\"node\"],"
    "\"trace_function_info_fields\":[\"function_id\",\"name\",\"script_name\","
    "\"script_id\",\"line\",\"column\"],"
    "\"trace_node_fields\":[\"id\",\"function_info_index\",\"count\",\"size\","
    "\"children\"],"
    "\"sample_fields\":[\"timestamp_us\",\"last_assigned_id\"],"
    "\"location_fields\":[\"object_index\",\"script_id\",\"line\",\"column\"]},";

static const char *const KIND_NAMES[KINDS] = {
    "(handles)", "(frames)", "(kept objects)", "(trace_roots)"};

static void write_node(out *o, bool first, size_t type, size_t name,
                       size_t position, size_t size, size_t edges)
{
    size_t fields[NODE_FIELDS] = {type, name, 2 * position + 1, size, edges, 0, 0};
    for (int f = 0; f < NODE_FIELDS; f++) {
        if (!first || f)
            put(o, ",", 1);
        putu(o, fields[f]);
    }
    put(o, "\n", 1);
}

static void write_snapshot(out *o, const dwalk *w, strings *st,
                           const sedge *edges, size_t edge_count,
                           const size_t *per_node, const size_t *names)
{
    size_t node_count = FIRST_OBJECT + w->nodes.count;
    puts_(o, META);
    puts_(o, "\"node_count\":");
    putu(o, node_count);
    puts_(o, ",\"edge_count\":");
    putu(o, edge_count);
    puts_(o, ",\"trace_function_count\":0},\n\"nodes\":[");
    write_node(o, true, NODE_SYNTHETIC, names[0], 0, 0, per_node[0]);
    for (size_t k = 0; k < KINDS; k++)
        write_node(o, false, NODE_SYNTHETIC, names[1 + k], 1 + k, 0, per_node[1 + k]);
    for (size_t i = 0; i < w->nodes.count; i++) {
        void *obj = DVEC_AT(&w->nodes, dnode, i).obj;
        write_node(o, false, NODE_OBJECT, names[FIRST_OBJECT + i], FIRST_OBJECT + i,
                   wgc__diag_bytes(obj), per_node[FIRST_OBJECT + i]);
    }
    puts_(o, "],\n\"edges\":[");
    for (size_t i = 0; i < edge_count; i++) {
        if (i)
            put(o, ",", 1);
        putu(o, edges[i].type);
        put(o, ",", 1);
        putu(o, edges[i].name);
        put(o, ",", 1);
        putu(o, edges[i].to * NODE_FIELDS);
        put(o, "\n", 1);
    }
    puts_(o, "],\n\"trace_function_infos\":[],\"trace_tree\":[],\"samples\":[],"
             "\"locations\":[],\n\"strings\":[");
    for (size_t i = 0; i < st->count; i++) {
        if (i)
            puts_(o, ",\n");
        put_json_string(o, st->items[i]);
    }
    puts_(o, "]}\n");
    flush(o);
}

bool wgc_snapshot_write(wgc_heap *heap, wgc_sink_fn sink, void *user)
{
    if (!sink)
        return wgc__check_heap(heap) && wgc__fail(heap, WGC_EINVAL);
    if (!wgc__enter(heap))
        return false;
    dwalk w;
    if (!wgc__record(heap, wgc__diag_walk(heap, &w, true, NULL))) {
        wgc__diag_walk_free(&w);
        return false;
    }
    size_t node_count = FIRST_OBJECT + w.nodes.count;
    strings st = {0};
    size_t *per_node = calloc(node_count, sizeof *per_node);
    size_t *names = malloc(node_count * sizeof *names);
    sedge *edges = NULL;
    size_t edge_count = 0;
    out *o = malloc(sizeof *o);
    bool ok = per_node && names && o;
    if (ok) {
        /* Names first: node names take the first strings. */
        names[0] = intern(&st, "(root)");
        for (size_t k = 0; k < KINDS; k++)
            names[1 + k] = intern(&st, KIND_NAMES[k]);
        for (size_t i = 0; i < w.nodes.count; i++)
            names[FIRST_OBJECT + i] =
                intern(&st, wgc__diag_name(type_of(DVEC_AT(&w.nodes, dnode, i).obj)));
        ok = !st.oom && build_edges(&w, &st, &edges, &edge_count, per_node);
    }
    if (ok) {
        *o = (out){.sink = sink, .user = user};
        write_snapshot(o, &w, &st, edges, edge_count, per_node, names);
    }
    bool failed = ok && o->failed;
    free(edges);
    free(o);
    free(names);
    free(per_node);
    strings_free(&st);
    wgc__diag_walk_free(&w);
    if (!ok)
        return wgc__fail(heap, WGC_ENOMEM);
    if (failed)
        return wgc__fail(heap, WGC_ECALLBACK);
    return true;
}

static bool file_sink(const void *data, size_t size, void *user)
{
    return fwrite(data, 1, size, user) == size;
}

bool wgc_snapshot_write_file(wgc_heap *heap, FILE *out)
{
    if (!out)
        return wgc__check_heap(heap) && wgc__fail(heap, WGC_EINVAL);
    return wgc_snapshot_write(heap, file_sink, out);
}
