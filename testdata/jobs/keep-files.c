/* keep-files N [DELAY_MS [EXIT_CODE]]
 * Keeps two files open for its whole life, results/log.txt (in a directory
 * it creates) and summary.txt, and writes "entry I" to each and "line I" to
 * stdout for I in 0..N-1, "progress I" every 10 lines to stderr, then
 * "done", and exits with EXIT_CODE.
 *
 * A checkpointed program finds its open files again by name when it is
 * restarted, and DMTCP fails the restart when one is missing; it puts each
 * file offset back where it was at the checkpoint, so what the program
 * wrote after the checkpoint (before it was stopped) is written over. Under
 * the DMTCP test double this program does the same itself: resumed from
 * the state "I entries written", it reopens both files without creating
 * them, fails (exit 66, a message on stderr) when one is missing or does
 * not begin with those I entries (the file of an older checkpoint, or none),
 * and goes on writing at the end of the I entries. A scheduler that does
 * not carry both files across every checkpoint and eviction therefore fails
 * the job instead of letting it rebuild them from nothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include "dmtcp_double.h"

static const char *names[] = {"results/log.txt", "summary.txt"};

/* entriesSize is the size of a file holding "entry 0" .. "entry n-1". */
static long entriesSize(long n) {
    long size = 0;
    char buf[64];
    for (long i = 0; i < n; i++) size += snprintf(buf, sizeof buf, "entry %ld\n", i);
    return size;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: keep-files N [DELAY_MS [EXIT_CODE]]\n");
        return 2;
    }
    long n = atol(argv[1]);
    long delay = argc > 2 ? atol(argv[2]) : 20;
    int code = argc > 3 ? atoi(argv[3]) : 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    long start = double_init();
    int fds[2];
    for (int k = 0; k < 2; k++) {
        if (start < 0) {
            if (mkdir("results", 0755) != 0 && errno != EEXIST) {
                perror("results");
                return 66;
            }
            fds[k] = open(names[k], O_RDWR | O_CREAT | O_TRUNC, 0644);
        } else {
            fds[k] = open(names[k], O_RDWR);
        }
        if (fds[k] < 0) {
            fprintf(stderr, "keep-files: %s: %s at %s\n", names[k], strerror(errno), start < 0 ? "start" : "restart");
            return 66;
        }
        if (start >= 0) {
            long want = entriesSize(start), got = 0;
            char *have = malloc(want + 1), *exp = malloc(want + 1);
            ssize_t r;
            while (have && got < want && (r = read(fds[k], have + got, want - got)) > 0) got += r;
            long off = 0;
            for (long i = 0; exp && i < start; i++) off += sprintf(exp + off, "entry %ld\n", i);
            if (!have || !exp || got != want || memcmp(have, exp, want) != 0) {
                fprintf(stderr, "keep-files: %s does not begin with the %ld entries of the checkpoint (%ld bytes read, want %ld)\n",
                        names[k], start, got, want);
                return 66;
            }
            free(have);
            free(exp);
            lseek(fds[k], want, SEEK_SET);
        }
    }
    if (start < 0) start = 0;
    for (long i = start; i < n; i++) {
        double_poll(i);
        char buf[64];
        int len = snprintf(buf, sizeof buf, "entry %ld\n", i);
        for (int k = 0; k < 2; k++) {
            if (write(fds[k], buf, len) != len) {
                fprintf(stderr, "keep-files: write %s: %s\n", names[k], strerror(errno));
                return 66;
            }
        }
        printf("line %ld\n", i);
        if (i % 10 == 0) fprintf(stderr, "progress %ld\n", i);
        usleep(delay * 1000);
    }
    printf("done\n");
    for (int k = 0; k < 2; k++) close(fds[k]);
    return code;
}
