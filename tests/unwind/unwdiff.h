/* unwdiff.h — the unwinder's differential test (README.md here): what the generated chain (gen_stacks.py), the
 * shared library it calls through the PLT (plt_lib.c), the architecture's tracing (<arch>/trace.c) and the driver
 * (unwdiff.c) share. */
#ifndef LASTGASP_TESTS_UNWDIFF_H
#define LASTGASP_TESTS_UNWDIFF_H

/* The generated chain: chain_0 calls ... calls unwdiff_bottom. */
int chain_0(int x);
extern const char *const unwdiff_expected[]; /* its frames, innermost first, 0-terminated; "*" = libc frames */
extern const char *const unwdiff_shapes;
extern const int unwdiff_nlinks;            /* chain_0 .. chain_<unwdiff_nlinks - 1> */

/* The driver's: where the chain ends (the scenario runs there), and what the chain's links use. */
int unwdiff_bottom(int x);
extern volatile int unwdiff_always; /* 1; the compiler must not know it */
void unwdiff_keep(void *p);         /* makes an alloca'd buffer escape */

/* plt_lib.c, in libunwdiff_plt-<variant>.so: called through the PLT, calls cb back; when unwdiff_plt_bind_late is
 * set, first makes the library's one call of getppid, whose PLT slot is still unbound (the lazy binder runs). */
int unwdiff_plt_call(int (*cb)(int), int x);
extern volatile int unwdiff_plt_bind_late;

/* <arch>/trace.c: instruction tracing from user space. unwdiff_trace(1) makes the calling thread take
 * UNWDIFF_TRACE_SIG after every instruction it executes from then on (the kernel clears the trace for the
 * handler and restores it at sigreturn), unwdiff_trace(0) stops it. Returns 0, or -1 where the architecture
 * cannot trace from user space (the trace scenario is then reported as not run, never as passed). */
int unwdiff_trace(int on);
extern const int unwdiff_trace_sig;
/* Where the architecture cannot trace each instruction, it samples instead (aarch64/trace.c: a timer): the chain
 * then runs again while unwdiff_trace_again(runs done) says so (once where every instruction is traced), and the
 * handler of unwdiff_trace_sig calls unwdiff_trace_next() when its walks are done (the sampler arms its next
 * sample there). */
int unwdiff_trace_again(unsigned long runs);
void unwdiff_trace_next(void);

#endif
