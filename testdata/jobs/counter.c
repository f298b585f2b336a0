/* counter N [DELAY_MS [EXIT_CODE [OPEN_FILE]]]
 * Prints "line I" for I in 0..N-1 to stdout, "progress I" every 10 lines to
 * stderr, then "done", and exits with EXIT_CODE. With OPEN_FILE it keeps that
 * file open for reading for its whole life (the shim must find it again
 * before a restart). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "dmtcp_double.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: counter N [DELAY_MS [EXIT_CODE [OPEN_FILE]]]\n");
        return 2;
    }
    long n = atol(argv[1]);
    long delay = argc > 2 ? atol(argv[2]) : 20;
    int code = argc > 3 ? atoi(argv[3]) : 0;
    FILE *held = NULL;
    if (argc > 4 && !(held = fopen(argv[4], "r"))) {
        perror(argv[4]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    long start = double_init();
    if (start < 0) start = 0;
    for (long i = start; i < n; i++) {
        double_poll(i);
        printf("line %ld\n", i);
        if (i % 10 == 0) fprintf(stderr, "progress %ld\n", i);
        usleep(delay * 1000);
    }
    printf("done\n");
    if (held) fclose(held);
    return code;
}
