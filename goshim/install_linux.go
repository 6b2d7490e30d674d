//go:build linux && (amd64 || arm64) && cgo

package lastgasp

/*
#cgo CFLAGS: -I${SRCDIR}/.. -I${SRCDIR}/../reporter -std=gnu11 -D_GNU_SOURCE -O2 -g -fno-omit-frame-pointer
#cgo CFLAGS: -fvisibility=hidden -fno-stack-protector -fno-exceptions
#cgo LDFLAGS: -ldl -lpthread
#include <dlfcn.h>
#include <errno.h>
#include <sys/auxv.h>
#include <stdlib.h>
#include <unistd.h>
#include "lastgasp.h"

int rep_crash_text_fd_nasync(void);
int rep_arm_crash_bit_nasync(int keep);

// Another copy of lastgasp in the process: liblastgasp.so, preloaded, which installed itself before
// the Go runtime started. (This copy's own symbols are not in the dynamic table, so dlsym finds
// only that one.) Two copies would write two dumps of one crash.
static int goshim_other_copy(void)
{
	void *p = dlsym(RTLD_DEFAULT, "lastgasp_install");
	return p && p != (void *)lastgasp_install;
}

static int goshim_install(const char *dir, int environ, int quiet, int *err_no)
{
	struct lastgasp_options o = {dir, environ, quiet};
	errno = 0;
	int rc = lastgasp_install(&o);
	*err_no = errno;
	return rc;
}
*/
import "C"

import (
	"os"
	"syscall"
	"unsafe"
)

// Install installs lastgasp's crash handlers. Call it once, early, from main or an init function.
// It returns nil when crash dumps are on, and otherwise an *InstallError, which errors.Is matches
// with ErrNoDirectory, ErrBadDirectory, ErrAlreadyInstalled (a second call), ...: nothing was
// installed then, and the program runs on without crash dumps.
//
// In a process that liblastgasp.so was preloaded into (LD_PRELOAD), the preloaded library is
// there first and writes the dumps, as its LASTGASP_* variables say: Install installs nothing,
// ignores o, and returns nil, since dumps are on (Preloaded tells this case apart).
func Install(o Options) error {
	if preloaded() {
		return nil
	}
	dir := C.CString(o.Dir)
	defer C.free(unsafe.Pointer(dir))
	var errno C.int
	rc := C.goshim_install(dir, cbool(o.IncludeEnviron), cbool(o.Quiet), &errno)
	if rc != 0 {
		e := &InstallError{Code: int(rc), Msg: C.GoString(C.lastgasp_strerror(rc)), Dir: o.Dir}
		if errno != 0 && rc != C.LASTGASP_ERR_INSTALLED {
			e.Err = syscall.Errno(errno)
		}
		return e
	}
	// The runtime has parsed GOTRACEBACK: add the crash bit to the level it chose (see lastgasp.go).
	C.rep_arm_crash_bit_nasync(cbool(o.KeepTraceback))
	if !o.NoCrashOutput {
		copyCrashOutput()
	}
	return nil
}

// crashOutputFile opens the memory file the handler reads the runtime's crash output from.
func crashOutputFile() *os.File {
	fd := C.rep_crash_text_fd_nasync()
	if fd < 0 {
		return nil
	}
	dup := C.dup(fd) // the runtime keeps its own copy; ours is closed with the *os.File
	if dup < 0 {
		return nil
	}
	return os.NewFile(uintptr(dup), "lastgasp-go-crash-output")
}

// secureMode says whether the program runs in secure-execution mode (setuid, setgid, file capabilities):
// then its environment comes from whoever started it, and LASTGASP_* must not choose where it writes.
func secureMode() bool { return C.getauxval(C.AT_SECURE) != 0 }

// preloaded: another copy of lastgasp (liblastgasp.so, LD_PRELOAD) is in the process.
func preloaded() bool { return C.goshim_other_copy() != 0 }

// byCode (lastgasp.go) is indexed by lastgasp.h's codes: these fail to compile (negative constant to
// uint) if one side changes alone.
const (
	_ = uint(C.LASTGASP_ERR_NO_DIR-1) + uint(1-C.LASTGASP_ERR_NO_DIR)
	_ = uint(C.LASTGASP_ERR_DIR-2) + uint(2-C.LASTGASP_ERR_DIR)
	_ = uint(C.LASTGASP_ERR_DIR_WRITE-3) + uint(3-C.LASTGASP_ERR_DIR_WRITE)
	_ = uint(C.LASTGASP_ERR_MEMORY-4) + uint(4-C.LASTGASP_ERR_MEMORY)
	_ = uint(C.LASTGASP_ERR_SIGNALS-5) + uint(5-C.LASTGASP_ERR_SIGNALS)
	_ = uint(C.LASTGASP_ERR_MEMREAD-6) + uint(6-C.LASTGASP_ERR_MEMREAD)
	_ = uint(C.LASTGASP_ERR_INSTALLED-7) + uint(7-C.LASTGASP_ERR_INSTALLED)
	_ = uint(C.LASTGASP_ERR_ANNOTATION-8) + uint(8-C.LASTGASP_ERR_ANNOTATION)
	_ = uint(C.LASTGASP_ERR_ANNOTATION_FULL-9) + uint(9-C.LASTGASP_ERR_ANNOTATION_FULL)
	_ = uint(C.LASTGASP_ERR_SECURE-10) + uint(10-C.LASTGASP_ERR_SECURE)
	_ = uint(len(byCode) - 11) // one past the last code
)

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
