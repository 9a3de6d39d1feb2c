/* wordfreq: count the words of a text file and write the most frequent ones to a report file.
 *
 * Usage: wordfreq INPUT REPORT [TOP]
 * Reads INPUT, counts words (letters and apostrophes, case-folded) in a hash table, writes the TOP
 * (default 10) most frequent words with their counts to REPORT, and prints a summary to stdout.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry { char *word; unsigned count; struct entry *next; };

#define BUCKETS 4096
static struct entry *table[BUCKETS];
static unsigned distinct;

static unsigned hash(const char *s) {
    unsigned h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void add(const char *word) {
    unsigned b = hash(word) % BUCKETS;
    for (struct entry *e = table[b]; e; e = e->next)
        if (strcmp(e->word, word) == 0) { e->count++; return; }
    struct entry *e = malloc(sizeof *e);
    e->word = strdup(word);
    e->count = 1;
    e->next = table[b];
    table[b] = e;
    distinct++;
}

static int by_count(const void *a, const void *b) {
    const struct entry *x = *(const struct entry *const *)a, *y = *(const struct entry *const *)b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->word, y->word);
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: wordfreq INPUT REPORT [TOP]\n"); return 2; }
    int top = argc > 3 ? atoi(argv[3]) : 10;
    FILE *in = fopen(argv[1], "r");
    if (!in) { perror(argv[1]); return 1; }
    char word[64];
    int len = 0, c;
    unsigned long words = 0, bytes = 0;
    while ((c = fgetc(in)) != EOF) {
        bytes++;
        if (isalpha(c) || (c == '\'' && len > 0)) {
            if (len < (int)sizeof word - 1) word[len++] = (char)tolower(c);
        } else if (len) {
            word[len] = 0; add(word); words++; len = 0;
        }
    }
    if (len) { word[len] = 0; add(word); words++; }
    fclose(in);

    struct entry **all = malloc(distinct * sizeof *all);
    unsigned n = 0;
    for (int b = 0; b < BUCKETS; b++)
        for (struct entry *e = table[b]; e; e = e->next) all[n++] = e;
    qsort(all, n, sizeof *all, by_count);

    FILE *out = fopen(argv[2], "w");
    if (!out) { perror(argv[2]); return 1; }
    for (int i = 0; i < top && i < (int)n; i++) fprintf(out, "%6u %s\n", all[i]->count, all[i]->word);
    fclose(out);
    printf("%lu bytes, %lu words, %u distinct; top %d written to %s\n", bytes, words, distinct, top, argv[2]);
    return 0;
}
