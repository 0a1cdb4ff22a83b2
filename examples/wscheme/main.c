/*
 * main.c -- wscheme's command line: a REPL, or a script with `wscheme FILE`.
 *
 * Each top-level form is one job: after it the interpreter reaches its
 * safe point (ws_safe_point), where kept objects are released and queued
 * cleanup procedures run.  An error unwinds to here by longjmp; resetting
 * the value stack is all the repair the heap needs.  Ctrl-C sets a flag
 * the evaluator turns into an "interrupted" error at its next step, so it
 * unwinds the same way and the REPL's state survives.
 *
 * On a terminal the REPL edits lines and keeps a history with libedit
 * (BSD-licensed, Debian's libedit-dev), when the build found it.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if WS_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

#include "interp.h"

/* The interpreter Ctrl-C interrupts: a signal handler can reach no other. */
static interp *interrupt_target;

static void on_sigint(int sig)
{
    (void)sig;
    if (interrupt_target)
        interrupt_target->interrupt = 1;
}

/* SIGINT without SA_RESTART: a blocking read returns EINTR, so Ctrl-C at
 * the prompt abandons the line being typed. */
static void catch_interrupts(interp *I)
{
    interrupt_target = I;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

static void reset(interp *I)
{
    I->sp = 0;
    I->expr = I->env = I->val = I->unev = NIL;
}

/* Runs every form in src; in the REPL, prints their values.  Returns false
 * at the first error (the rest of src is skipped). */
static bool run_forms(interp *I, const char *src, size_t len, int first_line, bool repl)
{
    jmp_buf here;
    ws_reader_set(I, src, len, first_line);
    I->handler = &here;
    if (setjmp(here)) {
        if (!I->exiting)
            ws_report(I, "error: ");
        reset(I);
        ws_safe_point(I);
        I->handler = NULL;
        return false;
    }
    while (ws_read(I) == READ_OK) {
        value v = ws_eval(I, ws_expand(I, I->val), NIL);
        if (repl && v != UNSPEC) {
            ws_print(stdout, v, true);
            putchar('\n');
        }
        reset(I);
        ws_safe_point(I);
    }
    fflush(stdout);
    I->handler = NULL;
    return true;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf;
}

static int run_file(interp *I, const char *path)
{
    size_t len;
    char *src = slurp(path, &len);
    if (!src) {
        fprintf(stderr, "wscheme: cannot read %s: %s\n", path, strerror(errno));
        return 2;
    }
    I->filename = path;
    bool ok = run_forms(I, src, len, 1, false);
    free(src);
    return I->exiting ? I->exit_code : ok ? 0 : 1;
}

/* One line of input with its newline, in *line (malloc'd, *cap bytes):
 * its length, 0 when Ctrl-C abandoned it, -1 at the end of input. */
static ssize_t read_line(bool tty, const char *prompt, char **line, size_t *cap)
{
#if WS_HAVE_LIBEDIT
    if (tty) {
        char *got = readline(prompt);
        if (!got)
            return interrupt_target->interrupt ? 0 : -1;
        if (*got)
            add_history(got);
        size_t n = strlen(got);
        if (n + 2 > *cap) {
            char *nl = realloc(*line, n + 2);
            if (!nl) {
                free(got);
                return -1;
            }
            *line = nl;
            *cap = n + 2;
        }
        memcpy(*line, got, n);
        (*line)[n] = '\n';
        (*line)[n + 1] = '\0';
        free(got);
        return (ssize_t)n + 1;
    }
#endif
    if (tty) {
        fputs(prompt, stdout);
        fflush(stdout);
    }
    errno = 0;
    ssize_t got = getline(line, cap, stdin);
    if (got < 0 && errno == EINTR) {
        clearerr(stdin);
        return 0;
    }
    return got;
}

static int repl(interp *I)
{
    bool tty = isatty(STDIN_FILENO);
    char *input = NULL, *line = NULL;
    size_t len = 0, cap = 0, linecap = 0;
    int first_line = 1;
    I->filename = "repl";
    if (tty)
        printf("wscheme on wgc: type (help) for help, (exit) or Ctrl-D to leave.\n");
    for (;;) {
        ssize_t got = read_line(tty, len ? "... " : "> ", &line, &linecap);
        if (got == 0 || I->interrupt) {
            /* Ctrl-C at the prompt: drop the unfinished input.  A Ctrl-C
             * that lands just before libedit starts reading does not stop
             * the read: the line it returns then is dropped with the rest. */
            I->interrupt = 0;
            if (tty)
                putchar('\n');
            len = 0;
            continue;
        }
        if (got < 0 && len == 0)
            break;
        if (got > 0) {
            if (len + (size_t)got + 1 > cap) {
                cap = 2 * (len + (size_t)got + 1);
                char *ni = realloc(input, cap);
                if (!ni)
                    break;
                input = ni;
            }
            memcpy(input + len, line, (size_t)got);
            len += (size_t)got;
            if (!ws_input_complete(input, len))
                continue; /* an open list or string: read on */
        }
        run_forms(I, input, len, first_line, true);
        for (size_t i = 0; i < len; i++)
            first_line += input[i] == '\n';
        len = 0;
        if (got < 0 || I->exiting)
            break;
    }
    if (tty && !I->exiting)
        putchar('\n');
    free(input);
    free(line);
    return I->exiting ? I->exit_code : 0;
}

static bool parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    unsigned long long mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1ull << 10; end++; break;
    case 'm': case 'M': mul = 1ull << 20; end++; break;
    case 'g': case 'G': mul = 1ull << 30; end++; break;
    default: break;
    }
    if (errno || end == s || *end || n > SIZE_MAX / mul)
        return false;
    *out = (size_t)(n * mul);
    return true;
}

static void usage(FILE *out)
{
    fputs("usage: wscheme [--max-heap=BYTES[K|M|G]] [--stack=SLOTS] [FILE | -]\n"
          "  With FILE, runs it and stops at the first error; without, starts a REPL.\n"
          "  Ctrl-C interrupts the running form; (exit [code]) leaves.\n"
          "  WGC_STRESS=N in the environment collects at every N-th allocation.\n",
          out);
}

int main(int argc, char **argv)
{
    size_t max_heap = 0, stack = (size_t)8 << 20;
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--max-heap=", 11) == 0 && parse_size(a + 11, &max_heap))
            continue;
        if (strncmp(a, "--stack=", 8) == 0 && parse_size(a + 8, &stack) && stack >= 1024)
            continue;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if ((a[0] != '-' || strcmp(a, "-") == 0) && !file) {
            file = a;
            continue;
        }
        usage(stderr);
        return 2;
    }
    interp I;
    if (!ws_init(&I, max_heap, stack))
        return 2;
    catch_interrupts(&I);
    int rc = file ? run_file(&I, file) : repl(&I);
    interrupt_target = NULL;
    ws_free(&I);
    return rc;
}
