/*
 * value.h -- how wscheme represents Scheme values.
 *
 * A value is one machine word.  Heap objects are 16-byte aligned, so the
 * low bits of a real pointer are zero; everything else is an immediate:
 *
 *     ...xxx1   a fixnum (63-bit signed integer), never allocated
 *     ...x010   a constant: (), #f, #t, the unspecified value, ...
 *     ...0000   a pointer to an object in the wgc heap
 *
 * Only pointers are ever reported to the collector (ws_visit skips the
 * rest), so the heap sees nothing but real objects.  Every object starts
 * with `struct obj`, whose kind lets the interpreter dispatch without
 * asking the library; `aux` is spare room the pair uses for its source
 * line and the symbol for its special-form number.
 */
#ifndef WS_VALUE_H
#define WS_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wgc.h>

typedef struct obj {
    uint32_t kind;
    uint32_t aux;
} obj;

typedef obj *value;

enum kind {
    K_PAIR = 1,
    K_SYMBOL,
    K_STRING,
    K_VECTOR,
    K_CLOSURE,
    K_PRIM,
    K_FRAME,
    K_BOX,
    K_WEAKREF,
    K_WEAKMAP,
    K_REGISTRY,
    K_GROUP
};

#define WS_FIXNUM_MAX (INTPTR_MAX >> 1)
#define WS_FIXNUM_MIN (INTPTR_MIN >> 1)

static inline value fix(intptr_t n) { return (value)(((uintptr_t)n << 1) | 1); }
static inline intptr_t fixval(value v) { return (intptr_t)(uintptr_t)v >> 1; }
static inline bool is_fix(value v) { return (uintptr_t)v & 1; }
static inline bool is_ptr(value v) { return ((uintptr_t)v & 15) == 0 && v; }

#define WS_CONST(n) ((value)(uintptr_t)(((n) << 4) | 2))
#define NIL WS_CONST(0)
#define FALSE_V WS_CONST(1)
#define TRUE_V WS_CONST(2)
#define UNSPEC WS_CONST(3)
#define UNBOUND WS_CONST(4) /* a global never defined; never seen by scripts */

static inline value boolv(bool b) { return b ? TRUE_V : FALSE_V; }
static inline bool truthy(value v) { return v != FALSE_V; }
static inline uint32_t kind_of(value v) { return is_ptr(v) ? v->kind : 0; }
static inline bool is_kind(value v, uint32_t k) { return is_ptr(v) && v->kind == k; }

/* ------------------------------------------------------------- objects */

typedef struct pair {
    obj h; /* aux: source line, 0 if not read from source */
    value car, cdr;
} pair;

typedef struct symbol {
    obj h;        /* aux: special-form number, 0 for ordinary symbols */
    value global; /* its top-level binding, or UNBOUND */
    size_t len;
    char name[];
} symbol;

typedef struct string {
    obj h;
    size_t len;
    char chars[]; /* NUL-terminated for convenience */
} string;

typedef struct vector {
    obj h;
    size_t len;
    value items[];
} vector;

typedef struct closure {
    obj h; /* aux: 2 * required parameters + 1 if there is a rest parameter */
    value params, body, env;
    value name; /* the symbol it was first defined as, for messages; or NIL */
} closure;

struct interp;
typedef value (*prim_fn)(struct interp *I, value *args, int argc);

typedef struct prim {
    obj h;
    prim_fn fn;
    const char *name;
    int min_args, max_args; /* max -1: variadic */
} prim;

/* A local environment: the parameters of one call (names is the lambda's
 * parameter list, possibly improper) and the internal defines of its body
 * (extra, an association list).  The global environment is NIL; globals
 * live in their symbols. */
typedef struct frame {
    obj h;
    value parent, names, extra;
    value proc; /* the closure called: for backtraces */
    size_t count;
    value vals[];
} frame;

/* A value boxed so a weak map can hold it: the library's weak map takes
 * only heap objects as values, and fixnums and constants are not. */
typedef struct box {
    obj h;
    value v;
} box;

typedef struct weakref_obj {
    obj h;
    wgc_weakref *ref;
    value group; /* the group wrapper for a group ref, else NIL */
} weakref_obj;

typedef struct weakmap_obj {
    obj h;
    wgc_weakmap *map;
} weakmap_obj;

typedef struct registry_obj {
    obj h;
    wgc_registry *reg;
    value proc;
} registry_obj;

typedef struct group_obj {
    obj h;
    wgc_group *group;
    value proc;
} group_obj;

#define AS(type, v) ((type *)(void *)(v))

static inline value car(value v) { return AS(pair, v)->car; }
static inline value cdr(value v) { return AS(pair, v)->cdr; }
static inline bool is_pair(value v) { return is_kind(v, K_PAIR); }
static inline bool is_symbol(value v) { return is_kind(v, K_SYMBOL); }

#endif
