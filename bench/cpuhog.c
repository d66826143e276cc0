/* cpuhog: a competitor for the server's CPU, to reproduce "the server gets less than a whole
 * CPU" (docs/design/bench.md, session 8) on purpose instead of waiting for the host to steal
 * time. Started by run-cpu-bench.sh (HOG=spin|mem) pinned to the server's CPU.
 *
 *   cpuhog -m MIB -T SECONDS
 *
 * -m 0 spins (takes CPU time, touches almost no memory: what the server then loses is only
 * time); -m N > 0 walks an N MiB buffer one cache line per step, writing, so that every time
 * slice of the hog evicts what the server had in its caches and TLB (what another VM on the
 * same physical core does). Always bounded: exits after -T seconds (default 60, at most 600).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long mib = 0, secs = 60;
    int opt;
    while ((opt = getopt(argc, argv, "m:T:")) != -1) {
        if (opt == 'm')
            mib = strtol(optarg, NULL, 10);
        else if (opt == 'T')
            secs = strtol(optarg, NULL, 10);
        else {
            fprintf(stderr, "usage: cpuhog [-m MIB] [-T SECONDS]\n");
            return 1;
        }
    }
    if (mib < 0 || mib > 256 || secs < 1 || secs > 600) {
        fprintf(stderr, "cpuhog: -m 0..256, -T 1..600\n");
        return 1;
    }
    size_t len = (size_t)mib << 20;
    volatile uint8_t *buf = NULL;
    if (len) {
        buf = malloc(len);
        if (!buf) {
            perror("cpuhog");
            return 1;
        }
        memset((void *)buf, 1, len);
    }
    const double end = now_s() + (double)secs;
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    size_t pos = 0;
    for (;;) {
        for (int i = 0; i < 100000; i++) {
            if (buf) {
                /* a pseudo-random line: no hardware prefetcher hides the misses */
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                pos = (size_t)(x % (len / 64)) * 64;
                buf[pos]++;
            } else {
                x = x * 6364136223846793005ULL + 1;
            }
        }
        if (now_s() > end)
            break;
    }
    printf("%llu\n", (unsigned long long)(x & 1));
    return 0;
}
