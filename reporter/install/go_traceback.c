/* go_traceback.c — the Go runtime's traceback word, and the crash bit lastgasp adds to it.
 *
 * Normal context only (install and arm): libc is allowed, every function that runs in the process is
 * named *_nasync; go_traceback_words is a pure function, also used by tests/go/offsets.
 *
 * Why (issue 10). An unrecovered panic or fatal error exits with status 2 and raises no signal, so an
 * in-process reporter never sees it, unless the traceback level has the "crash" bit: then the runtime
 * ends in crash() -> SIGABRT after printing exactly what it prints without the bit. The runtime keeps
 * the level in one word (runtime1.go, unchanged 1.20-1.27):
 *     traceback_cache = level << 2 | tracebackAll (2) | tracebackCrash (1)
 *     traceback_env   = the floor GOTRACEBACK set, ORed into every later debug.SetTraceback
 * lastgasp ORs the crash bit into both after the runtime has parsed GOTRACEBACK (so the level the user
 * chose stays), reports the SIGABRT, then ends the process with exit status 2 itself (go_exit.c).
 *
 * Where the words are: runtime.traceback_cache and runtime.traceback_env in .symtab; in a stripped
 * binary, from the code of the function that does `traceback_env = traceback_cache` once GOTRACEBACK is
 * parsed (runtime.parsedebugvars up to Go 1.24, runtime.finishDebugVarsSetup since 1.25; found by name in the
 * pclntab, which stripping keeps). On amd64 that line compiles to a RIP-relative 32-bit load directly
 * followed by a RIP-relative 32-bit store of the same register:
 *     [REX] 8B /r (mod 00, rm 101) disp32     MOVL runtime.traceback_cache(SB), reg
 *     [REX] 89 /r (mod 00, rm 101) disp32     MOVL reg, runtime.traceback_env(SB)
 * On arm64 it is a page address and a 32-bit load from it, then the same for the store:
 *     ADRP Xa, cache@page; LDR Wr, [Xa, #cache@lo12]; ADRP Xb, env@page; STR Wr, [Xb, #env@lo12]
 * (checked against the symbols for every Go version from 1.22 to 1.27 by tests/go/offsets/run.sh, on
 * both architectures). Both ways are validated: inside a writable segment of the executable, and the
 * values coherent.
 */
#include "../go/go_capture.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

/* One RIP-relative 32-bit MOV at code[i] with opcode `op`: its register (0-15), its target, its length. */
static int rip_mov(const uint8_t *code, size_t len, size_t i, uint8_t op, uint64_t addr, int *reg,
                   uint64_t *target, size_t *n)
{
    size_t k = i;
    int rex = 0;
    if (k < len && (code[k] & 0xf0) == 0x40) {
        rex = code[k];
        if (rex & 8) /* REX.W: a 64-bit move, not this one */
            return 0;
        k++;
    }
    if (k + 6 > len || code[k] != op || (code[k + 1] & 0xc7) != 0x05)
        return 0;
    int32_t disp;
    memcpy(&disp, code + k + 2, 4);
    *reg = ((code[k + 1] >> 3) & 7) | ((rex & 4) ? 8 : 0);
    *n = k + 6 - i;
    *target = addr + i + *n + (uint64_t)(int64_t)disp;
    return 1;
}

/* Find `MOVL cache, reg; MOVL reg, env` in the code of that function (len bytes at run-time
 * address addr). Returns 0 and both addresses, or -1. Pure: no process state. */
int go_traceback_words(const uint8_t *code, size_t len, uint64_t addr, uint64_t *cache, uint64_t *env)
{
    for (size_t i = 0; i + 12 <= len; i++) {
        int r1, r2;
        size_t n1, n2;
        uint64_t from, to;
        if (rip_mov(code, len, i, 0x8b, addr, &r1, &from, &n1) &&
            rip_mov(code, len, i + n1, 0x89, addr, &r2, &to, &n2) && r1 == r2 && from != to) {
            *cache = from;
            *env = to;
            return 0;
        }
    }
    return -1;
}

/* One arm64 ADRP Xd at code[i] (run-time address pc) followed by a 32-bit LDR/STR (unsigned offset,
 * `opc` 0xb94 or 0xb90 in bits 31-22) based on Xd: its data register and target. */
static int adrp_ldst32(const uint8_t *code, size_t len, size_t i, uint64_t pc, uint32_t opc, int *reg,
                       uint64_t *target)
{
    uint32_t a, m;
    if (i + 8 > len)
        return 0;
    memcpy(&a, code + i, 4);
    memcpy(&m, code + i + 4, 4);
    if ((a & 0x9f000000u) != 0x90000000u || (m >> 22) != opc || ((m >> 5) & 31) != (a & 31))
        return 0;
    int64_t page = (int64_t)((((a >> 5) & 0x7ffffu) << 2) | ((a >> 29) & 3u));
    if (page & (1 << 20))
        page -= 1 << 21;
    *reg = (int)(m & 31);
    *target = (pc & ~0xfffull) + (uint64_t)(page * 4096) + ((m >> 10) & 0xfffu) * 4;
    return 1;
}

/* go_traceback_words for arm64 code (see the top). Pure, as the amd64 one, and built on every
 * architecture: tests/go/offsets checks it against the symbols of arm64 binaries. */
int go_traceback_words_arm64(const uint8_t *code, size_t len, uint64_t addr, uint64_t *cache, uint64_t *env)
{
    for (size_t i = 0; i + 16 <= len; i += 4) {
        int r1, r2;
        uint64_t from, to;
        if (adrp_ldst32(code, len, i, addr + i, 0x2e5 /* LDR Wt */, &r1, &from) &&
            adrp_ldst32(code, len, i + 8, addr + i + 8, 0x2e4 /* STR Wt */, &r2, &to) && r1 == r2 && from != to) {
            *cache = from;
            *env = to;
            return 0;
        }
    }
    return -1;
}

/* The executable's load bias: AT_PHDR minus the PT_PHDR vaddr (go_install.c uses it too). */
uint64_t rep_exe_bias_nasync(void)
{
    const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
    unsigned long n = getauxval(AT_PHNUM);
    for (unsigned long i = 0; ph && i < n; i++)
        if (ph[i].p_type == PT_PHDR)
            return (uint64_t)(uintptr_t)ph - ph[i].p_vaddr;
    return 0;
}

/* Is [a, a+4) inside a writable PT_LOAD of the executable? */
static int in_writable_segment_nasync(uint64_t a)
{
    const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
    unsigned long n = getauxval(AT_PHNUM);
    uint64_t bias = rep_exe_bias_nasync();
    for (unsigned long i = 0; ph && i < n; i++)
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_W) && a >= bias + ph[i].p_vaddr &&
            a + 4 <= bias + ph[i].p_vaddr + ph[i].p_memsz && (a & 3) == 0)
            return 1;
    return 0;
}

#if defined(__aarch64__)
#define GO_TRACEBACK_WORDS go_traceback_words_arm64
#else
#define GO_TRACEBACK_WORDS go_traceback_words
#endif

/* At install (before or after the runtime started): where the words are. sym_cache/sym_env come from
 * .symtab (0 when stripped); code is the function above. The symbols win; the code must agree with
 * them when both exist (a disagreement means the decoding is wrong for this build: trust neither). */
void rep_go_traceback_find_nasync(struct rep_go *go, uint64_t sym_cache, uint64_t sym_env, uint64_t code_lo,
                                  uint64_t code_hi)
{
    uint64_t c = 0, e = 0;
    int decoded = code_lo && code_hi > code_lo && code_hi - code_lo < (1u << 20) &&
                  GO_TRACEBACK_WORDS((const uint8_t *)(uintptr_t)code_lo, code_hi - code_lo, code_lo, &c, &e) == 0;
    if (sym_cache && sym_env) {
        if (decoded && (c != sym_cache || e != sym_env)) {
            snprintf(go->tb_why, sizeof go->tb_why, "the traceback word's code does not match its symbols");
            return;
        }
        c = sym_cache;
        e = sym_env;
    } else if (!decoded) {
        snprintf(go->tb_why, sizeof go->tb_why, "the runtime's traceback word was not found");
        return;
    }
    if (!in_writable_segment_nasync(c) || !in_writable_segment_nasync(e)) {
        snprintf(go->tb_why, sizeof go->tb_why, "the runtime's traceback word is not in writable data");
        return;
    }
    go->tb_cache = c;
    go->tb_env = e;
}

/* Once the runtime has parsed GOTRACEBACK and before user code runs (preload: at its first thread;
 * goshim: in Install): add the crash bit, unless the user's level already has it (then the crash is
 * theirs: SIGABRT as they asked) or keep is set (LASTGASP_KEEP_TRACEBACK). Returns the state set. */
int rep_go_crash_bit_arm_nasync(struct rep_go *go, int keep)
{
    if (go->crash_bit != REP_GO_CRASH_BIT_NONE || keep)
        return go->crash_bit;
    if (!go->tb_cache) {
        fprintf(stderr, "lastgasp: %s: Go panics and fatal errors will not be dumped (fatal signals still are)\n",
                go->tb_why[0] ? go->tb_why : "the runtime's traceback word is unknown");
        return go->crash_bit;
    }
    volatile uint32_t *cache = (volatile uint32_t *)(uintptr_t)go->tb_cache;
    volatile uint32_t *env = (volatile uint32_t *)(uintptr_t)go->tb_env;
    uint32_t c = __atomic_load_n(cache, __ATOMIC_SEQ_CST), e = __atomic_load_n(env, __ATOMIC_SEQ_CST);
    if ((e & ~c) != 0 || (c >> 2) > 255) { /* env is a floor of cache; a level is small */
        snprintf(go->tb_why, sizeof go->tb_why, "the runtime's traceback word holds unexpected values");
        fprintf(stderr, "lastgasp: %s: Go panics and fatal errors will not be dumped (fatal signals still are)\n",
                go->tb_why);
        return go->crash_bit;
    }
    if (c & REP_GO_TB_CRASH) {
        __atomic_store_n(&go->crash_bit, REP_GO_CRASH_BIT_USER, __ATOMIC_RELEASE);
    } else {
        go->tb_armed = c | REP_GO_TB_CRASH;
        __atomic_fetch_or(env, REP_GO_TB_CRASH, __ATOMIC_SEQ_CST);
        __atomic_fetch_or(cache, REP_GO_TB_CRASH, __ATOMIC_SEQ_CST);
        __atomic_store_n(&go->crash_bit, REP_GO_CRASH_BIT_OURS, __ATOMIC_RELEASE);
    }
    return go->crash_bit;
}
