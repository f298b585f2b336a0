/* forker N DELAY_MS PROGRAM ARGS...: a job for the minimal-root test. It
 * prints "line I" for I in 0..N-1, DELAY_MS apart, then runs PROGRAM (a
 * C++ program: after a restart on a node without libstdc++ it finds one
 * only through the loader path the job kept), prints "child exit CODE"
 * and "done". */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: forker N DELAY_MS PROGRAM ARGS...\n");
        return 2;
    }
    long n = atol(argv[1]), delay = atol(argv[2]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (long i = 0; i < n; i++) {
        printf("line %ld\n", i);
        usleep(delay * 1000);
    }
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[3], argv + 3);
        perror(argv[3]);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    printf("child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    printf("done\n");
    return 0;
}
