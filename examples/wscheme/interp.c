/*
 * interp.c -- setting up and tearing down an interpreter, errors, and the
 * safe point where cleanup procedures run.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "interp.h"

/* Scheme-level definitions: cheaper to write (and to trust) in Scheme.
 * map and for-each are iterative, so they work on million-element lists. */
static const char prelude[] =
    "(define (caar x) (car (car x)))\n"
    "(define (reverse l)\n"
    "  (let loop ((l l) (acc '()))\n"
    "    (if (null? l) acc (loop (cdr l) (cons (car l) acc)))))\n"
    "(define (append a b)\n"
    "  (let loop ((r (reverse a)) (acc b))\n"
    "    (if (null? r) acc (loop (cdr r) (cons (car r) acc)))))\n"
    "(define (map f l)\n"
    "  (let loop ((l l) (acc '()))\n"
    "    (if (null? l) (reverse acc) (loop (cdr l) (cons (f (car l)) acc)))))\n"
    "(define (for-each f l)\n"
    "  (if (pair? l) (begin (f (car l)) (for-each f (cdr l)))))\n"
    "(define (assq k l)\n"
    "  (cond ((null? l) #f) ((eq? k (car (car l))) (car l)) (else (assq k (cdr l)))))\n"
    "(define (assoc k l)\n"
    "  (cond ((null? l) #f) ((equal? k (car (car l))) (car l)) (else (assoc k (cdr l)))))\n"
    "(define (list-tail l k) (if (= k 0) l (list-tail (cdr l) (- k 1))))\n"
    "(define (list-ref l k) (car (list-tail l k)))\n";

static const struct {
    const char *name;
    enum special sf;
} specials[] = {
    {"quote", SF_QUOTE}, {"if", SF_IF},         {"define", SF_DEFINE}, {"set!", SF_SET},
    {"lambda", SF_LAMBDA}, {"begin", SF_BEGIN}, {"let", SF_LET},       {"let*", SF_LETSTAR},
    {"cond", SF_COND},   {"and", SF_AND},       {"or", SF_OR},         {"when", SF_WHEN},
    {"unless", SF_UNLESS},
};

void ws_stack_overflow(interp *I)
{
    ws_error(I, "stack overflow: recursion deeper than %zu stack slots", I->cap);
}

bool ws_init(interp *I, size_t max_heap, size_t stack_entries)
{
    memset(I, 0, sizeof *I);
    I->expr = I->env = I->val = I->unev = NIL;
    I->filename = "wscheme";
    I->max_heap = max_heap;
    /* The stack never moves: malloc reserves it, pages are touched as used. */
    I->stack = malloc(stack_entries * sizeof(value));
    I->cap = stack_entries;

    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.keep_during_job = true;
    cfg.trace_roots = ws_trace_roots;
    cfg.trace_roots_user = I;
    if (max_heap) {
        cfg.max_heap_size = max_heap;
        if (cfg.initial_heap_size > max_heap)
            cfg.initial_heap_size = max_heap;
    }
    I->heap = I->stack ? wgc_heap_new(&cfg) : NULL;
    if (!I->heap) {
        fprintf(stderr, "wscheme: cannot create the heap\n");
        free(I->stack);
        return false;
    }

    jmp_buf here;
    if (setjmp(here)) {
        ws_report(I, "error while starting up: ");
        ws_free(I);
        return false;
    }
    I->handler = &here;
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++)
        intern(I, specials[i].name, strlen(specials[i].name))->aux = specials[i].sf;
    I->sym_else = intern(I, "else", 4);
    I->sym_dot = intern(I, ".", 1);
    ws_install_prims(I);
    ws_install_weak_prims(I);
    I->filename = "prelude";
    ws_reader_set(I, prelude, sizeof prelude - 1, 1);
    while (ws_read(I) == READ_OK)
        ws_eval(I, ws_expand(I, I->val), NIL);
    I->handler = NULL;
    I->filename = "wscheme";
    return true;
}

void ws_free(interp *I)
{
    wgc_heap_free(I->heap);
    free(I->stack);
    free(I->symtab);
    memset(I, 0, sizeof *I);
}

void ws_error(interp *I, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(I->errmsg, sizeof I->errmsg, fmt, ap);
    va_end(ap);
    if (!I->handler) {
        ws_report(I, "fatal error: ");
        abort();
    }
    longjmp(*I->handler, 1);
}

void ws_error_v(interp *I, const char *msg, value v)
{
    char buf[sizeof I->errmsg];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    if (f) {
        ws_print(f, v, true);
        fclose(f);
    } else {
        buf[0] = '\0';
    }
    buf[sizeof buf - 1] = '\0';
    ws_error(I, "%s %s", msg, buf);
}

/* The name of the procedure whose call made environment frame f. */
static value proc_name(value f)
{
    return AS(closure, AS(frame, f)->proc)->name;
}

static void print_run(value name, long times)
{
    fprintf(stderr, "  in %s", is_symbol(name) ? AS(symbol, name)->name
                                               : "an anonymous procedure");
    if (times > 1)
        fprintf(stderr, " (%ld calls deep)", times);
    fputc('\n', stderr);
}

/* The procedures whose calls are still under way, innermost first: the
 * current environment's, then those of the environments that continuation
 * records saved on the stack (tail calls leave none, as in any Scheme).
 * Runs of one procedure (recursion) print as one line. */
static void backtrace(interp *I)
{
    enum { SHOWN = 6 };
    value last = NIL, run_name = NIL;
    long run = 0;
    int lines = 0, more = 0;
    for (size_t i = I->sp + 1; i-- > 0;) {
        value f = i == I->sp ? I->env : S(i);
        if (!is_kind(f, K_FRAME) || f == last)
            continue;
        last = f;
        if (run && proc_name(f) == run_name && is_symbol(run_name)) {
            run++;
            continue;
        }
        if (run && lines++ < SHOWN)
            print_run(run_name, run);
        else if (run)
            more++;
        run_name = proc_name(f);
        run = 1;
    }
    if (run && lines++ < SHOWN)
        print_run(run_name, run);
    else if (run)
        more++;
    if (more)
        fprintf(stderr, "  ... and %d more\n", more);
}

void ws_report(interp *I, const char *context)
{
    fflush(stdout);
    fprintf(stderr, "%s:%d: %s%s\n", I->filename, I->line, context, I->errmsg);
    backtrace(I);
    fflush(stderr);
}

/* ------------------------------------------------------------ safe point */

size_t ws_run_cleanup(interp *I)
{
    if (I->in_cleanup)
        return 0; /* (run-cleanup) from a cleanup procedure: the outer drain goes on */
    I->in_cleanup = true;
    size_t ran = 0;
    do {
        /* A failing cleanup procedure stops wgc's drain (its callback
         * returns non-zero); the error is already reported, so go on. */
        I->cleanup_failed = false;
        ran += wgc_run_cleanup(I->heap, SIZE_MAX);
    } while (I->cleanup_failed);
    I->in_cleanup = false;
    return ran;
}

void ws_safe_point(interp *I)
{
    wgc_end_job(I->heap);
    ws_run_cleanup(I);
    /* each cleanup procedure is a job of its own, as in ECMAScript */
    wgc_end_job(I->heap);
}
