#!/usr/bin/env python3
"""gen_stacks.py — writes the C workload of the unwinder's differential test (tests/unwind/README.md).

One chain of NFUNCS functions, chain_0 calls chain_1 ... calls chain_<NFUNCS-1>, which calls unwdiff_bottom(); each
link is one of the frame shapes below, chosen by a fixed seed so every build compiles the same program. The same
source is built -O0 and -O2, with and without frame pointers (the Makefile's unwdiff variants); the shapes are
those whose unwind tables differ: frame size, callee-saved registers, alloca (the CFA moves to rbp even without
frame pointers), variadic, arguments on the stack, recursion, a call through a pointer, a call whose block GCC
moves to a .cold part, a call through the PLT into a shared library that calls back (unwdiff_plt_call), and a
callback from libc (qsort's comparison function calls the next link).

Every link uses what its callee returned, so no call is a tail call and every link keeps a frame on the stack
when unwdiff_bottom runs; links are noinline, so a frame's function is the link's own (GCC may still rename a
static one with a suffix: .isra.0, .constprop.0, .part.0, which the test strips). The expected chain, innermost
first, is written as unwdiff_expected[] for the test's check against the source.

usage: gen_stacks.py > stacks.c
"""
import random
import sys

NFUNCS = 40
SEED = 12

# Each shape appears at least twice; the rest are drawn at random.
SHAPES = ["plain", "bigframe", "saved", "alloca", "variadic", "stackargs", "recursive", "pointer", "cold",
          "plt", "qsort"]


def link(i, shape, rnd, out):
    """Emit chain_<i>, calling chain_<i+1> (or unwdiff_bottom). Returns the names it puts on the stack, innermost
    first (helpers of the link included)."""
    nxt = "chain_%d" % (i + 1) if i + 1 < NFUNCS else "unwdiff_bottom"
    f = "chain_%d" % i
    w = out.append
    names = [f]
    if shape == "plain":
        size = rnd.choice([8, 24, 72, 200])
        w("__attribute__((noinline)) int %s(int x)\n{\n    volatile char pad[%d];\n    pad[(unsigned)x %% %d] = (char)x;\n"
          "    int r = %s(x + 1);\n    return r + pad[(unsigned)(x + 1) %% %d];\n}\n" % (f, size, size, nxt, size))
    elif shape == "bigframe":
        size = rnd.choice([5000, 20000])
        w("__attribute__((noinline)) int %s(int x)\n{\n    volatile char big[%d];\n    big[0] = (char)x;\n"
          "    big[%d] = (char)(x >> 1);\n    int r = %s(x + 2);\n    return r + big[0] + big[%d];\n}\n"
          % (f, size, size - 1, nxt, size - 1))
    elif shape == "saved":
        # Values live across the call: at -O2 they sit in callee-saved registers, pushed in the prologue.
        w("__attribute__((noinline)) int %s(int x)\n{\n"
          "    int a = x * 3, b = x * 5, c = x * 7, d = x * 11, e = x * 13, g = x * 17;\n"
          "    int r = %s(x + a - b);\n    return r + a * b + c * d + e * g + (a ^ g);\n}\n" % (f, nxt))
    elif shape == "alloca":
        w("__attribute__((noinline)) int %s(int x)\n{\n    volatile char *p = alloca(32 + (unsigned)(x & 63) * 16);\n"
          "    p[0] = (char)x;\n    unwdiff_keep((void *)p);\n    int r = %s(x + 3);\n    return r + p[0];\n}\n"
          % (f, nxt))
    elif shape == "variadic":
        h = f + "_va"
        w("__attribute__((noinline)) static int %s(int n, ...)\n{\n    va_list ap;\n    va_start(ap, n);\n"
          "    int s = 0;\n    for (int k = 0; k < n; k++)\n        s += va_arg(ap, int);\n    va_end(ap);\n"
          "    int r = %s(s);\n    return r + s;\n}\n" % (h, nxt))
        w("__attribute__((noinline)) int %s(int x) { int r = %s(5, x, 1, 2, 3, 4); return r - 1; }\n" % (f, h))
        names = [h, f]
    elif shape == "stackargs":
        h = f + "_args"
        w("__attribute__((noinline)) static int %s(int a, int b, int c, int d, int e, int g, int h, int i, int j,"
          " int k)\n{\n    int r = %s(a + b + c + d + e + g + h + i + j + k);\n    return r + (a ^ k);\n}\n"
          % (h, nxt))
        w("__attribute__((noinline)) int %s(int x)\n{\n    int r = %s(x, 1, 2, 3, 4, 5, 6, 7, 8, x);\n"
          "    return r + 1;\n}\n" % (f, h))
        names = [h, f]
    elif shape == "recursive":
        depth = rnd.choice([2, 3, 5])
        h = f + "_rec"
        w("__attribute__((noinline)) static int %s(int x, int d)\n{\n    volatile int v = d;\n"
          "    int r = d > 0 ? %s(x + 1, d - 1) : %s(x);\n    return r + v;\n}\n" % (h, h, nxt))
        w("__attribute__((noinline)) int %s(int x) { int r = %s(x, %d); return r * 2; }\n" % (f, h, depth))
        names = [h] * (depth + 1) + [f]
    elif shape == "pointer":
        w("static int (*volatile %s_next)(int) = %s;\n" % (f, nxt))
        w("__attribute__((noinline)) int %s(int x)\n{\n    int r = %s_next(x ^ 5);\n    return r + 7;\n}\n" % (f, f))
    elif shape == "cold":
        # unwdiff_always is 1 at run time, but GCC believes the branch is never taken and moves it to chain_<i>.cold.
        w("__attribute__((noinline)) int %s(int x)\n{\n    int r = x;\n    if (__builtin_expect(unwdiff_always, 0))\n"
          "        r = %s(x + 9) * 3;\n    return r + 1;\n}\n" % (f, nxt))
    elif shape == "plt":
        w("__attribute__((noinline)) int %s(int x)\n{\n    int r = unwdiff_plt_call(%s, x + 4);\n    return r + 2;\n}\n"
          % (f, nxt))
        names = ["unwdiff_plt_call", f]
    elif shape == "qsort":
        cmp = f + "_cmp"
        w("static int %s_x, %s_r, %s_called;\n" % (f, f, f))
        w("static int %s(const void *a, const void *b)\n{\n    if (!%s_called) {\n        %s_called = 1;\n"
          "        %s_r = %s(%s_x);\n    }\n    return *(const int *)a - *(const int *)b;\n}\n"
          % (cmp, f, f, f, nxt, f))
        w("__attribute__((noinline)) int %s(int x)\n{\n    int v[8] = {7, 3, 5, 1, 8, 2, 6, 4};\n"
          "    %s_x = x;\n    %s_called = 0;\n    qsort(v, 8, sizeof v[0], %s);\n    return %s_r + v[0];\n}\n"
          % (f, f, f, cmp, f))
        names = [cmp, "*", f]  # "*": libc's own frames (qsort and its helpers), as many as it has
    w("\n")
    return names


def main():
    rnd = random.Random(SEED)
    shapes = SHAPES * 2 + [rnd.choice(SHAPES) for _ in range(NFUNCS - 2 * len(SHAPES))]
    rnd.shuffle(shapes)
    out = []
    w = out.append
    w("/* Generated by tests/unwind/gen_stacks.py (seed %d): do not edit. */\n" % SEED)
    w("#include <alloca.h>\n#include <stdarg.h>\n#include <stdlib.h>\n\n#include \"unwdiff.h\"\n\n")
    for i in range(NFUNCS):
        w("int chain_%d(int x);\n" % i)
    w("\n")
    per_link = [link(i, shapes[i], rnd, out) for i in range(NFUNCS)]
    inner_first = [n for names in reversed(per_link) for n in names]
    w = out.append
    w("/* The chain's frames from unwdiff_bottom's caller outwards; \"*\" stands for any number of libc frames. */\n")
    w("const char *const unwdiff_expected[] = {\n")
    for n in inner_first:
        w("    \"%s\",\n" % n)
    w("    0,\n};\n")
    w("const int unwdiff_nlinks = %d;\n" % NFUNCS)
    w("const char *const unwdiff_shapes = \"%s\";\n" % " ".join(shapes))
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
