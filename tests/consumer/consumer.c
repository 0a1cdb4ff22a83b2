/*
 * tests/consumer/consumer.c -- a program built against an installed wgc
 * (pkg-config, CMake) or wgc as a meson subproject, by tests/consumer/run.
 * It allocates through the inline path, collects, and checks that the
 * library it runs with is the one its headers describe.
 */
#include <stdio.h>
#include <string.h>
#include <wgc.h>

struct node {
    struct node *next;
    long value;
};

static const wgc_type node_type = {.name = "node", .pointer_words = WGC_WORD(struct node, next)};

int main(void)
{
    if (strcmp(wgc_version(), WGC_VERSION_STRING) != 0 ||
        wgc_version_number() != WGC_VERSION_NUMBER) {
        fprintf(stderr, "consumer: library %s, headers %s\n", wgc_version(), WGC_VERSION_STRING);
        return 1;
    }
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    wgc_heap *heap = wgc_heap_new(&cfg);
    if (!heap)
        return 1;
    struct node *list = NULL;
    WGC_FRAME(heap, &list);
    for (long i = 0; i < 10000; i++) {
        struct node *n = wgc_alloc(heap, &node_type, sizeof *n);
        if (!n)
            return 1;
        n->value = i;
        n->next = list;
        list = n;
    }
    struct node *half = list;
    for (int i = 0; i < 5000; i++)
        half = half->next;
    half->next = NULL; /* the older half is now garbage */
    wgc_collect(heap);
    wgc_heap_stats stats;
    wgc_stats(heap, &stats);
    long sum = 0;
    for (struct node *n = list; n; n = n->next)
        sum += n->value;
    WGC_FRAME_POP(heap);
    wgc_heap_free(heap);
    /* 5001 nodes of 16 bytes survive, each in a 32-byte cell */
    if (sum != (9999L + 4999L) * 5001L / 2 || stats.live_bytes == 0 ||
        stats.live_bytes > 5001 * 32) {
        fprintf(stderr, "consumer: sum %ld, live bytes %zu\n", sum, stats.live_bytes);
        return 1;
    }
    printf("consumer ok: wgc %s, %zu live bytes\n", wgc_version(), stats.live_bytes);
    return 0;
}
