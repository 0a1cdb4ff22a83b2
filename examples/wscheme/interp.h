/*
 * interp.h -- the interpreter state and the rooting discipline.
 *
 * The rule that keeps wscheme precise-GC safe
 * -------------------------------------------
 * The collector finds the interpreter's values through one root callback
 * (ws_trace_roots) that reports the value stack, the registers and the
 * symbol table.  Nothing else is a root, and wscheme never uses WGC_FRAME:
 * an error longjmps out of any C function, and the only thing that needs
 * restoring afterwards is the stack height.
 *
 * So, in C code:
 *   - a value held in a C local must not live across a call that can
 *     allocate (anything taking `interp *` except the pure accessors);
 *     push it and read it back from the stack instead;
 *   - every allocating function roots its own value arguments on entry,
 *     so passing a fresh, unrooted value as an argument is fine;
 *   - push never allocates and the stack never moves, so a `value *`
 *     into the stack stays valid (primitives receive their arguments so).
 */
#ifndef WS_INTERP_H
#define WS_INTERP_H

#include <setjmp.h>
#include <signal.h>
#include <stdio.h>

#include "value.h"

enum special {
    SF_NONE,
    SF_QUOTE,
    SF_IF,
    SF_DEFINE,
    SF_SET,
    SF_LAMBDA,
    SF_BEGIN,
    SF_LET,
    SF_LETSTAR,
    SF_COND,
    SF_AND,
    SF_OR,
    SF_WHEN,
    SF_UNLESS,
    SF_COUNT
};

typedef struct interp {
    wgc_heap *heap;
    size_t max_heap; /* 0: unbounded; only for messages */

    /* The value stack: arguments, continuation records, temporaries. */
    value *stack;
    size_t sp, cap;

    /* Registers of the evaluator (roots, like the stack). */
    value expr, env, val, unev;

    /* Interned symbols: an open-addressing table, a root. */
    value *symtab;
    size_t symcount, symcap;
    value sym_else, sym_dot;

    /* Errors: where to longjmp, and what to say. */
    jmp_buf *handler;
    char errmsg[512];
    const char *filename;
    int line;       /* line of the innermost combination being evaluated */

    /* Reader position (kept here so longjmp loses nothing). */
    const char *src;
    size_t pos, len;
    int rdline;

    bool in_cleanup;     /* a cleanup procedure is running */
    bool cleanup_failed; /* one reported an error and stopped the drain */

    /* Set by a SIGINT handler: the evaluator raises "interrupted" at its
     * next step, which unwinds like any error, leaving the state intact. */
    volatile sig_atomic_t interrupt;
    /* (exit [code]): unwinds like an error, without a report. */
    bool exiting;
    int exit_code;
} interp;

/* --------------------------------------------------------------- stack */

static inline size_t push(interp *I, value v)
{
    extern void ws_stack_overflow(interp *I);
    if (I->sp == I->cap)
        ws_stack_overflow(I);
    I->stack[I->sp] = v;
    return I->sp++;
}
static inline value pop(interp *I) { return I->stack[--I->sp]; }
#define S(i) (I->stack[(i)])

/* ---------------------------------------------------------- interp.c */

bool ws_init(interp *I, size_t max_heap, size_t stack_entries);
void ws_free(interp *I);

/* Reports a Scheme error: formats the message and longjmps to the
 * innermost handler.  Never returns. */
_Noreturn void ws_error(interp *I, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* ws_error with " " and the written form of `v` appended. */
_Noreturn void ws_error_v(interp *I, const char *msg, value v);

/* Runs the safe point: ends the job and drains every queued cleanup,
 * reporting (and surviving) errors raised by cleanup procedures. */
void ws_safe_point(interp *I);
/* Drains queued cleanups without ending the job; returns how many ran. */
size_t ws_run_cleanup(interp *I);
/* Prints the pending error with its location to stderr. */
void ws_report(interp *I, const char *context);

/* ---------------------------------------------------------- object.c */

void *ws_alloc(interp *I, const wgc_type *type, size_t size);

/* A store into a field of a heap object that existed before the last
 * allocation: the assignment, then wgc's write barrier on the object
 * (wgc/heap.h [G6]).  Every such store in the interpreter goes through it;
 * initializing stores into an object just allocated need none. */
#define WS_STORE(I, obj, field, val) WGC_STORE((I)->heap, obj, field, val)
value cons(interp *I, value a, value d);
value cons_line(interp *I, value a, value d, int line);
value intern(interp *I, const char *name, size_t len);
value make_string(interp *I, const char *chars, size_t len);
value make_vector(interp *I, size_t len, value fill);
value make_box(interp *I, value v);
/* The list of S(base) .. S(sp-1) ending in `tail`; pops them. */
value list_from_stack(interp *I, size_t base, value tail);
void ws_trace_roots(wgc_visitor *v, void *user);
const char *kind_name(value v);

extern const wgc_type ws_weakref_type, ws_weakmap_type, ws_registry_type,
    ws_group_type, ws_closure_type, ws_prim_type, ws_frame_type;

/* ---------------------------------------------------------- read.c */

enum read_status { READ_OK, READ_EOF };
void ws_reader_set(interp *I, const char *src, size_t len, int first_line);
/* Reads one datum from the current source into I->val. */
enum read_status ws_read(interp *I);
/* Whether `src` holds only complete data (balanced parentheses, closed
 * strings): the REPL keeps reading lines until it does. */
bool ws_input_complete(const char *src, size_t len);

/* ---------------------------------------------------------- print.c */

void ws_print(FILE *out, value v, bool write);

/* ---------------------------------------------------------- expand.c */

/* Rewrites derived forms (let, let*, cond, when, unless, (define (f ..))
 * ...) into the core ones; returns the expanded form. */
value ws_expand(interp *I, value form);

/* ---------------------------------------------------------- eval.c */

value ws_eval(interp *I, value form, value env);
/* Calls the procedure at S(sp-argc-1) with the argc arguments above it
 * (pops them) and returns its result. */
value ws_apply(interp *I, int argc);
value ws_lookup(interp *I, value sym, value env);

/* ---------------------------------------------------------- prims.c */

void ws_define_prim(interp *I, const char *name, prim_fn fn, int min, int max);
void ws_install_prims(interp *I);
void ws_install_weak_prims(interp *I);
/* Argument checks for primitives. */
intptr_t arg_int(interp *I, const char *who, value v);
void arg_check(interp *I, const char *who, value v, uint32_t kind);

#endif
