/* chain.c — programs with a SIGSEGV handler of their own installed before lastgasp, and a vfork child that
 * crashes; for tests/hardening/test_chain.py. Built plain (run without lastgasp, or preloaded) and, by the
 * test, linked with liblastgasp.a (-DCHAIN_LINKED: it installs lastgasp itself, after its own handler).
 *
 *   chain probes     a probe-and-recover handler (siglongjmp), 100 recovered probes, then a real crash
 *                    that the handler gives up on (SIG_DFL, return: the fault repeats and kills)
 *   chain fixes      a handler that fixes the fault (mprotect) and returns; the program exits 0
 *   chain unfixed    a handler that returns without fixing, twice, then gives up (SIG_DFL)
 *   chain vfork      a vfork child faults; the parent then crashes itself (no handler of its own)
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef CHAIN_LINKED
int lastgasp_install_from_env(void);
#endif

static int *volatile null_ptr;
static sigjmp_buf probe_jb;
static volatile int probing, returns, failed;
static char *volatile page;

static void say(const char *s) { ssize_t r = write(2, s, strlen(s)); (void)r; }

__attribute__((noinline)) static void real_crash(void) { *null_ptr = 1; }

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (probing)
        siglongjmp(probe_jb, 1); /* the probe failed: recovered */
    if (page && (char *)si->si_addr >= page && (char *)si->si_addr < page + 4096) {
        mprotect(page, 4096, PROT_READ | PROT_WRITE); /* fixed: the instruction runs again */
        return;
    }
    if (returns > 0) {
        returns--;
        return; /* not fixed: the fault repeats */
    }
    say("chain: handler gives up\n");
    signal(sig, SIG_DFL);
}

static void install_own(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);
#ifdef CHAIN_LINKED
    lastgasp_install_from_env();
#endif
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    if (strcmp(what, "vfork") != 0)
        install_own();
#ifdef CHAIN_LINKED
    else
        lastgasp_install_from_env();
#endif
    if (!strcmp(what, "probes")) {
        for (volatile int i = 0; i < 100; i++) {
            probing = 1;
            if (sigsetjmp(probe_jb, 1) == 0)
                *null_ptr = i;
            else
                failed++;
            probing = 0;
        }
        fprintf(stderr, "chain: %d probes recovered\n", failed);
        real_crash();
    } else if (!strcmp(what, "fixes")) {
        page = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        page[7] = 1;
        fprintf(stderr, "chain: fixed, wrote %d\n", page[7]);
        return 0;
    } else if (!strcmp(what, "unfixed")) {
        returns = 2;
        *null_ptr = 1;
    } else if (!strcmp(what, "vfork")) {
        pid_t pid = vfork();
        if (pid == 0) {
            *null_ptr = 1; /* the child faults in memory it shares with the parent */
            _exit(0);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        fprintf(stderr, "chain: child %s %d; child pid %d, parent pid %d\n", WIFSIGNALED(st) ? "signal" : "exit",
                WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), (int)pid, (int)getpid());
        *null_ptr = 2; /* the parent's own crash */
    }
    return 3;
}
