/* sieve: count and sum the primes up to N with a bit-packed sieve of Eratosthenes.
 *
 * Usage: sieve [N]   (default 200000000)
 * Odd numbers only, one bit each (bit k stands for 2k+1), in 64-bit words; each prime p <= sqrt(N)
 * crosses out p*p, p*p+2p, ... Then the primes are counted with a population count written out
 * by hand (no builtin), summed, and the gaps between consecutive primes histogrammed. Prints the
 * count, the sum, the largest prime, the largest gap and where it starts. Shifts, masks and
 * scattered read-modify-write of memory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned popcount64(uint64_t x) {
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

int main(int argc, char **argv) {
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 200000000u;
    if (n < 2) { printf("primes up to %u: 0\n", n); return 0; }
    uint32_t bits = (n - 1) / 2 + 1;               /* 1, 3, 5, ..., the largest odd <= n */
    uint32_t words = (bits + 63) / 64;
    uint64_t *composite = calloc(words, sizeof *composite);
    if (!composite) { fprintf(stderr, "sieve: out of memory\n"); return 1; }
    composite[0] |= 1;                              /* 1 is not prime */
    for (uint32_t k = 1;; k++) {
        uint64_t p = 2 * (uint64_t)k + 1;
        if (p * p > n) break;
        if (composite[k >> 6] >> (k & 63) & 1) continue;
        for (uint64_t m = p * p; m <= n; m += 2 * p) {
            uint32_t b = (uint32_t)(m >> 1);
            composite[b >> 6] |= 1ull << (b & 63);
        }
    }
    /* the bits past the end of the range count as composite */
    if (bits % 64) composite[words - 1] |= ~0ull << (bits % 64);

    uint64_t count = 1, sum = 2;                    /* 2 */
    for (uint32_t w = 0; w < words; w++) count += 64 - popcount64(composite[w]);

    uint32_t gaps[512] = {0}, prev = 2, largest_gap = 0, gap_at = 0;
    for (uint32_t w = 0; w < words; w++) {
        uint64_t primes = ~composite[w];
        while (primes) {
            unsigned bit = 0;                      /* lowest set bit, without builtins */
            uint64_t low = primes & (~primes + 1);
            if (low >> 32) { bit += 32; low >>= 32; }
            if (low >> 16) { bit += 16; low >>= 16; }
            if (low >> 8) { bit += 8; low >>= 8; }
            if (low >> 4) { bit += 4; low >>= 4; }
            if (low >> 2) { bit += 2; low >>= 2; }
            if (low >> 1) bit += 1;
            primes &= primes - 1;
            uint32_t p = 2 * (w * 64 + bit) + 1;
            sum += p;
            uint32_t gap = p - prev;
            if (gap < 512) gaps[gap]++;
            if (gap > largest_gap) { largest_gap = gap; gap_at = prev; }
            prev = p;
        }
    }
    uint64_t histogram = 0;
    for (int g = 0; g < 512; g++) histogram = histogram * 1000003u + gaps[g];
    printf("primes up to %u: %llu\n", n, (unsigned long long)count);
    printf("sum %llu, largest %u\n", (unsigned long long)sum, prev);
    printf("largest gap %u after %u; twin primes %u; gap histogram %016llx\n", largest_gap, gap_at, gaps[2],
           (unsigned long long)histogram);
    free(composite);
    return 0;
}
