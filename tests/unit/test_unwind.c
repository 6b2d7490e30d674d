/* test_unwind.c — the handler's stack walk and symbolizer on this very process.
 *
 * Contexts are taken with getcontext() at the bottom of known call chains (this file is built
 * -O2 without frame pointers, so only the unwind tables can find the callers), then walked with
 * rep_unwind over modules collected from /proc/self/maps, then named with rep_symbolize. The
 * expected names come from the call chain in the source, not from a previous run.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "../../reporter/rep.h"
#include "check.h"

/* The registers this test sets in a context, by architecture. */
#if defined(__aarch64__)
#define UC_PC(uc) (uc).uc_mcontext.pc
#define UC_SP(uc) (uc).uc_mcontext.sp
#define UC_FP(uc) (uc).uc_mcontext.regs[29]
#define UC_LR(uc) (uc).uc_mcontext.regs[30]
#define CALL_LEN 4 /* bl */
#else
#define UC_PC(uc) (uc).uc_mcontext.gregs[REG_RIP]
#define UC_SP(uc) (uc).uc_mcontext.gregs[REG_RSP]
#define UC_FP(uc) (uc).uc_mcontext.gregs[REG_RBP]
#define CALL_LEN 5 /* call rel32 */
#endif

struct rep_state rep_g; /* normally install.c's; the walk reads only at_phdr from it */

static struct mdw_module g_mods[REP_MAX_MODULES];
static uint32_t g_nmods;
static char g_maps[1 << 20];
static struct ss_mapping g_mappings[REP_MAX_MAPPINGS];

static void load_modules(void)
{
    int trunc;
    ssize_t n = ss_read_file(-100, "/proc/self/maps", g_maps, sizeof g_maps, &trunc);
    size_t pos = 0, len;
    const char *line;
    uint32_t nm = 0;
    while (n > 0 && ss_next_line(g_maps, (size_t)n, &pos, &line, &len))
        if (ss_parse_maps_line(line, len, &g_mappings[nm]))
            nm++;
    g_nmods = rep_collect_modules(g_mappings, nm, g_mods, REP_MAX_MODULES);
}

/* Walk uc and return the names of the frames, innermost first ("?" when unnamed). The frames must
 * still be live: walk from inside the call chain, never after it returned. */
static int walk(const ucontext_t *uc, const char **names, int max, struct lg_frame_record *frames)
{
    load_modules();
    uint32_t n = rep_unwind(uc, 0, ~0ull, g_mods, g_nmods, frames, (uint32_t)max);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t look = frames[i].pc - (i > 0), start;
        const char *name = rep_symbolize(g_mods, rep_module_index(g_mods, g_nmods, look), look, &start);
        names[i] = name ? name : "?";
        if (getenv("TEST_UNWIND_VERBOSE"))
            fprintf(stderr, "  #%u pc=%#lx sp=%#lx trust=%d %s\n", i, (unsigned long)frames[i].pc,
                    (unsigned long)frames[i].sp, frames[i].trust, names[i]);
    }
    return (int)n;
}

static int index_of(const char **names, int n, const char *want)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], want) == 0)
            return i;
    return -1;
}

static ucontext_t g_uc;
volatile int g_sink;
static const char *g_names[64];
static struct lg_frame_record g_frames[64];
static int g_n;

__attribute__((noinline)) void leaf_takes_context(void)
{
    getcontext(&g_uc);
    g_n = walk(&g_uc, g_names, 64, g_frames);
    g_sink++;
}

__attribute__((noinline)) void middle_with_locals(int depth)
{
    volatile char pad[300];
    pad[depth % 300] = 1;
    if (depth > 0)
        middle_with_locals(depth - 1);
    else
        leaf_takes_context();
    g_sink += pad[0];
}

__attribute__((noinline)) void outer_entry(void) { middle_with_locals(3); g_sink++; }

static void test_walk_through_own_code(void)
{
    outer_entry();
    const char **names = g_names;
    struct lg_frame_record *fr = g_frames;
    int n = g_n;
    int leaf = index_of(names, n, "leaf_takes_context");
    int outer = index_of(names, n, "outer_entry");
    int main_at = index_of(names, n, "main");
    CHECK_MSG(leaf >= 0 && outer > leaf && main_at > outer, "frames: %d, leaf %d outer %d main %d", n, leaf, outer,
              main_at);
    int middles = 0;
    for (int i = 0; i < n; i++)
        middles += strcmp(names[i], "middle_with_locals") == 0;
    CHECK_EQ_U64(middles, 4); /* depth 3..0 */
    for (int i = 1; i < n && i <= outer; i++)
        CHECK(fr[i].trust == LG_TRUST_CFI && fr[i].sp > fr[i - 1].sp);
    /* __libc_start_main comes from libc's .dynsym: the walk went through a stripped library. */
    CHECK(index_of(names, n, "__libc_start_main") > main_at);
}

#if defined(__aarch64__)
/* Pointer authentication: pac_signed signs its return address (paciasp) before saving it, and its CFI says so
 * with DW_CFA_AARCH64_negate_ra_state. The saved x30 then carries a signature in its top bits wherever the CPU
 * has pointer authentication (qemu's default CPU has it, and Linux gives every process its keys): the walk
 * must strip it to find pac_caller. */
static const char *g_pac_names[64];
static struct lg_frame_record g_pac_frames[64];
static int g_pac_n;
static uint64_t g_pac_saved_lr;

__attribute__((noinline)) static void pac_bottom(void)
{
    ucontext_t uc;
    getcontext(&uc);
    g_pac_n = walk(&uc, g_pac_names, 64, g_pac_frames);
}

__attribute__((noinline, target("branch-protection=pac-ret"))) void pac_signed(void)
{
    /* the signed return address, as the prologue stored it in the frame record (x29 + 8) */
    g_pac_saved_lr = ((uint64_t *)__builtin_frame_address(0))[1];
    pac_bottom();
    g_sink++;
}

__attribute__((noinline)) void pac_caller(void) { pac_signed(); g_sink++; }

static void test_walk_through_signed_return_address(void)
{
    pac_caller();
    int at = index_of(g_pac_names, g_pac_n, "pac_signed");
    CHECK_MSG(at > 0 && at + 1 < g_pac_n && strcmp(g_pac_names[at + 1], "pac_caller") == 0,
              "pac_signed at %d of %d, then %s", at, g_pac_n, at >= 0 && at + 1 < g_pac_n ? g_pac_names[at + 1] : "-");
    CHECK(index_of(g_pac_names, g_pac_n, "main") > at);
    /* The saved address was signed (else this test proves nothing): its top bits differ from the frame's pc. */
    CHECK_MSG(at > 0 && at + 1 < g_pac_n && g_pac_saved_lr != g_pac_frames[at + 1].pc,
              "saved lr %#llx is the plain return address: no pointer authentication here",
              (unsigned long long)g_pac_saved_lr);
}
#endif

/* A signal handler's context, walked through the kernel's signal frame is not needed: the walk
 * starts at the interrupted pc, as the crash handler's does. */
static ucontext_t g_handler_uc;
static struct lg_frame_record g_handler_frames[64];
static const char *g_handler_names[64];
static int g_handler_n;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    g_n = walk(uc, g_names, 64, g_frames);
    getcontext(&g_handler_uc);
    g_handler_n = walk(&g_handler_uc, g_handler_names, 64, g_handler_frames);
}

__attribute__((noinline)) void raise_from_here(void) { raise(SIGUSR1); g_sink++; }

static void test_walk_from_signal_context(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, 0);
    raise_from_here();
    const char **names = g_names;
    int n = g_n;
    /* The interrupted pc is inside libc's raise (pthread_kill); the walk climbs out into our code. */
    int at = index_of(names, n, "raise_from_here");
    CHECK_MSG(at > 0 && index_of(names, n, "main") > at, "raise_from_here at %d of %d", at, n);
    /* From the handler's own context the walk climbs through the signal frame; the frame it reaches there is
     * the interrupted pc itself, trust "context" (named at pc, not pc-1), the same pc as the walk from the
     * signal's context begins with; the frames above it are return addresses again. */
    int h = index_of(g_handler_names, g_handler_n, "on_usr1");
    CHECK_MSG(h == 0 && g_handler_n > 3, "on_usr1 at %d of %d", h, g_handler_n);
    int k = 1;
    while (k < g_handler_n && g_handler_frames[k].pc != g_frames[0].pc)
        k++;
    CHECK_MSG(k >= 2 && k + 1 < g_handler_n, "the interrupted pc at %d of %d", k, g_handler_n);
    CHECK(k + 1 < g_handler_n && g_handler_frames[k].trust == LG_TRUST_CONTEXT);
    CHECK(k + 1 < g_handler_n && g_handler_frames[k + 1].trust == LG_TRUST_CFI);
    CHECK(index_of(g_handler_names, g_handler_n, "raise_from_here") > k);
}

/* A walk from inside a signal handler (its own context, not the interrupted one) must climb through the
 * kernel's signal frame: the handler returns into the signal trampoline (glibc's __restore_rt on x86_64; on
 * aarch64 the vdso's __kernel_rt_sigreturn, or qemu-user's copy of it), whose frame holds the interrupted
 * registers. The interrupted function then appears at its exact pc, and the walk goes on to main. */
static const char *g_sf_names[64];
static struct lg_frame_record g_sf_frames[64];
static int g_sf_n;
static uint64_t g_sf_interrupted_pc, g_sf_interrupted_sp;

__attribute__((noinline)) static void in_handler_bottom(void)
{
    ucontext_t uc;
    getcontext(&uc);
    g_sf_n = walk(&uc, g_sf_names, 64, g_sf_frames);
}

static void on_usr2(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    g_sf_interrupted_pc = (uint64_t)UC_PC(*(ucontext_t *)uc);
    g_sf_interrupted_sp = (uint64_t)UC_SP(*(ucontext_t *)uc);
    in_handler_bottom();
    g_sink++;
}

__attribute__((noinline)) void raise_usr2_from_here(void) { raise(SIGUSR2); g_sink++; }

static void test_walk_through_signal_frame(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr2;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &sa, 0);
    raise_usr2_from_here();
    int handler = index_of(g_sf_names, g_sf_n, "on_usr2");
    int raiser = index_of(g_sf_names, g_sf_n, "raise_usr2_from_here");
    CHECK_MSG(index_of(g_sf_names, g_sf_n, "in_handler_bottom") == 0 && handler > 0 && raiser > handler + 1 &&
                  index_of(g_sf_names, g_sf_n, "main") > raiser,
              "in_handler_bottom at %d, on_usr2 %d, raise_usr2_from_here %d, main %d of %d",
              index_of(g_sf_names, g_sf_n, "in_handler_bottom"), handler, raiser,
              index_of(g_sf_names, g_sf_n, "main"), g_sf_n);
    /* The frame after the trampoline's is the interrupted pc and sp themselves (inside raise), as the kernel
     * handed them to the handler: only the signal frame holds them (a frame-pointer step from the trampoline
     * would give the interrupted function's caller instead). */
    int tramp = handler + 1;
    CHECK_MSG(tramp + 1 < g_sf_n && g_sf_frames[tramp + 1].pc == g_sf_interrupted_pc &&
                  g_sf_frames[tramp + 1].sp == g_sf_interrupted_sp,
              "frame %d: pc %#llx sp %#llx, interrupted at pc %#llx sp %#llx", tramp + 1,
              (unsigned long long)g_sf_frames[tramp + 1].pc, (unsigned long long)g_sf_frames[tramp + 1].sp,
              (unsigned long long)g_sf_interrupted_pc, (unsigned long long)g_sf_interrupted_sp);
    CHECK(raiser > 0 && g_sf_frames[raiser].trust == LG_TRUST_CFI);
}

/* Smashed frames: garbage everywhere above the leaf must end the walk, not fault or loop. */
static void test_walk_garbage_stack(void)
{
    static uint64_t junk[512];
    for (int i = 0; i < 512; i++)
        junk[i] = 0x4141414141414141ull ^ (uint64_t)i;
    ucontext_t uc = g_uc;
    UC_SP(uc) = (uintptr_t)&junk[256];
    UC_FP(uc) = (uintptr_t)&junk[300];
    const char *names[64];
    struct lg_frame_record fr[64];
    int n = walk(&uc, names, 64, fr);
    CHECK(n >= 1 && n < 64);
    UC_PC(uc) = 0; /* a call through a null pointer: pc outside every module */
    UC_SP(uc) = (uintptr_t)&junk[0];
#if defined(__aarch64__)
    UC_LR(uc) = (uintptr_t)&raise_from_here + CALL_LEN; /* blr left the return address in x30 */
#else
    junk[0] = (uint64_t)(uintptr_t)&raise_from_here + CALL_LEN; /* call pushed it */
#endif
    n = walk(&uc, names, 64, fr);
    CHECK(n >= 2 && strcmp(names[1], "raise_from_here") == 0);
}

/* A thread's walk ends at clone: the outermost frame's return address is undefined. */
static void *thread_main(void *arg)
{
    (void)arg;
    ucontext_t uc;
    getcontext(&uc);
    g_n = walk(&uc, g_names, 64, g_frames);
    return 0;
}

static void test_walk_thread_ends(void)
{
    pthread_t t;
    pthread_create(&t, 0, thread_main, 0);
    pthread_join(t, 0);
    const char **names = g_names;
    int n = g_n;
    CHECK_MSG(n >= 2 && n < 8, "%d frames", n);
    CHECK(strcmp(names[0], "thread_main") == 0 || strcmp(names[0], "getcontext") == 0);
}

/* Code without unwind tables nor a frame pointer, as musl's libc is built: nocfi_leaf keeps a 40-byte frame
 * whose words at 0 and 16 hold a stale return address (after a call of another function, as a call that
 * returned leaves one), then calls the function it is given through a register. On aarch64 the frame is 48
 * bytes, with the return address (x30, which the call through x0 replaces) saved at 40. */
#if defined(__aarch64__)
__asm__(".text\n"
        ".globl nocfi_other\n.type nocfi_other,%function\nnocfi_other:\n  ret\n  bl nocfi_other\n"
        "nocfi_stale_ret:\n  ret\n.size nocfi_other, .-nocfi_other\n"
        ".globl nocfi_leaf\n.type nocfi_leaf,%function\nnocfi_leaf:\n  sub sp, sp, #48\n"
        "  adr x9, nocfi_stale_ret\n  str x9, [sp]\n  str x9, [sp, #16]\n  str x30, [sp, #40]\n  blr x0\n"
        "  ldr x30, [sp, #40]\n  add sp, sp, #48\n  ret\n.size nocfi_leaf, .-nocfi_leaf\n");
#else
__asm__(".text\n"
        ".globl nocfi_other\n.type nocfi_other,@function\nnocfi_other:\n  ret\n  call nocfi_other\n"
        "nocfi_stale_ret:\n  ret\n.size nocfi_other, .-nocfi_other\n"
        ".globl nocfi_leaf\n.type nocfi_leaf,@function\nnocfi_leaf:\n  sub $40, %rsp\n"
        "  lea nocfi_stale_ret(%rip), %rax\n  mov %rax, (%rsp)\n  mov %rax, 16(%rsp)\n  call *%rdi\n"
        "  add $40, %rsp\n  ret\n.size nocfi_leaf, .-nocfi_leaf\n");
#endif
void nocfi_leaf(void (*fn)(void));

static const char *g_scan_names[32];
static struct lg_frame_record g_scan_frames[32];
static int g_scan_n;
static volatile int g_scan_after;

__attribute__((noinline)) static void scan_bottom(void)
{
    ucontext_t uc;
    getcontext(&uc);
    g_scan_n = walk(&uc, g_scan_names, 32, g_scan_frames);
}

__attribute__((noinline)) void scan_caller(void)
{
    nocfi_leaf(scan_bottom);
    g_scan_after++; /* no tail call: scan_caller's frame is live during the walk */
}

/* The walk leaves code without tables by the checked scan: the caller after a direct call of nocfi_leaf,
 * not the stale return address below it (which follows a call of nocfi_other), with trust "scan"; the
 * tables take over again in the caller. */
static void test_walk_scan_out_of_code_without_tables(void)
{
    scan_caller();
    int leaf = index_of(g_scan_names, g_scan_n, "nocfi_leaf");
    CHECK(index_of(g_scan_names, g_scan_n, "scan_bottom") == 0);
    CHECK(leaf == 1);
    CHECK(leaf > 0 && leaf + 1 < g_scan_n && strcmp(g_scan_names[leaf + 1], "scan_caller") == 0);
    CHECK(leaf > 0 && leaf + 1 < g_scan_n && g_scan_frames[leaf + 1].trust == LG_TRUST_SCAN);
    CHECK(leaf > 0 && leaf + 1 < g_scan_n && g_scan_frames[leaf + 1].sp == g_scan_frames[leaf].sp + 48);
    CHECK(index_of(g_scan_names, g_scan_n, "nocfi_other") < 0);
    CHECK(index_of(g_scan_names, g_scan_n, "main") > leaf + 1);
}

#if defined(__aarch64__)
/* A thread stopped in a PLT stub. GNU ld writes no unwind table for aarch64's .plt, and the stubs leave sp and x30
 * alone: the caller is x30's at the same sp, or 16 bytes higher in the header stub (PLT0) after its stp x16, x30,
 * [sp, #-16]!. plt_caller's call of getppid goes through its stub, found from the bl in plt_caller's code. The
 * stack holds nothing but zeros, so nothing else (the scan, the frame pointer) could find plt_caller. */
__attribute__((noinline)) int plt_caller(void) { return (int)getppid() + g_sink; }

static uint32_t code_at(uint64_t at) { return *(const volatile uint32_t *)(uintptr_t)at; }

static int is_plt_stub(uint64_t at)
{
    return (code_at(at) & 0x9f00001fu) == 0x90000010u && code_at(at + 12) == 0xd61f0220u; /* adrp x16 .. br x17 */
}

static void walk_from_plt(uint64_t pc, uint64_t sp, uint64_t lr, const char *what, uint64_t want_sp)
{
    ucontext_t uc;
    const char *names[8];
    struct lg_frame_record fr[8];
    getcontext(&uc);
    UC_PC(uc) = pc;
    UC_SP(uc) = sp;
    UC_LR(uc) = lr;
    UC_FP(uc) = 0;
    int n = walk(&uc, names, 8, fr);
    CHECK_MSG(n >= 2 && fr[1].pc == lr && strcmp(names[1], "plt_caller") == 0, "%s: %d frames", what, n);
    CHECK_MSG(n >= 2 && fr[1].sp == want_sp, "%s: caller's sp %#lx, not %#lx", what, n >= 2 ? (unsigned long)fr[1].sp : 0ul,
              (unsigned long)want_sp);
}

static void test_walk_out_of_plt_stub(void)
{
    static uint64_t zeros[64];
    uint64_t f = (uint64_t)(uintptr_t)&plt_caller, bl = 0;
    for (uint64_t at = f; at < f + 128 && !bl; at += 4)
        if ((code_at(at) & 0xfc000000u) == 0x94000000u)
            bl = at;
    CHECK_MSG(bl != 0, "%s", "no bl in plt_caller");
    if (!bl)
        return;
    uint64_t stub = bl + (uint64_t)((int64_t)((uint64_t)(code_at(bl) & 0x03ffffffu) << 38) >> 36), plt0 = 0;
    CHECK_MSG(is_plt_stub(stub), "plt_caller's bl at %#lx does not enter a PLT stub", (unsigned long)bl);
    for (uint64_t at = stub; at >= stub - 64 * 16 && !plt0; at -= 16) /* the stubs follow PLT0's 32 bytes */
        if (code_at(at) == 0xa9bf7bf0u && is_plt_stub(at + 4))
            plt0 = at;
    CHECK_MSG(plt0 != 0, "%s", "no PLT0 before the stub");
    uint64_t sp = (uint64_t)(uintptr_t)&zeros[16];
    for (int i = 0; i < 4; i++) /* each instruction of the stub */
        walk_from_plt(stub + 4 * (uint64_t)i, sp, bl + 4, "in the stub", sp);
    walk_from_plt(plt0, sp, bl + 4, "at PLT0's stp", sp);
    walk_from_plt(plt0 + 8, sp, bl + 4, "in PLT0 after its stp", sp + 16);
}
#endif

int main(void)
{
    ss_memread_init(0);
    test_walk_through_own_code();
    test_walk_from_signal_context();
    test_walk_through_signal_frame();
#if defined(__aarch64__)
    test_walk_through_signed_return_address();
    test_walk_out_of_plt_stub();
#endif
    test_walk_garbage_stack();
    test_walk_thread_ends();
    test_walk_scan_out_of_code_without_tables();
    return check_summary();
}
