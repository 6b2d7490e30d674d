"""What the pytest suites share, as one package (tests/pytest.ini puts tests/ on the import path):

    readers       run the crash programs with and without lastgasp; read dumps with lastgasp, Breakpad,
                  rust-minidump and LLDB
    scenarios     the C crasher's scenarios and the same-death check of the crash matrix
    harness       the hardening suite's runs: one scenario without and with lastgasp, compared
    go_traceback  the Go runtime's crash output, parsed (a command too: see its docstring)
    go_fidelity   a dump's goroutines against that traceback
    browser       headless Chromium for the html pages
    arm64         what make ARCH=arm64 builds, run under qemu-user: the crash programs and the arm64 tool
    foreign       a dump written by another writer (Breakpad's client)
    armvm         an arm64 machine with a real kernel (qemu-system), running programs in one boot
    suites        another suite's test module, loaded by path for what it defines

Helpers of one suite alone stay beside it (tests/ship/bugsink.py, crashserver.py).
"""
