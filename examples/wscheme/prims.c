/*
 * prims.c -- the core primitives: numbers, equality, pairs, vectors,
 * strings, output and errors.
 *
 * A primitive receives its arguments as a pointer into the value stack:
 * they stay rooted (and the pointer valid) for the whole call.
 */
#include <inttypes.h>
#include <string.h>

#include "interp.h"

void ws_define_prim(interp *I, const char *name, prim_fn fn, int min, int max)
{
    size_t si = push(I, intern(I, name, strlen(name)));
    prim *p = ws_alloc(I, &ws_prim_type, sizeof *p);
    p->h.kind = K_PRIM;
    p->fn = fn;
    p->name = name;
    p->min_args = min;
    p->max_args = max;
    WS_STORE(I, AS(symbol, S(si)), global, (value)p);
    I->sp = si;
}

_Noreturn static void type_error(interp *I, const char *who, const char *want, value got)
{
    char msg[128];
    snprintf(msg, sizeof msg, "%s: expected %s, got", who, want);
    ws_error_v(I, msg, got);
}

intptr_t arg_int(interp *I, const char *who, value v)
{
    if (!is_fix(v))
        type_error(I, who, "an integer", v);
    return fixval(v);
}

void arg_check(interp *I, const char *who, value v, uint32_t kind)
{
    static const char *const want[] = {
        [K_PAIR] = "a pair",        [K_SYMBOL] = "a symbol",
        [K_STRING] = "a string",    [K_VECTOR] = "a vector",
        [K_WEAKREF] = "a weak-ref", [K_WEAKMAP] = "a weak-map",
        [K_REGISTRY] = "a finalization-registry", [K_GROUP] = "a weak-ref-group",
    };
    if (!is_kind(v, kind))
        type_error(I, who, want[kind] ? want[kind] : "an object", v);
}

static value make_int(interp *I, intptr_t n, bool overflow)
{
    if (overflow || n > WS_FIXNUM_MAX || n < WS_FIXNUM_MIN)
        ws_error(I, "integer overflow");
    return fix(n);
}

/* -------------------------------------------------------------- numbers */

static value p_add(interp *I, value *a, int n)
{
    intptr_t r = 0;
    bool ovf = false;
    for (int i = 0; i < n; i++)
        ovf |= __builtin_add_overflow(r, arg_int(I, "+", a[i]), &r);
    return make_int(I, r, ovf);
}

static value p_mul(interp *I, value *a, int n)
{
    intptr_t r = 1;
    bool ovf = false;
    for (int i = 0; i < n; i++)
        ovf |= __builtin_mul_overflow(r, arg_int(I, "*", a[i]), &r);
    return make_int(I, r, ovf);
}

static value p_sub(interp *I, value *a, int n)
{
    intptr_t r = arg_int(I, "-", a[0]);
    bool ovf = false;
    if (n == 1)
        return make_int(I, -r, false);
    for (int i = 1; i < n; i++)
        ovf |= __builtin_sub_overflow(r, arg_int(I, "-", a[i]), &r);
    return make_int(I, r, ovf);
}

static value divide(interp *I, value *a, const char *who, int op)
{
    intptr_t x = arg_int(I, who, a[0]), y = arg_int(I, who, a[1]);
    if (y == 0)
        ws_error(I, "%s: division by zero", who);
    if (op == 0)
        return make_int(I, x / y, false);
    intptr_t r = x % y;
    if (op == 2 && r != 0 && (r < 0) != (y < 0))
        r += y; /* modulo takes the divisor's sign */
    return fix(r);
}

static value p_quotient(interp *I, value *a, int n) { (void)n; return divide(I, a, "quotient", 0); }
static value p_remainder(interp *I, value *a, int n) { (void)n; return divide(I, a, "remainder", 1); }
static value p_modulo(interp *I, value *a, int n) { (void)n; return divide(I, a, "modulo", 2); }

enum cmp { LT, GT, EQ, LE, GE };

static value compare(interp *I, value *a, int n, const char *who, enum cmp op)
{
    bool ok = true;
    for (int i = 0; i < n; i++)
        arg_int(I, who, a[i]);
    for (int i = 0; i + 1 < n; i++) {
        intptr_t x = fixval(a[i]), y = fixval(a[i + 1]);
        ok &= op == LT ? x < y : op == GT ? x > y : op == EQ ? x == y : op == LE ? x <= y : x >= y;
    }
    return boolv(ok);
}

static value p_lt(interp *I, value *a, int n) { return compare(I, a, n, "<", LT); }
static value p_gt(interp *I, value *a, int n) { return compare(I, a, n, ">", GT); }
static value p_numeq(interp *I, value *a, int n) { return compare(I, a, n, "=", EQ); }
static value p_le(interp *I, value *a, int n) { return compare(I, a, n, "<=", LE); }
static value p_ge(interp *I, value *a, int n) { return compare(I, a, n, ">=", GE); }

static value p_numberp(interp *I, value *a, int n) { (void)I; (void)n; return boolv(is_fix(a[0])); }

/* ------------------------------------------------------------- equality */

/* Recurses on cars, loops on cdrs: long lists cost no C stack. */
static bool equal(value x, value y)
{
    for (;;) {
        if (x == y)
            return true;
        if (kind_of(x) != kind_of(y) || !is_ptr(x))
            return false;
        switch (x->kind) {
        case K_PAIR:
            if (!equal(car(x), car(y)))
                return false;
            x = cdr(x);
            y = cdr(y);
            continue;
        case K_STRING:
            return AS(string, x)->len == AS(string, y)->len
                && memcmp(AS(string, x)->chars, AS(string, y)->chars, AS(string, x)->len) == 0;
        case K_VECTOR: {
            vector *vx = AS(vector, x), *vy = AS(vector, y);
            if (vx->len != vy->len)
                return false;
            for (size_t i = 0; i < vx->len; i++)
                if (!equal(vx->items[i], vy->items[i]))
                    return false;
            return true;
        }
        default:
            return false;
        }
    }
}

static value p_eq(interp *I, value *a, int n) { (void)I; (void)n; return boolv(a[0] == a[1]); }
static value p_equal(interp *I, value *a, int n) { (void)I; (void)n; return boolv(equal(a[0], a[1])); }
static value p_not(interp *I, value *a, int n) { (void)I; (void)n; return boolv(a[0] == FALSE_V); }

/* ---------------------------------------------------------------- pairs */

static value p_cons(interp *I, value *a, int n) { (void)n; return cons(I, a[0], a[1]); }
static value p_car(interp *I, value *a, int n) { (void)n; arg_check(I, "car", a[0], K_PAIR); return car(a[0]); }
static value p_cdr(interp *I, value *a, int n) { (void)n; arg_check(I, "cdr", a[0], K_PAIR); return cdr(a[0]); }

static value p_cadr(interp *I, value *a, int n)
{
    (void)n;
    arg_check(I, "cadr", a[0], K_PAIR);
    arg_check(I, "cadr", cdr(a[0]), K_PAIR);
    return car(cdr(a[0]));
}

static value p_cddr(interp *I, value *a, int n)
{
    (void)n;
    arg_check(I, "cddr", a[0], K_PAIR);
    arg_check(I, "cddr", cdr(a[0]), K_PAIR);
    return cdr(cdr(a[0]));
}

static value p_setcar(interp *I, value *a, int n)
{
    (void)n;
    arg_check(I, "set-car!", a[0], K_PAIR);
    WS_STORE(I, AS(pair, a[0]), car, a[1]);
    return UNSPEC;
}

static value p_setcdr(interp *I, value *a, int n)
{
    (void)n;
    arg_check(I, "set-cdr!", a[0], K_PAIR);
    WS_STORE(I, AS(pair, a[0]), cdr, a[1]);
    return UNSPEC;
}

static value p_list(interp *I, value *a, int n)
{
    size_t base = I->sp;
    for (int i = 0; i < n; i++)
        push(I, a[i]);
    return list_from_stack(I, base, NIL);
}

static value p_length(interp *I, value *a, int n)
{
    (void)n;
    intptr_t len = 0;
    value l = a[0];
    for (; is_pair(l); l = cdr(l))
        len++;
    if (l != NIL)
        type_error(I, "length", "a proper list", a[0]);
    return fix(len);
}

static value p_nullp(interp *I, value *a, int n) { (void)I; (void)n; return boolv(a[0] == NIL); }
static value p_pairp(interp *I, value *a, int n) { (void)I; (void)n; return boolv(is_pair(a[0])); }
static value p_symbolp(interp *I, value *a, int n) { (void)I; (void)n; return boolv(is_symbol(a[0])); }
static value p_stringp(interp *I, value *a, int n) { (void)I; (void)n; return boolv(is_kind(a[0], K_STRING)); }
static value p_vectorp(interp *I, value *a, int n) { (void)I; (void)n; return boolv(is_kind(a[0], K_VECTOR)); }
static value p_booleanp(interp *I, value *a, int n) { (void)I; (void)n; return boolv(a[0] == TRUE_V || a[0] == FALSE_V); }

static value p_procedurep(interp *I, value *a, int n)
{
    (void)I;
    (void)n;
    return boolv(is_kind(a[0], K_CLOSURE) || is_kind(a[0], K_PRIM));
}

/* -------------------------------------------------------------- vectors */

static value p_vector(interp *I, value *a, int n)
{
    value v = make_vector(I, (size_t)n, FALSE_V);
    memcpy(AS(vector, v)->items, a, (size_t)n * sizeof(value));
    return v;
}

static value p_make_vector(interp *I, value *a, int n)
{
    intptr_t len = arg_int(I, "make-vector", a[0]);
    if (len < 0)
        ws_error(I, "make-vector: negative length %" PRIdPTR, len);
    return make_vector(I, (size_t)len, n > 1 ? a[1] : FALSE_V);
}

static size_t vector_index(interp *I, const char *who, value *a)
{
    arg_check(I, who, a[0], K_VECTOR);
    intptr_t i = arg_int(I, who, a[1]);
    if (i < 0 || (size_t)i >= AS(vector, a[0])->len)
        ws_error(I, "%s: index %" PRIdPTR " out of range for a vector of length %zu", who, i,
                 AS(vector, a[0])->len);
    return (size_t)i;
}

static value p_vector_ref(interp *I, value *a, int n)
{
    (void)n;
    return AS(vector, a[0])->items[vector_index(I, "vector-ref", a)];
}

static value p_vector_set(interp *I, value *a, int n)
{
    (void)n;
    size_t i = vector_index(I, "vector-set!", a);
    WS_STORE(I, AS(vector, a[0]), items[i], a[2]);
    return UNSPEC;
}

static value p_vector_length(interp *I, value *a, int n)
{
    (void)n;
    arg_check(I, "vector-length", a[0], K_VECTOR);
    return fix((intptr_t)AS(vector, a[0])->len);
}

/* -------------------------------------------------------------- strings */

static value p_string_append(interp *I, value *a, int n)
{
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        arg_check(I, "string-append", a[i], K_STRING);
        len += AS(string, a[i])->len;
    }
    value s = make_string(I, NULL, len);
    char *p = AS(string, s)->chars;
    for (int i = 0; i < n; i++) {
        memcpy(p, AS(string, a[i])->chars, AS(string, a[i])->len);
        p += AS(string, a[i])->len;
    }
    return s;
}

static value p_number_to_string(interp *I, value *a, int n)
{
    (void)n;
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%" PRIdPTR, arg_int(I, "number->string", a[0]));
    return make_string(I, buf, (size_t)len);
}

static value p_symbol_to_string(interp *I, value *a, int n)
{
    (void)n;
    arg_check(I, "symbol->string", a[0], K_SYMBOL);
    /* the name lives in a symbol, which never dies: safe across the allocation */
    return make_string(I, AS(symbol, a[0])->name, AS(symbol, a[0])->len);
}

static value p_string_length(interp *I, value *a, int n)
{
    (void)n;
    arg_check(I, "string-length", a[0], K_STRING);
    return fix((intptr_t)AS(string, a[0])->len);
}

/* --------------------------------------------------------------- output */

static value p_display(interp *I, value *a, int n)
{
    (void)I;
    (void)n;
    ws_print(stdout, a[0], false);
    return UNSPEC;
}

static value p_write(interp *I, value *a, int n)
{
    (void)I;
    (void)n;
    ws_print(stdout, a[0], true);
    return UNSPEC;
}

static value p_newline(interp *I, value *a, int n)
{
    (void)I;
    (void)a;
    (void)n;
    putchar('\n');
    return UNSPEC;
}

/* (exit [code]): leaves the program after the current top-level form's
 * unwinding; the code must be a small integer. */
static value p_exit(interp *I, value *a, int n)
{
    intptr_t code = n ? arg_int(I, "exit", a[0]) : 0;
    if (code < 0 || code > 255)
        ws_error(I, "exit: the code must be between 0 and 255, got %ld", (long)code);
    I->exiting = true;
    I->exit_code = (int)code;
    ws_error(I, "exit");
}

static value p_help(interp *I, value *a, int n)
{
    (void)a, (void)n;
    fputs("wscheme: a small Scheme on the wgc garbage collector.\n"
          "  Forms: quote if define set! lambda begin let let* cond and or when unless\n"
          "  Weak layer: make-weak-ref weak-ref-deref weak-ref-clear! weak-ref?\n"
          "    make-weak-map weak-map-ref weak-map-set! weak-map-has? weak-map-delete!\n"
          "    weak-map-count make-finalization-registry registry-register!\n"
          "    registry-unregister! make-weak-ref-group group-make-ref\n"
          "  The collector: (gc) collects, (run-cleanup) runs queued cleanup,\n"
          "    (gc-stats) lists the heap's counters.\n"
          "  Each top-level form is a job: kept objects are released after it and\n"
          "  queued cleanup procedures run.  Ctrl-C interrupts the running form;\n"
          "  (exit) or Ctrl-D leaves.  examples/demo.scm shows the weak layer.\n",
          stdout);
    fflush(stdout);
    (void)I;
    return UNSPEC;
}

static value p_error(interp *I, value *a, int n)
{
    char buf[sizeof I->errmsg];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    if (!f)
        ws_error(I, "error");
    for (int i = 0; i < n; i++) {
        if (i)
            putc(' ', f);
        ws_print(f, a[i], i > 0);
    }
    fclose(f);
    buf[sizeof buf - 1] = '\0';
    ws_error(I, "%s", buf);
}

void ws_install_prims(interp *I)
{
    static const struct {
        const char *name;
        prim_fn fn;
        int min, max;
    } table[] = {
        {"+", p_add, 0, -1},
        {"-", p_sub, 1, -1},
        {"*", p_mul, 0, -1},
        {"quotient", p_quotient, 2, 2},
        {"remainder", p_remainder, 2, 2},
        {"modulo", p_modulo, 2, 2},
        {"<", p_lt, 1, -1},
        {">", p_gt, 1, -1},
        {"=", p_numeq, 1, -1},
        {"<=", p_le, 1, -1},
        {">=", p_ge, 1, -1},
        {"number?", p_numberp, 1, 1},
        {"eq?", p_eq, 2, 2},
        {"eqv?", p_eq, 2, 2},
        {"equal?", p_equal, 2, 2},
        {"not", p_not, 1, 1},
        {"null?", p_nullp, 1, 1},
        {"pair?", p_pairp, 1, 1},
        {"symbol?", p_symbolp, 1, 1},
        {"string?", p_stringp, 1, 1},
        {"vector?", p_vectorp, 1, 1},
        {"boolean?", p_booleanp, 1, 1},
        {"procedure?", p_procedurep, 1, 1},
        {"cons", p_cons, 2, 2},
        {"car", p_car, 1, 1},
        {"cdr", p_cdr, 1, 1},
        {"cadr", p_cadr, 1, 1},
        {"cddr", p_cddr, 1, 1},
        {"set-car!", p_setcar, 2, 2},
        {"set-cdr!", p_setcdr, 2, 2},
        {"list", p_list, 0, -1},
        {"length", p_length, 1, 1},
        {"vector", p_vector, 0, -1},
        {"make-vector", p_make_vector, 1, 2},
        {"vector-ref", p_vector_ref, 2, 2},
        {"vector-set!", p_vector_set, 3, 3},
        {"vector-length", p_vector_length, 1, 1},
        {"string-append", p_string_append, 0, -1},
        {"number->string", p_number_to_string, 1, 1},
        {"symbol->string", p_symbol_to_string, 1, 1},
        {"string-length", p_string_length, 1, 1},
        {"display", p_display, 1, 1},
        {"write", p_write, 1, 1},
        {"newline", p_newline, 0, 0},
        {"error", p_error, 1, -1},
        {"exit", p_exit, 0, 1},
        {"help", p_help, 0, 0},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        ws_define_prim(I, table[i].name, table[i].fn, table[i].min, table[i].max);
}
