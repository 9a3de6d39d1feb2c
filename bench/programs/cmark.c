/* cmark: a CoreMark-like mix of list processing, a state machine, integer matrix work and CRCs.
 *
 * Usage: cmark [ITERATIONS]   (default 4000)
 * Each iteration (seeded by the iteration number and the running CRC) does three kernels and folds
 * their results into a CRC-16/CCITT:
 *   - list: a singly linked list of 512 nodes (taken from a pool, 16-bit data and index) is
 *     searched, partly reversed, merge-sorted by a data key, then re-sorted by index;
 *   - state: a scanner classifies a generated 2 KiB text of comma-separated tokens (integers,
 *     decimals, exponent floats, junk) with a switch-based state machine, counting transitions;
 *   - matrix: 24 x 24 int16 matrices: add a constant, multiply by a constant, matrix-vector and
 *     matrix-matrix products into int32, with bit-field extraction on the results.
 * Prints the per-kernel CRCs and the final one. Written here in the spirit of EEMBC CoreMark; not
 * its code and not its scores.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- CRC-16/CCITT (polynomial 0x1021), bitwise ---- */
static uint16_t crc_byte(uint8_t b, uint16_t crc) {
    crc ^= (uint16_t)b << 8;
    for (int i = 0; i < 8; i++) crc = crc & 0x8000 ? (uint16_t)(crc << 1 ^ 0x1021) : (uint16_t)(crc << 1);
    return crc;
}
static uint16_t crc16(uint16_t v, uint16_t crc) { return crc_byte((uint8_t)v, crc_byte((uint8_t)(v >> 8), crc)); }
static uint16_t crc32v(uint32_t v, uint16_t crc) { return crc16((uint16_t)v, crc16((uint16_t)(v >> 16), crc)); }

/* ---- list kernel ---- */
#define NODES 512
struct node { struct node *next; int16_t data; int16_t idx; };
static struct node pool[NODES];

static struct node *list_build(uint16_t seed) {
    struct node *head = NULL;
    for (int i = NODES - 1; i >= 0; i--) {
        seed = (uint16_t)(seed * 25173u + 13849u);
        pool[i].data = (int16_t)(seed & 0x7fff);
        pool[i].idx = (int16_t)i;
        pool[i].next = head;
        head = &pool[i];
    }
    return head;
}

static int key_data(const struct node *n) { return (n->data & 0xff) << 16 | (uint16_t)n->idx; }
static int key_idx(const struct node *n) { return n->idx; }

/* merge sort of a list (bottom-up, as in the classic linked-list version) */
static struct node *list_sort(struct node *list, int (*key)(const struct node *)) {
    for (int insize = 1;; insize *= 2) {
        struct node *p = list, *tail = NULL;
        list = NULL;
        int merges = 0;
        while (p) {
            merges++;
            struct node *q = p;
            int psize = 0;
            for (int i = 0; i < insize && q; i++) { psize++; q = q->next; }
            int qsize = insize;
            while (psize > 0 || (qsize > 0 && q)) {
                struct node *e;
                if (psize == 0) { e = q; q = q->next; qsize--; }
                else if (qsize == 0 || !q) { e = p; p = p->next; psize--; }
                else if (key(p) <= key(q)) { e = p; p = p->next; psize--; }
                else { e = q; q = q->next; qsize--; }
                if (tail) tail->next = e; else list = e;
                tail = e;
            }
            p = q;
        }
        tail->next = NULL;
        if (merges <= 1) return list;
    }
}

static struct node *list_reverse(struct node *list) {
    struct node *prev = NULL;
    while (list) { struct node *next = list->next; list->next = prev; prev = list; list = next; }
    return prev;
}

static uint16_t list_kernel(uint16_t seed, uint16_t crc) {
    struct node *list = list_build(seed);
    /* find some values; count hits and misses and where they were found */
    for (int f = 0; f < 16; f++) {
        int16_t want = (int16_t)((seed + f * 977) & 0xff);
        int pos = 0;
        struct node *n = list;
        while (n && (n->data & 0xff) != want) { n = n->next; pos++; }
        crc = crc16((uint16_t)(n ? pos : 0xffff), crc);
        if (n && n->next) {  /* reverse the tail after the hit, then put it back */
            n->next = list_reverse(n->next);
            crc = crc16((uint16_t)n->next->data, crc);
            n->next = list_reverse(n->next);
        }
    }
    list = list_sort(list, key_data);
    for (struct node *n = list; n; n = n->next) crc = crc16((uint16_t)n->idx, crc);
    list = list_sort(list, key_idx);
    int i = 0;
    for (struct node *n = list; n; n = n->next, i++)
        if (n->idx != i) { printf("list: wrong order at %d\n", i); exit(1); }
    return crc;
}

/* ---- state machine kernel ---- */
enum state { START, INT, S1, FLOAT, EXP, S2, SCI, BAD, NSTATES };

static void text_build(char *buf, int size, uint32_t seed) {
    static const char *tokens[] = {"5012", "1234", "-874", "+122", "35.54400", ".1234500", "-110.700",
                                   "+0.64400", "5.500e+3", "-.123e-2", "-87e+832", "+0.6e-12",
                                   "T0.3e-1F", "-T.T++Tq", "1T3.4e4z", "34.0e-T^"};
    int pos = 0;
    while (pos + 10 < size) {
        seed = seed * 1664525u + 1013904223u;
        const char *t = tokens[seed >> 28];
        size_t len = strlen(t);
        memcpy(buf + pos, t, len);
        pos += (int)len;
        buf[pos++] = ',';
    }
    buf[pos] = 0;
}

static enum state step(enum state s, char c) {
    int digit = c >= '0' && c <= '9', sign = c == '+' || c == '-';
    switch (s) {
    case START: return digit ? INT : sign ? S1 : c == '.' ? FLOAT : BAD;
    case S1: return digit ? INT : c == '.' ? FLOAT : BAD;
    case INT: return digit ? INT : c == '.' ? FLOAT : BAD;
    case FLOAT: return digit ? FLOAT : (c == 'e' || c == 'E') ? EXP : BAD;
    case EXP: return sign ? S2 : digit ? SCI : BAD;
    case S2: return digit ? SCI : BAD;
    case SCI: return digit ? SCI : BAD;
    default: return BAD;
    }
}

/* flip a bit of every 7th byte that is not a separator (as CoreMark corrupts its input); applying
 * it twice restores the text ('-' and '.' become control characters, 'e' becomes 'E') */
static void corrupt(char *text, size_t len) {
    for (size_t i = 0; i < len; i += 7) if (text[i] != ',') text[i] ^= 0x20;
}

static uint16_t state_kernel(char *text, uint16_t crc) {
    unsigned finals[NSTATES] = {0}, transitions[NSTATES] = {0};
    size_t len = strlen(text);
    for (int pass = 0; pass < 2; pass++) {
        const char *p = text;
        while (*p) {
            enum state s = START;
            for (; *p && *p != ','; p++) {
                enum state t = step(s, *p);
                if (t != s) transitions[t]++;
                s = t;
            }
            finals[s]++;
            if (*p) p++;
        }
        corrupt(text, len);  /* the second pass scans the corrupted text; this undoes it */
    }
    for (int i = 0; i < NSTATES; i++) { crc = crc16((uint16_t)finals[i], crc); crc = crc16((uint16_t)transitions[i], crc); }
    return crc;
}

/* ---- matrix kernel ---- */
#define MN 24
static int16_t ma[MN][MN], mb[MN][MN];
static int32_t mc[MN][MN];

static uint16_t sum_bits(uint16_t crc) {
    int32_t tmp = 0, prev = 0;
    int16_t ret = 0;
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) {
            tmp += mc[i][j];
            if (tmp > 4000000) { ret += 10; tmp = 0; } else ret += tmp > prev ? 1 : 0;
            prev = mc[i][j];
        }
    return crc16((uint16_t)ret, crc);
}

static uint16_t matrix_kernel(uint16_t seed, uint16_t crc) {
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) {
            seed = (uint16_t)((seed * 33u) ^ (seed >> 3) ^ (uint16_t)(i * 7 + j));
            ma[i][j] = (int16_t)(seed % 1024 - 512);
            mb[i][j] = (int16_t)((seed >> 5) % 512 - 256);
        }
    int16_t val = (int16_t)((seed & 0xff) | 1);
    for (int i = 0; i < MN; i++) for (int j = 0; j < MN; j++) ma[i][j] = (int16_t)(ma[i][j] + val);
    for (int i = 0; i < MN; i++) for (int j = 0; j < MN; j++) mc[i][j] = (int32_t)ma[i][j] * val;
    crc = sum_bits(crc);
    for (int i = 0; i < MN; i++) {           /* matrix times vector (row 0 of mb) */
        int32_t acc = 0;
        for (int j = 0; j < MN; j++) acc += (int32_t)ma[i][j] * mb[0][j];
        mc[i][0] = acc;
    }
    crc = sum_bits(crc);
    for (int i = 0; i < MN; i++)              /* matrix times matrix */
        for (int j = 0; j < MN; j++) {
            int32_t acc = 0;
            for (int k = 0; k < MN; k++) acc += (int32_t)ma[i][k] * mb[k][j];
            mc[i][j] = acc;
        }
    crc = sum_bits(crc);
    for (int i = 0; i < MN; i++)              /* matrix times matrix, bit fields of the products */
        for (int j = 0; j < MN; j++) {
            int32_t acc = 0;
            for (int k = 0; k < MN; k++) {
                int32_t prod = (int32_t)ma[i][k] * mb[k][j];
                acc += ((prod >> 2) & 0xf) * ((prod >> 5) & 0x7f);
            }
            mc[i][j] = acc;
        }
    crc = sum_bits(crc);
    for (int i = 0; i < MN; i++) for (int j = 0; j < MN; j++) ma[i][j] = (int16_t)(ma[i][j] - val);
    return crc32v((uint32_t)mc[MN / 2][MN / 3], crc);
}

int main(int argc, char **argv) {
    int iterations = argc > 1 ? atoi(argv[1]) : 4000;
    static char text[2048];
    uint16_t crc = 0, crc_list = 0, crc_state = 0, crc_matrix = 0;
    for (int it = 0; it < iterations; it++) {
        uint16_t seed = (uint16_t)(it * 0x3d ^ crc);
        text_build(text, sizeof text, seed);
        crc_list = list_kernel(seed, crc_list);
        crc_state = state_kernel(text, crc_state);
        crc_matrix = matrix_kernel(seed, crc_matrix);
        crc = crc16(crc_list, crc);
        crc = crc16(crc_state, crc);
        crc = crc16(crc_matrix, crc);
    }
    printf("iterations=%d\n", iterations);
    printf("crc list %04x state %04x matrix %04x\n", crc_list, crc_state, crc_matrix);
    printf("final crc %04x\n", crc);
    return 0;
}
