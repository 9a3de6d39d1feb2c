/* hash: SHA-256 and a 64-bit multiply-rotate hash over generated data; prints the digests.
 *
 * Usage: hash [MB]   (default 96)
 * Checks SHA-256 against the FIPS 180-2 test vectors ("abc" and the 448-bit message), then builds a
 * 1 MiB buffer from a linear congruential generator and hashes it MB times in a chain: round i
 * stamps the previous digest into the buffer's first 32 bytes and hashes the whole buffer with
 * SHA-256 (32-bit rotates, shifts, adds) and with a four-lane 64-bit hash in the style of xxHash64
 * (64-bit multiplies and rotates; its own constants). Prints the final digests of both.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- SHA-256 (FIPS 180-4) ---- */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

struct sha256 { uint32_t h[8]; uint8_t buf[64]; uint64_t length; unsigned used; };

static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void sha256_block(uint32_t h[8], const uint8_t *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static void sha256_init(struct sha256 *s) {
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->length = 0;
    s->used = 0;
}

static void sha256_update(struct sha256 *s, const uint8_t *p, size_t n) {
    s->length += n;
    if (s->used) {
        while (n && s->used < 64) { s->buf[s->used++] = *p++; n--; }
        if (s->used < 64) return;
        sha256_block(s->h, s->buf);
        s->used = 0;
    }
    for (; n >= 64; p += 64, n -= 64) sha256_block(s->h, p);
    memcpy(s->buf, p, n);
    s->used = (unsigned)n;
}

static void sha256_final(struct sha256 *s, uint8_t out[32]) {
    uint64_t bits = s->length * 8;
    uint8_t pad[72] = {0x80};
    size_t padlen = (s->used < 56 ? 56 : 120) - s->used;
    for (int i = 0; i < 8; i++) pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(s, pad, padlen + 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(s->h[i] >> 24); out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(s->h[i] >> 8); out[4 * i + 3] = (uint8_t)s->h[i];
    }
}

static void hex(const uint8_t *d, int n, char *out) {
    for (int i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static int check_vector(const char *msg, const char *expected) {
    struct sha256 s;
    uint8_t d[32];
    char text[65];
    sha256_init(&s);
    sha256_update(&s, (const uint8_t *)msg, strlen(msg));
    sha256_final(&s, d);
    hex(d, 32, text);
    if (strcmp(text, expected) != 0) { printf("sha256 self-test FAILED for \"%s\": %s\n", msg, text); return 0; }
    return 1;
}

/* ---- a 64-bit four-lane hash (xxHash64-like structure, its own odd constants) ---- */
#define M1 0x9E3779B185EBCA87ull
#define M2 0xC2B2AE3D27D4EB4Full
#define M3 0x165667B19E3779F9ull

static uint64_t rotl64(uint64_t x, int n) { return (x << n) | (x >> (64 - n)); }
static uint64_t load64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static uint64_t lane(uint64_t acc, uint64_t v) { return rotl64(acc + v * M2, 31) * M1; }

static uint64_t hash64(const uint8_t *p, size_t n, uint64_t seed) {
    uint64_t a = seed + M1 + M2, b = seed + M2, c = seed, d = seed - M1;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a = lane(a, load64(p + i)); b = lane(b, load64(p + i + 8));
        c = lane(c, load64(p + i + 16)); d = lane(d, load64(p + i + 24));
    }
    uint64_t h = rotl64(a, 1) + rotl64(b, 7) + rotl64(c, 12) + rotl64(d, 18) + n;
    for (; i < n; i++) h = rotl64(h ^ (p[i] * M3), 11) * M1;
    h ^= h >> 33; h *= M2; h ^= h >> 29; h *= M3; h ^= h >> 32;
    return h;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 96;
    if (!check_vector("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") ||
        !check_vector("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"))
        return 1;
    printf("sha256 self-test ok\n");

    enum { SIZE = 1 << 20 };
    uint8_t *data = malloc(SIZE);
    if (!data) { fprintf(stderr, "hash: out of memory\n"); return 1; }
    uint32_t x = 12345;
    for (int i = 0; i < SIZE; i++) { x = x * 1103515245u + 12345u; data[i] = (uint8_t)(x >> 16); }

    uint8_t digest[32] = {0};
    uint64_t h64 = 0;
    for (int r = 0; r < rounds; r++) {
        memcpy(data, digest, 32);
        memcpy(data + 32, &h64, 8);
        struct sha256 s;
        sha256_init(&s);
        sha256_update(&s, data, 1000);            /* uneven pieces exercise the buffering */
        sha256_update(&s, data + 1000, SIZE - 1000 - 7 * r % 64);
        sha256_final(&s, digest);
        h64 = hash64(data, SIZE - r % 31, h64);
    }
    char text[65];
    hex(digest, 32, text);
    printf("rounds=%d sha256 %s\n", rounds, text);
    printf("rounds=%d hash64 %016llx\n", rounds, (unsigned long long)h64);
    free(data);
    return 0;
}
