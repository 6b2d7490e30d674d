/* signames.c — names of Linux signals and si_code values, for reports.
 *
 * Any context, the handler's included: constant tables and no call, so the handler (reporter/report.c) and the
 * tool share one copy. The numbers are Linux's generic ones (x86_64 and arm64 share them), written out here
 * rather than taken from <signal.h> so that a dump renders the same on any host the tool runs on.
 */
#include "minidump.h"

#include <stddef.h>

static const char *const sig_names[32] = {
    NULL, "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL",
    "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",
    "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF",
    "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
};

const char *md_signal_name(uint32_t signo)
{
    return signo < 32 ? sig_names[signo] : NULL;
}

/* Per-signal codes start at 1; index 0 is unused. */
static const char *const segv_codes[] = {
    NULL, "SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR", "SEGV_ACCADI", "SEGV_ADIDERR",
    "SEGV_ADIPERR", "SEGV_MTEAERR", "SEGV_MTESERR", "SEGV_CPERR",
};
static const char *const bus_codes[] = {
    NULL, "BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO",
};
static const char *const fpe_codes[] = {
    NULL, "FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF", "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV",
    "FPE_FLTSUB", NULL, NULL, NULL, NULL, NULL, "FPE_FLTUNK", "FPE_CONDTRAP",
};
static const char *const ill_codes[] = {
    NULL, "ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP", "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC",
    "ILL_BADSTK", "ILL_BADIADDR",
};
static const char *const trap_codes[] = {
    NULL, "TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT", "TRAP_UNK", "TRAP_PERF",
};
static const char *const sys_codes[] = {
    NULL, "SYS_SECCOMP", "SYS_USER_DISPATCH",
};

#define PICK(table, code) ((size_t)(code) < sizeof(table) / sizeof((table)[0]) ? (table)[code] : NULL)

const char *md_si_code_name(uint32_t signo, int32_t code)
{
    /* Codes that mean the same for every signal: who sent it, rather than what went wrong. */
    switch (code) {
    case 0: return "SI_USER";
    case 0x80: return "SI_KERNEL";
    case -1: return "SI_QUEUE";
    case -2: return "SI_TIMER";
    case -3: return "SI_MESGQ";
    case -4: return "SI_ASYNCIO";
    case -5: return "SI_SIGIO";
    case -6: return "SI_TKILL";
    case -7: return "SI_DETHREAD";
    case -60: return "SI_ASYNCNL";
    default: break;
    }
    if (code <= 0)
        return NULL;
    switch (signo) {
    case 4: return PICK(ill_codes, code);
    case 5: return PICK(trap_codes, code);
    case 7: return PICK(bus_codes, code);
    case 8: return PICK(fpe_codes, code);
    case 11: return PICK(segv_codes, code);
    case 31: return PICK(sys_codes, code);
    default: return NULL;
    }
}
