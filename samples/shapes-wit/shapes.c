/* shapes: the exports of wb:sample/geometry (wit/geometry.wit) with the canonical ABI by hand.
 * Freestanding (no libc, no WASI).  Core signatures of the exports, as the canonical ABI flattens
 * the WIT types (a result of more than one flat value goes through a pointer this code returns):
 *   greet          (name.ptr, name.len) -> ptr to string (ptr @0, len @4)
 *   area           (case i32, f64, f64) -> f64      shape flattens to a tag and two f64 slots
 *   summarize      (xs.ptr, xs.len) -> ptr to stats  count u32 @0, total s64 @8,
 *                                                    largest: tag u8 @16, s32 @20
 *   parse-number   (s.ptr, s.len) -> ptr to result   tag u8 @0 (0 ok, 1 err), u32 or enum u8 @4
 *   owner-access   (mode i32) -> i32                 flags: bit 0 read, 1 write, 2 exec
 *   shout-all      (list.ptr, list.len) -> ptr to list<string> (ptr @0, len @4)
 *   convert        (value i32, unit.ptr, unit.len) -> i32, calling the import
 * and of the import wb:sample/units#factor: (unit.ptr, unit.len) -> i32 (the host reads the string
 * from this module's memory).
 * Memory: a bump heap from __heap_base; arguments are placed by the host through cabi_realloc;
 * each export that allocates has a post-return (cabi_post_NAME) that empties the heap. */
#include <stddef.h>
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(name)))

extern unsigned char __heap_base;
static uintptr_t heap_next;

static void *heap_alloc(size_t align, size_t size) {
    if (!heap_next)
        heap_next = (uintptr_t)&__heap_base;
    uintptr_t start = (heap_next + align - 1) & ~(uintptr_t)(align - 1);
    uintptr_t end = start + size;
    uintptr_t limit = __builtin_wasm_memory_size(0) * 65536;
    if (end > limit && __builtin_wasm_memory_grow(0, (end - limit + 65535) / 65536) == (size_t)-1)
        __builtin_trap();
    heap_next = end;
    return (void *)start;
}

static void heap_clear(void) { heap_next = (uintptr_t)&__heap_base; }

static void copy_bytes(char *dst, const char *src, size_t n) {
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

EXPORT("cabi_realloc")
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
    void *fresh = heap_alloc(align, new_size);
    if (old)
        copy_bytes(fresh, old, old_size < new_size ? old_size : new_size);
    return fresh;
}

typedef struct { char *ptr; uint32_t len; } string_t;
typedef struct { void *ptr; uint32_t len; } list_t;

static string_t ret_string;
static list_t ret_list;

EXPORT("wb:sample/geometry#greet")
string_t *greet(const char *name, uint32_t len) {
    static const char prefix[] = "hello, ";
    uint32_t n = sizeof prefix - 1;
    char *out = heap_alloc(1, n + len + 1);
    copy_bytes(out, prefix, n);
    copy_bytes(out + n, name, len);
    out[n + len] = '!';
    ret_string = (string_t){out, n + len + 1};
    return &ret_string;
}

EXPORT("cabi_post_wb:sample/geometry#greet")
void greet_post(string_t *ret) { heap_clear(); }

EXPORT("wb:sample/geometry#area")
double area(int32_t shape, double a, double b) {
    switch (shape) {
    case 0: return 3.14159 * a * a;  /* circle(radius) */
    case 1: return a * b;            /* rect((w, h)) */
    default: return 0.0;             /* dot */
    }
}

static struct {
    uint32_t count;
    int64_t total;
    uint8_t has_largest;
    int32_t largest;
} ret_stats;

EXPORT("wb:sample/geometry#summarize")
void *summarize(const int32_t *xs, uint32_t n) {
    ret_stats.count = n;
    ret_stats.total = 0;
    ret_stats.has_largest = n > 0;
    ret_stats.largest = 0;
    for (uint32_t i = 0; i < n; i++) {
        ret_stats.total += xs[i];
        if (i == 0 || xs[i] > ret_stats.largest)
            ret_stats.largest = xs[i];
    }
    return &ret_stats;
}

EXPORT("cabi_post_wb:sample/geometry#summarize")
void summarize_post(void *ret) { heap_clear(); }  /* the host placed the list on the heap */

enum { EMPTY, BAD_DIGIT, TOO_LARGE };
static struct { uint8_t is_err; uint32_t value; } ret_result;

EXPORT("wb:sample/geometry#parse-number")
void *parse_number(const char *s, uint32_t len) {
    uint32_t value = 0;
    ret_result.is_err = 1;
    if (len == 0) {
        ret_result.value = EMPTY;
        return &ret_result;
    }
    for (uint32_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            ret_result.value = BAD_DIGIT;
            return &ret_result;
        }
        if (i == 9) {
            ret_result.value = TOO_LARGE;
            return &ret_result;
        }
        value = value * 10 + (uint32_t)(s[i] - '0');
    }
    ret_result.is_err = 0;
    ret_result.value = value;
    return &ret_result;
}

EXPORT("cabi_post_wb:sample/geometry#parse-number")
void parse_number_post(void *ret) { heap_clear(); }

EXPORT("wb:sample/geometry#owner-access")
int32_t owner_access(uint32_t mode) {
    return ((mode & 0400) ? 1 : 0) | ((mode & 0200) ? 2 : 0) | ((mode & 0100) ? 4 : 0);
}

EXPORT("wb:sample/geometry#shout-all")
list_t *shout_all(const string_t *words, uint32_t n) {
    string_t *out = heap_alloc(4, n * sizeof(string_t));
    for (uint32_t i = 0; i < n; i++) {
        const string_t *w = &words[n - 1 - i];
        char *p = heap_alloc(1, w->len ? w->len : 1);
        for (uint32_t k = 0; k < w->len; k++)
            p[k] = (w->ptr[k] >= 'a' && w->ptr[k] <= 'z') ? (char)(w->ptr[k] - 32) : w->ptr[k];
        out[i] = (string_t){p, w->len};
    }
    ret_list = (list_t){out, n};
    return &ret_list;
}

EXPORT("cabi_post_wb:sample/geometry#shout-all")
void shout_all_post(list_t *ret) { heap_clear(); }

__attribute__((import_module("wb:sample/units"), import_name("factor")))
uint32_t units_factor(const char *unit, uint32_t len);

EXPORT("wb:sample/geometry#convert")
uint32_t convert(uint32_t value, const char *unit, uint32_t len) { return value * units_factor(unit, len); }

EXPORT("cabi_post_wb:sample/geometry#convert")
void convert_post(uint32_t ret) { heap_clear(); }
