/* hold MB KIND: holds MB MiB of memory, filled so that it does not compress
 * (KIND random) or does (KIND text), says "ready", then prints "tick T" every
 * 10 ms for ever, T being CLOCK_MONOTONIC in microseconds: a gap between two
 * ticks is how long a checkpoint stopped the job. For the large-image
 * benchmark (shim/bench_large_test.go), with a real DMTCP only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: hold MB random|text\n");
        return 2;
    }
    size_t n = (size_t)atol(argv[1]) << 20;
    unsigned char *mem = malloc(n);
    if (!mem) {
        perror("malloc");
        return 2;
    }
    if (strcmp(argv[2], "random") == 0) {
        FILE *r = fopen("/dev/urandom", "rb");
        if (!r || fread(mem, 1, n, r) != n) {
            perror("/dev/urandom");
            return 2;
        }
        fclose(r);
    } else {
        static const char text[] = "the quick brown fox jumps over the lazy dog 0123456789\n";
        for (size_t i = 0; i < n; i++) mem[i] = text[i % (sizeof text - 1)];
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ready\n");
    for (unsigned long i = 0;; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        printf("tick %lld %u\n", (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, mem[i % n]);
        usleep(10000);
    }
}
