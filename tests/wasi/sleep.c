/* sleep: how long usleep(1000) and nanosleep(2 ms) really take, measured with CLOCK_MONOTONIC.
 *
 * Built with: python3 -m ziglang cc --target=wasm32-wasi -O2 -s -o sleep.wasm sleep.c
 * Both sleeps are one poll_oneoff call with a relative clock subscription; prints "usleep OK" and
 * "nanosleep OK" when each took between the time asked for and one second.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void report(const char *what, long long asked, long long took) {
    printf("%s %s\n", what, took >= asked && took < 1000000000 ? "OK" : "WRONG");
}

int main(void) {
    long long t0 = now_ns();
    usleep(1000);
    long long t1 = now_ns();
    struct timespec two_ms = {0, 2000000};
    nanosleep(&two_ms, NULL);
    long long t2 = now_ns();
    report("usleep", 1000000, t1 - t0);
    report("nanosleep", 2000000, t2 - t1);
    return 0;
}
