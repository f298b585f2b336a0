/* condor-ckpt N [DELAY_MS [EXIT_CODE]] [-_condor_ckpt FILE | -_condor_restart FILE -_condor_relocatable]
 *
 * A stand-in for a program linked with HTCondor's old checkpoint library
 * (no HTCondor since 9.0 can build one): it speaks the same protocol.
 * SIGUSR2: write a checkpoint to FILE.tmp, rename it to FILE, go on.
 * SIGTSTP: the same, then die of SIGUSR2, as the library does.
 * With -_condor_restart it resumes from FILE.
 * It prints "line I" to stdout and, first, its personality to stderr
 * ("personality 0x0040000" means address randomisation is off). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t want_ckpt, want_exit;
static void on_usr2(int s) { (void)s; want_ckpt = 1; }
static void on_tstp(int s) { (void)s; want_exit = 1; }

static int save(const char *file, long i) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    FILE *f = fopen(tmp, "w");
    if (!f) { perror(tmp); return -1; }
    fprintf(f, "%ld\n", i);
    if (fclose(f) != 0) { perror(tmp); return -1; }
    return rename(tmp, file);
}

int main(int argc, char **argv) {
    const char *file = NULL;
    int restart = 0, relocatable = 0;
    char *args[8];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-_condor_ckpt") && i + 1 < argc) file = argv[++i];
        else if (!strcmp(argv[i], "-_condor_restart") && i + 1 < argc) { file = argv[++i]; restart = 1; }
        else if (!strcmp(argv[i], "-_condor_relocatable")) relocatable = 1;
        else if (n < 8) args[n++] = argv[i];
    }
    if (n < 1 || !file) {
        fprintf(stderr, "usage: condor-ckpt N [DELAY_MS [EXIT_CODE]] -_condor_ckpt FILE\n");
        return 2;
    }
    long count = atol(args[0]);
    long delay = n > 1 ? atol(args[1]) : 20;
    int code = n > 2 ? atoi(args[2]) : 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    FILE *p = fopen("/proc/self/personality", "r");
    unsigned long pers = 0;
    if (p) { if (fscanf(p, "%lx", &pers) != 1) pers = 0; fclose(p); }
    fprintf(stderr, "personality 0x%07lx%s\n", pers, restart ? (relocatable ? " (restarted, relocatable)" : " (restarted)") : "");
    long start = 0;
    if (restart) {
        FILE *f = fopen(file, "r");
        if (!f || fscanf(f, "%ld", &start) != 1) { fprintf(stderr, "cannot restart from %s\n", file); return 3; }
        fclose(f);
    }
    struct sigaction sa = {0};
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_usr2; sigaction(SIGUSR2, &sa, NULL);
    sa.sa_handler = on_tstp; sigaction(SIGTSTP, &sa, NULL);
    for (long i = start; i < count; i++) {
        if (want_ckpt || want_exit) {
            want_ckpt = 0;
            if (save(file, i) != 0) return 4;
            if (want_exit) {
                signal(SIGUSR2, SIG_DFL);
                raise(SIGUSR2);
            }
        }
        printf("line %ld\n", i);
        usleep(delay * 1000);
    }
    printf("done\n");
    return code;
}
