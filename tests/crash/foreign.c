/* foreign.c — a program that Breakpad's own client reports on, not lastgasp: its dump is a foreign dump for
 * `lastgasp show/json` (tests/crash/test_foreign.py). Built with frame pointers, so that a frame-pointer walk
 * must find the same stack as Breakpad's minidump_stackwalk with symbols (call frame info):
 * foreign_inner <- foreign_middle <- foreign_outer <- main. foreign_inner calls a function before it crashes:
 * GCC gives a leaf function no frame pointer even with -fno-omit-frame-pointer, and a walk without CFI then
 * misses the leaf's caller (Breakpad's without symbols too).
 * Usage: foreign DIR — Breakpad writes its minidump into DIR, then the process dies of SIGSEGV.
 */
#include <stdio.h>

int crashbench_breakpad_install(const char *dir); /* tests/bench/breakpad_on.cc */

/* Through a volatile global, so the compiler cannot see the null write coming. */
int *volatile foreign_target;
volatile int foreign_sink;

__attribute__((noinline)) void foreign_touch(int n)
{
    foreign_sink = n;
}

__attribute__((noinline)) void foreign_inner(int n)
{
    foreign_touch(n);
    *foreign_target = n;
    foreign_sink = n;
}

__attribute__((noinline)) void foreign_middle(int n)
{
    foreign_inner(n + 1);
    foreign_sink = n;
}

__attribute__((noinline)) void foreign_outer(int n)
{
    foreign_middle(n + 1);
    foreign_sink = n;
}

int main(int argc, char **argv)
{
    if (argc != 2 || crashbench_breakpad_install(argv[1]) != 0) {
        fprintf(stderr, "usage: foreign DIR\n");
        return 2;
    }
    foreign_outer(argc);
    return 0;
}
