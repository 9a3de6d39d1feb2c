// atomics: C11 atomics on 8-, 16-, 32- and 64-bit values, compiled to Wasm atomic instructions
// (see build.sh), exercised single-threaded by small lock-free structures whose results are
// checked: counters that wrap, a bitset allocator, a single-producer/single-consumer ring buffer,
// a tagged (ABA-safe) free-list stack, a spin lock, checksums and fetch-max/min loops. Each line of output is a result;
// the last one says whether every self-check held. The expected output is in expected.toml (as
// wasmtime prints it).
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <inttypes.h>

static int failures;
#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            printf("check failed line %d: %s\n", __LINE__, #cond);               \
            failures++;                                                          \
        }                                                                        \
    } while (0)

// A deterministic stream of inputs (so the optimizer cannot precompute the results).
static uint64_t seed = 0x9e3779b97f4a7c15u;
static __attribute__((noinline)) uint64_t next(void) {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

// ---- 1. counters of every width: fetch_add/fetch_sub return the old value and wrap ----
static _Atomic uint8_t c8;
static _Atomic int8_t s8;
static _Atomic uint16_t c16;
static _Atomic int16_t s16;
static _Atomic uint32_t c32;
static _Atomic int32_t s32;
static _Atomic uint64_t c64;
static _Atomic int64_t s64;

static __attribute__((noinline)) void counters(void) {
    uint64_t old_sum = 0;
    for (int i = 0; i < 1000; i++) {
        unsigned d = (unsigned)(next() % 200);
        old_sum += atomic_fetch_add(&c8, (uint8_t)d);
        old_sum += (uint64_t)(int64_t)atomic_fetch_sub(&s8, (int8_t)d);     // negative olds
        old_sum += atomic_fetch_add_explicit(&c16, (uint16_t)(d * 331), memory_order_relaxed);
        old_sum += (uint64_t)(int64_t)atomic_fetch_sub_explicit(&s16, (int16_t)(d * 97), memory_order_acq_rel);
        old_sum += atomic_fetch_add(&c32, d * 12345679u);
        old_sum += (uint64_t)(int64_t)atomic_fetch_sub(&s32, (int32_t)d * 7654321);
        old_sum += atomic_fetch_add(&c64, (uint64_t)d << 40);
        old_sum += (uint64_t)atomic_fetch_sub(&s64, (int64_t)d * 1000000007);
    }
    printf("counters: u8 %u s8 %d u16 %u s16 %d\n", atomic_load(&c8), atomic_load(&s8),
           atomic_load(&c16), atomic_load(&s16));
    printf("counters: u32 %" PRIu32 " s32 %" PRId32 " u64 %" PRIu64 " s64 %" PRId64 "\n",
           atomic_load(&c32), atomic_load(&s32), atomic_load(&c64), atomic_load(&s64));
    printf("counters: sum of old values %" PRIu64 "\n", old_sum);
    // the counters agree: c64 has nothing in its low bits, s8 is -c8, c16 is 331 times the total of c8
    CHECK((uint8_t)atomic_load(&c64 /* d << 40: nothing in the low bits */) == 0);
    CHECK(atomic_load(&s8) == (int8_t)-(int8_t)(uint8_t)atomic_load(&c8));
    CHECK((uint8_t)(atomic_load(&c16) * 0x8063u /* 331^-1 mod 2^16 */) == atomic_load(&c8));
}

// ---- 2. a bitset allocator: fetch_or claims a bit, fetch_and frees it, CAS finds a free word ----
#define WORDS 4
static _Atomic uint64_t bits[WORDS];
static _Atomic uint32_t allocated;

static __attribute__((noinline)) int alloc_slot(void) {
    for (int w = 0; w < WORDS; w++) {
        uint64_t cur = atomic_load_explicit(&bits[w], memory_order_acquire);
        while (cur != UINT64_MAX) {
            int b = __builtin_ctzll(~cur);
            uint64_t want = cur | (1ull << b);
            if (atomic_compare_exchange_weak_explicit(&bits[w], &cur, want, memory_order_acq_rel,
                                                      memory_order_acquire)) {
                atomic_fetch_add(&allocated, 1);
                return w * 64 + b;
            }
            // cur now holds the value seen: try again with it
        }
    }
    return -1;
}
static __attribute__((noinline)) void free_slot(int slot) {
    uint64_t old = atomic_fetch_and(&bits[slot / 64], ~(1ull << (slot % 64)));
    CHECK(old & (1ull << (slot % 64)));
    atomic_fetch_sub(&allocated, 1);
}
static __attribute__((noinline)) void bitset(void) {
    int first = alloc_slot(), total = 1;
    while (alloc_slot() >= 0) total++;
    CHECK(first == 0 && total == WORDS * 64);
    for (int s = 0; s < WORDS * 64; s += 3) free_slot(s);          // every third slot
    int again = alloc_slot();
    uint64_t marked = atomic_fetch_or(&bits[1], 0);                  // a read through fetch_or
    uint64_t flipped = atomic_fetch_xor(&bits[2], 0xffffull);        // toggle 16 bits
    printf("bitset: %d slots, %" PRIu32 " in use after frees, reallocated %d\n", total,
           atomic_load(&allocated), again);
    printf("bitset: word1 %016" PRIx64 " word2 %016" PRIx64 " -> %016" PRIx64 "\n", marked, flipped,
           atomic_load(&bits[2]));
    CHECK(again == 0);
}

// ---- 3. a single-producer/single-consumer ring of 16-bit items with atomic indexes ----
#define RING 64
static uint16_t ring[RING];
static _Atomic uint32_t head, tail;         // free-running; the ring index is the low bits

static __attribute__((noinline)) int push(uint16_t v) {
    uint32_t t = atomic_load_explicit(&tail, memory_order_relaxed);
    if (t - atomic_load_explicit(&head, memory_order_acquire) == RING) return 0;
    ring[t % RING] = v;
    atomic_store_explicit(&tail, t + 1, memory_order_release);
    return 1;
}
static __attribute__((noinline)) int pop(uint16_t *v) {
    uint32_t h = atomic_load_explicit(&head, memory_order_relaxed);
    if (h == atomic_load_explicit(&tail, memory_order_acquire)) return 0;
    *v = ring[h % RING];
    atomic_store_explicit(&head, h + 1, memory_order_release);
    return 1;
}
static __attribute__((noinline)) void ring_buffer(void) {
    uint32_t pushed = 0, popped = 0, full = 0;
    uint64_t in_sum = 0, out_sum = 0;
    static _Atomic uint16_t check16;
    static _Atomic uint8_t check8;
    for (int round = 0; round < 500; round++) {
        int n = (int)(next() % 80);
        for (int i = 0; i < n; i++) {
            uint16_t v = (uint16_t)next();
            if (push(v)) { pushed++; in_sum += v; } else full++;
        }
        int m = (int)(next() % 70);
        uint16_t v;
        for (int i = 0; i < m && pop(&v); i++) {
            popped++;
            out_sum += v;
            atomic_fetch_xor(&check16, v);
            atomic_fetch_xor_explicit(&check8, (uint8_t)(v >> 3), memory_order_relaxed);
        }
    }
    uint16_t v;
    while (pop(&v)) { popped++; out_sum += v; atomic_fetch_xor(&check16, v); atomic_fetch_xor(&check8, (uint8_t)(v >> 3)); }
    printf("ring: pushed %" PRIu32 " popped %" PRIu32 " refused %" PRIu32 " (indexes %" PRIu32 "/%" PRIu32 ")\n",
           pushed, popped, full, atomic_load(&head), atomic_load(&tail));
    printf("ring: sum %" PRIu64 " xor16 %04x xor8 %02x\n", out_sum, atomic_load(&check16), atomic_load(&check8));
    CHECK(pushed == popped && in_sum == out_sum);
}

// ---- 4. a free-list stack of node indexes with a 64-bit tagged top (index | tag << 32) ----
#define NODES 100
static uint32_t next_of[NODES + 1];               // node 0 is "none"
static _Atomic uint64_t top;

static __attribute__((noinline)) void stack_push(uint32_t n) {
    uint64_t old = atomic_load(&top);
    do {
        next_of[n] = (uint32_t)old;
    } while (!atomic_compare_exchange_weak(&top, &old, ((old >> 32) + 1) << 32 | n));
}
static __attribute__((noinline)) uint32_t stack_pop(void) {
    uint64_t old = atomic_load(&top);
    while ((uint32_t)old != 0) {
        uint64_t want = ((old >> 32) + 1) << 32 | next_of[(uint32_t)old];
        if (atomic_compare_exchange_strong(&top, &old, want)) return (uint32_t)old;
    }
    return 0;
}
static __attribute__((noinline)) void free_list(void) {
    for (uint32_t n = 1; n <= NODES; n++) stack_push(n);
    uint64_t order = 0;
    uint32_t held = 0;                            // one node kept aside now and then
    for (int i = 0; i < 3000; i++) {
        uint32_t n = stack_pop();
        CHECK(n != 0);
        order = order * 31 + n;
        if (next() & 1) {
            if (held) stack_push(held);
            held = n;
        } else {
            stack_push(n);
        }
    }
    if (held) stack_push(held);
    int count = 0;
    while (stack_pop()) count++;
    // a failed strong CAS writes back what it saw
    uint64_t expected = 12345, seen = atomic_load(&top);
    _Bool swapped = atomic_compare_exchange_strong(&top, &expected, 0);
    printf("stack: %d nodes left, pop order hash %016" PRIx64 ", tag %" PRIu64 "\n", count, order,
           atomic_load(&top) >> 32);
    CHECK(count == NODES && !swapped && expected == seen);
}

// ---- 5. a spin lock (exchange / atomic_flag) guarding a plain 64-bit total; 8/16-bit CAS ----
static _Atomic uint32_t lock_word;
static atomic_flag flag = ATOMIC_FLAG_INIT;
static uint64_t guarded;
static _Atomic uint8_t small8 = 250;
static _Atomic uint16_t small16 = 65530;

static __attribute__((noinline)) void locks(void) {
    int acquisitions = 0, contended = 0;
    for (int i = 0; i < 100; i++) {
        if (atomic_exchange_explicit(&lock_word, 1, memory_order_acquire) == 0) acquisitions++;
        if (atomic_exchange(&lock_word, 1) == 1) contended++;     // already held
        guarded += (uint64_t)i * i;
        atomic_store_explicit(&lock_word, 0, memory_order_release);
        CHECK(!atomic_flag_test_and_set(&flag));
        CHECK(atomic_flag_test_and_set(&flag));
        atomic_flag_clear(&flag);
    }
    atomic_thread_fence(memory_order_seq_cst);
    uint8_t e8 = 250;
    _Bool ok8 = atomic_compare_exchange_strong(&small8, &e8, (uint8_t)(e8 + 10));     // 260 wraps to 4
    _Bool bad8 = atomic_compare_exchange_strong(&small8, &e8, 0);                     // e8 is 250: fails
    uint16_t e16 = 65530;
    _Bool ok16 = atomic_compare_exchange_strong(&small16, &e16, 7);
    uint8_t x8 = atomic_exchange(&small8, 200);
    uint16_t x16 = atomic_exchange(&small16, 40000);
    printf("locks: %d acquisitions, %d contended, total %" PRIu64 "\n", acquisitions, contended, guarded);
    printf("cas: u8 %d %d now %u (e8 %u, old %u), u16 %d now %u (old %u)\n", ok8, bad8, atomic_load(&small8),
           e8, x8, ok16, atomic_load(&small16), x16);
    CHECK(ok8 && !bad8 && e8 == 4 && x8 == 4 && ok16 && x16 == 7);
}

// ---- 6. a checksum through or/and/xor on every width, compared with plain arithmetic ----
static __attribute__((noinline)) void checksums(void) {
    static _Atomic uint8_t a8;
    static _Atomic uint16_t a16;
    static _Atomic uint32_t a32;
    static _Atomic uint64_t a64;
    uint8_t p8 = 0; uint16_t p16 = 0; uint32_t p32 = 0; uint64_t p64 = 0;
    uint64_t olds = 0;
    for (int i = 0; i < 4096; i++) {
        uint64_t r = next();
        switch (r % 3) {
        case 0:
            olds += atomic_fetch_or(&a8, (uint8_t)r) + atomic_fetch_or(&a16, (uint16_t)r) +
                    atomic_fetch_or(&a32, (uint32_t)r) + atomic_fetch_or(&a64, r);
            p8 |= (uint8_t)r; p16 |= (uint16_t)r; p32 |= (uint32_t)r; p64 |= r;
            break;
        case 1:
            olds += atomic_fetch_and(&a8, (uint8_t)r) + atomic_fetch_and(&a16, (uint16_t)r) +
                    atomic_fetch_and(&a32, (uint32_t)r) + atomic_fetch_and(&a64, r);
            p8 &= (uint8_t)r; p16 &= (uint16_t)r; p32 &= (uint32_t)r; p64 &= r;
            break;
        default:
            olds += atomic_fetch_xor(&a8, (uint8_t)r) + atomic_fetch_xor(&a16, (uint16_t)r) +
                    atomic_fetch_xor(&a32, (uint32_t)r) + atomic_fetch_xor(&a64, r);
            p8 ^= (uint8_t)r; p16 ^= (uint16_t)r; p32 ^= (uint32_t)r; p64 ^= r;
        }
    }
    printf("bits: %02x %04x %08" PRIx32 " %016" PRIx64 ", olds %" PRIu64 "\n", atomic_load(&a8),
           atomic_load(&a16), atomic_load(&a32), atomic_load(&a64), olds);
    CHECK(a8 == p8 && a16 == p16 && a32 == p32 && a64 == p64);
}

// ---- 7. fetch-max and fetch-min built from compare-exchange loops (32-bit unsigned, 16-bit signed) ----
static _Atomic uint32_t highest;
static _Atomic int16_t lowest = INT16_MAX;

static __attribute__((noinline)) void fetch_max(uint32_t v) {
    uint32_t cur = atomic_load(&highest);
    while (cur < v && !atomic_compare_exchange_weak(&highest, &cur, v)) {}
}
static __attribute__((noinline)) void fetch_min(int16_t v) {
    int16_t cur = atomic_load(&lowest);
    while (cur > v && !atomic_compare_exchange_strong(&lowest, &cur, v)) {}
}
static __attribute__((noinline)) void extremes(void) {
    uint32_t hi = 0;
    int16_t lo = INT16_MAX;
    for (int i = 0; i < 500; i++) {
        uint64_t r = next();
        fetch_max((uint32_t)r >> 1);
        fetch_min((int16_t)(r >> 32));
        if ((uint32_t)r >> 1 > hi) hi = (uint32_t)r >> 1;
        if ((int16_t)(r >> 32) < lo) lo = (int16_t)(r >> 32);
    }
    printf("extremes: max %" PRIu32 " min %d\n", atomic_load(&highest), atomic_load(&lowest));
    CHECK(hi == atomic_load(&highest) && lo == atomic_load(&lowest));
}

int main(void) {
    counters();
    bitset();
    ring_buffer();
    free_list();
    locks();
    checksums();
    extremes();
    printf("%s (%d failed checks)\n", failures ? "FAILED" : "all checks passed", failures);
    return failures != 0;
}
