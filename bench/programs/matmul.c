/* matmul: multiply dense double-precision matrices and print checksums of the product.
 *
 * Usage: matmul [N]   (default 400)
 * Builds N x N matrices A and B from an integer generator (entries are small multiples of 1/64,
 * so they are exact in binary), computes C = A * B with a cache-friendly i-k-j loop nest, then
 * D = C * A with a blocked (tiled) loop nest, and prints the trace of C, a position-weighted sum
 * of D and one element of each. Every sum is formed in a fixed order, so the output is exact and
 * reproducible. Double-precision multiply-add throughput and streaming loads/stores.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t seed = 2463534242u;

static double next_entry(void) {
    seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5;   /* xorshift32 */
    return ((int)(seed % 257) - 128) / 64.0;
}

static void mul_ikj(const double *a, const double *b, double *c, int n) {
    memset(c, 0, (size_t)n * n * sizeof *c);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++) {
            double aik = a[(size_t)i * n + k];
            const double *brow = b + (size_t)k * n;
            double *crow = c + (size_t)i * n;
            for (int j = 0; j < n; j++) crow[j] += aik * brow[j];
        }
}

#define TILE 48
static void mul_tiled(const double *a, const double *b, double *c, int n) {
    memset(c, 0, (size_t)n * n * sizeof *c);
    for (int kk = 0; kk < n; kk += TILE)
        for (int jj = 0; jj < n; jj += TILE)
            for (int i = 0; i < n; i++) {
                int kend = kk + TILE < n ? kk + TILE : n, jend = jj + TILE < n ? jj + TILE : n;
                for (int k = kk; k < kend; k++) {
                    double aik = a[(size_t)i * n + k];
                    for (int j = jj; j < jend; j++) c[(size_t)i * n + j] += aik * b[(size_t)k * n + j];
                }
            }
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 400;
    if (n < 1) { fprintf(stderr, "matmul: N must be positive\n"); return 2; }
    size_t cells = (size_t)n * n;
    double *a = malloc(cells * sizeof *a), *b = malloc(cells * sizeof *b);
    double *c = malloc(cells * sizeof *c), *d = malloc(cells * sizeof *d);
    if (!a || !b || !c || !d) { fprintf(stderr, "matmul: out of memory\n"); return 1; }
    for (size_t i = 0; i < cells; i++) a[i] = next_entry();
    for (size_t i = 0; i < cells; i++) b[i] = next_entry();

    mul_ikj(a, b, c, n);
    mul_tiled(c, a, d, n);

    double trace = 0, weighted = 0;
    for (int i = 0; i < n; i++) trace += c[(size_t)i * n + i];
    for (size_t i = 0; i < cells; i++) weighted += d[i] * (double)(i % 1000 + 1);
    printf("n=%d trace(C)=%.17g\n", n, trace);
    printf("weighted sum(D)=%.17g\n", weighted);
    printf("C[n/2][n/3]=%.17g D[n-1][0]=%.17g\n", c[(size_t)(n / 2) * n + n / 3], d[(size_t)(n - 1) * n]);
    free(a); free(b); free(c); free(d);
    return 0;
}
