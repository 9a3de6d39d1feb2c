/* pidigits: compute decimal digits of pi with a spigot algorithm and print a digest of them.
 *
 * Usage: pidigits [DIGITS]   (default 16000; rounded up to a multiple of 4)
 * The Rabinowitz-Wagon spigot in the base-10000 form popularised by Dik Winter: a mixed-radix
 * array of 3.5 * DIGITS remainders is multiplied by 10000 and normalised from the tail, giving
 * four digits per sweep; 64-bit multiply, divide and remainder throughout (quadratic in DIGITS).
 * Prints the first and last 40 digits, the count of each decimal digit and a rolling checksum.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    int digits = argc > 1 ? atoi(argv[1]) : 16000;
    if (digits < 4) digits = 4;
    digits = (digits + 3) / 4 * 4;
    uint32_t terms = (uint32_t)digits / 4 * 14;
    uint32_t *rem = malloc(((size_t)terms + 1) * sizeof *rem);
    char *out = malloc((size_t)digits + 5);
    if (!rem || !out) { fprintf(stderr, "pidigits: out of memory\n"); return 1; }
    for (uint32_t i = 0; i < terms; i++) rem[i] = 2000;   /* 10000 / 5 */
    rem[terms] = 0;

    int produced = 0;
    uint64_t carry = 0;
    for (uint32_t c = terms; c > 0; c -= 14) {
        uint64_t d = 0, g = 2 * (uint64_t)c;
        for (uint32_t b = c;;) {
            d += (uint64_t)rem[b] * 10000;
            g--;
            rem[b] = (uint32_t)(d % g);
            d /= g;
            g--;
            if (--b == 0) break;
            d *= b;
        }
        sprintf(out + produced, "%04u", (unsigned)(carry + d / 10000));
        produced += 4;
        carry = d % 10000;
    }

    unsigned counts[10] = {0};
    uint64_t checksum = 0;
    for (int i = 0; i < produced; i++) {
        counts[out[i] - '0']++;
        checksum = (checksum << 5 | checksum >> 59) ^ (uint64_t)(out[i] - '0' + 1) * 0x100000001B3ull;
    }
    printf("%d digits: %.40s...%s\n", produced, out, produced > 40 ? out + produced - 40 : "");
    printf("digit counts:");
    for (int i = 0; i < 10; i++) printf(" %u", counts[i]);
    printf("\nchecksum %016llx\n", (unsigned long long)checksum);
    free(rem); free(out);
    return 0;
}
