// breakpad_on.cc — Breakpad's in-process client for the crash benchmark (crashbench_breakpad):
// an ExceptionHandler writing a minidump into DIR, set up the way its README shows, so that
// the benchmark compares lastgasp with Breakpad's client on the same program in the same run.
// Benchmark only: built by tests/bench/breakpad_client.sh, never part of lastgasp.
#include "client/linux/handler/exception_handler.h"

extern "C" int crashbench_breakpad_install(const char *dir)
{
    static google_breakpad::MinidumpDescriptor *descriptor = new google_breakpad::MinidumpDescriptor(dir);
    // No filter, no callback (the signal goes on to kill the process), in-process writer (server_fd -1).
    static google_breakpad::ExceptionHandler *handler =
        new google_breakpad::ExceptionHandler(*descriptor, nullptr, nullptr, nullptr, true, -1);
    return handler ? 0 : -1;
}
