/* Cooperation with the dmtcp-condor TEST DOUBLE of DMTCP (see README.md).
 * Inert under a real DMTCP, which keeps SIGUSR2 for itself. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t double_requested;

static void double_on_usr2(int sig) { (void)sig; double_requested = 1; }

/* double_init installs the handler and returns the saved state, or -1. */
static long double_init(void) {
    struct sigaction sa = {0};
    sa.sa_handler = double_on_usr2;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR2, &sa, NULL);
    const char *restore = getenv("DMTCP_DOUBLE_RESTORE");
    long state = -1;
    if (restore) {
        FILE *f = fopen(restore, "r");
        if (f) {
            if (fscanf(f, "%ld", &state) != 1) state = -1;
            fclose(f);
        }
        unsetenv("DMTCP_DOUBLE_RESTORE");
    }
    return state;
}

/* double_poll is called at a safe point, with the state to save. */
static void double_poll(long state) {
    if (!double_requested) return;
    double_requested = 0;
    const char *dir = getenv("DMTCP_DOUBLE_DIR");
    if (!dir) return;
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%d.exit", dir, (int)getpid());
    FILE *f = fopen(path, "r");
    if (f) {
        int code = 0;
        if (fscanf(f, "%d", &code) != 1) code = 0;
        fclose(f);
        _exit(code);
    }
    snprintf(path, sizeof path, "%s/%d.state", dir, (int)getpid());
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f) return;
    fprintf(f, "%ld\n", state);
    fclose(f);
    rename(tmp, path);
    fflush(stdout);
    fflush(stderr);
    raise(SIGSTOP);
}
