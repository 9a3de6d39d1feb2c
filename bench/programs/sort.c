/* sort: sort a pseudo-random array two ways and print checksums of the result.
 *
 * Usage: sort [N]   (default 3000000)
 * Fills an array of N 32-bit keys from a xorshift64* generator, sorts one copy with an in-place
 * quicksort (median of three, insertion sort below 24 elements, recursion on the smaller side) and
 * another with a bottom-up merge sort of 64-bit (key, index) records, checks that both are ordered
 * and agree, and prints position-weighted checksums. Integer compares, branches and memory traffic.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t next_random(void) {
    uint64_t x = rng_state;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static void insertion_sort(uint32_t *a, int n) {
    for (int i = 1; i < n; i++) {
        uint32_t v = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > v) { a[j + 1] = a[j]; j--; }
        a[j + 1] = v;
    }
}

static void swap32(uint32_t *a, uint32_t *b) { uint32_t t = *a; *a = *b; *b = t; }

static void quicksort(uint32_t *a, int n) {
    while (n > 24) {
        int mid = n / 2;
        if (a[mid] < a[0]) swap32(&a[mid], &a[0]);
        if (a[n - 1] < a[0]) swap32(&a[n - 1], &a[0]);
        if (a[n - 1] < a[mid]) swap32(&a[n - 1], &a[mid]);
        uint32_t pivot = a[mid];
        int i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i >= j) break;
            swap32(&a[i], &a[j]);
            i++; j--;
        }
        /* [0, j] <= pivot <= [j+1, n) */
        int left = j + 1, right = n - left;
        if (left < right) { quicksort(a, left); a += left; n = right; }
        else { quicksort(a + left, right); n = left; }
    }
    insertion_sort(a, n);
}

/* records: key in the high 32 bits, original index in the low 32 bits (a stable sort by key).
 * Bottom-up passes alternate between the two buffers; gives the one holding the result. */
static uint64_t *merge_sort(uint64_t *a, uint64_t *tmp, int n) {
    for (int width = 1; width < n; width *= 2) {
        for (int lo = 0; lo < n; lo += 2 * width) {
            int mid = lo + width < n ? lo + width : n;
            int hi = lo + 2 * width < n ? lo + 2 * width : n;
            int i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = (a[j] >> 32) < (a[i] >> 32) ? a[j++] : a[i++];
            while (i < mid) tmp[k++] = a[i++];
            while (j < hi) tmp[k++] = a[j++];
        }
        uint64_t *t = a; a = tmp; tmp = t;
    }
    return a;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 3000000;
    if (n < 1) { fprintf(stderr, "sort: N must be positive\n"); return 2; }
    uint32_t *keys = malloc((size_t)n * sizeof *keys);
    uint64_t *recs = malloc((size_t)n * sizeof *recs);
    uint64_t *tmp = malloc((size_t)n * sizeof *tmp);
    if (!keys || !recs || !tmp) { fprintf(stderr, "sort: out of memory\n"); return 1; }
    for (int i = 0; i < n; i++) {
        keys[i] = (uint32_t)(next_random() >> 32) % (uint32_t)(n * 4u + 1);  /* some duplicates */
        recs[i] = (uint64_t)keys[i] << 32 | (uint32_t)i;
    }
    quicksort(keys, n);
    uint64_t *sorted = merge_sort(recs, tmp, n);

    uint64_t qsum = 0, msum = 0;
    int stable = 1;
    for (int i = 0; i < n; i++) {
        if (i > 0 && keys[i - 1] > keys[i]) { printf("quicksort: out of order at %d\n", i); return 1; }
        if ((uint32_t)(sorted[i] >> 32) != keys[i]) { printf("merge sort disagrees at %d\n", i); return 1; }
        if (i > 0 && sorted[i - 1] >> 32 == sorted[i] >> 32 && (uint32_t)sorted[i - 1] > (uint32_t)sorted[i])
            stable = 0;
        qsum = qsum * 31 + keys[i] * (uint64_t)(i + 1);
        msum ^= (sorted[i] & 0xFFFFFFFFu) * 0x9E3779B97F4A7C15ull + i;
    }
    printf("n=%d min=%u median=%u max=%u\n", n, keys[0], keys[n / 2], keys[n - 1]);
    printf("quicksort checksum %016llx\n", (unsigned long long)qsum);
    printf("merge sort checksum %016llx stable=%d\n", (unsigned long long)msum, stable);
    free(keys); free(recs); free(tmp);
    return 0;
}
