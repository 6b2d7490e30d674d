//go:build linux && (amd64 || arm64) && cgo

package lastgasp

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// The crash tests run this test binary again as a child (TestMain) that installs lastgasp and
// then does what LASTGASP_TEST_CHILD names; the parent checks how the child ended.
func TestMain(m *testing.M) {
	if what := os.Getenv("LASTGASP_TEST_CHILD"); what != "" {
		child(what)
		os.Exit(99) // not reached by a child that should die
	}
	if os.Getenv("LASTGASP_TEST_INPROCESS") != "" { // TestInstallInProcess's own process
		os.Exit(m.Run())
	}
	// The tests and the examples that run here leave this process without lastgasp: what installs,
	// installs in a child. A crash handler here would turn a failing test's crash into a dump.
	segv, abrt := rawSigaction(syscall.SIGSEGV), rawSigaction(syscall.SIGABRT)
	code := m.Run()
	if rawSigaction(syscall.SIGSEGV) != segv || rawSigaction(syscall.SIGABRT) != abrt {
		fmt.Println("FAIL: a test or example installed a crash handler in the go test process")
		code = 1
	}
	os.Exit(code)
}

var (
	nilNode *struct{ next *int }
	sinkInt int
)

func child(what string) {
	if err := Install(Options{Dir: os.Getenv("LASTGASP_TEST_DIR"), Quiet: true}); err != nil {
		fmt.Println("install:", err)
		os.Exit(98)
	}
	SetAnnotation("request_id", "req-4711")
	switch what {
	case "panic":
		panic("goshim test panic")
	case "recover":
		for i := 0; i < 100; i++ { // a nil dereference becomes a panic that recover() catches
			func() {
				defer func() {
					if recover() == nil {
						os.Exit(97)
					}
				}()
				sinkInt = *nilNode.next
			}()
		}
		os.Exit(0)
	case "notify":
		c := make(chan os.Signal, 2) // delivery drops a signal when the channel is full
		signal.Notify(c, syscall.SIGTERM, syscall.SIGUSR1)
		syscall.Kill(os.Getpid(), syscall.SIGUSR1)
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		got := map[os.Signal]bool{}
		for len(got) < 2 {
			select {
			case s := <-c:
				got[s] = true
			case <-time.After(10 * time.Second):
				os.Exit(96)
			}
		}
		os.Exit(0)
	case "keep":
		// KeepTraceback: Install was called without it above; a second process checks the option.
	}
	os.Exit(95)
}

func runChild(t *testing.T, what string, extra ...string) (*os.ProcessState, string, []string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LASTGASP_TEST_CHILD="+what, "LASTGASP_TEST_DIR="+dir, "GOTRACEBACK=")
	cmd.Env = append(cmd.Env, extra...)
	out, _ := cmd.CombinedOutput()
	dumps, _ := filepath.Glob(filepath.Join(dir, "*.dmp"))
	return cmd.ProcessState, string(out), dumps
}

func TestUnrecoveredPanicWritesADumpAndExits2(t *testing.T) {
	st, out, dumps := runChild(t, "panic")
	ws := st.Sys().(syscall.WaitStatus)
	if ws.Signaled() || ws.ExitStatus() != 2 {
		t.Fatalf("child ended with %v, want exit status 2, as without lastgasp\n%s", st, out)
	}
	if !strings.Contains(out, "panic: goshim test panic") {
		t.Errorf("the runtime's own panic message is missing:\n%s", out)
	}
	if len(dumps) != 1 {
		t.Fatalf("want one dump, got %v", dumps)
	}
	b, err := os.ReadFile(dumps[0])
	if err != nil || len(b) < 32 || string(b[:4]) != "MDMP" {
		t.Fatalf("not a minidump: %v %q", err, b[:min(len(b), 4)])
	}
	if !strings.Contains(string(b), "request_id") || !strings.Contains(string(b), "req-4711") {
		t.Errorf("the dump does not hold the annotation set before the crash")
	}
	if !strings.Contains(string(b), "goshim test panic") {
		t.Errorf("the dump does not hold the runtime's crash output (debug.SetCrashOutput)")
	}
}

func TestRecoverStillWorks(t *testing.T) {
	st, out, dumps := runChild(t, "recover")
	if st.ExitCode() != 0 || len(dumps) != 0 {
		t.Fatalf("exit %v, dumps %v\n%s", st, dumps, out)
	}
}

func TestSignalNotifyStillWorks(t *testing.T) {
	st, out, dumps := runChild(t, "notify")
	if st.ExitCode() != 0 || len(dumps) != 0 {
		t.Fatalf("exit %v, dumps %v\n%s", st, dumps, out)
	}
}

// The kernel's view of a disposition (struct kernel_sigaction on amd64).
type kaction struct {
	handler, flags, restorer uintptr
	mask                     uint64
}

func sigaction(t *testing.T, sig syscall.Signal) kaction {
	var k kaction
	if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafe.Pointer(&k)), 8, 0, 0); e != 0 {
		t.Fatal(e)
	}
	return k
}

func rawSigaction(sig syscall.Signal) kaction {
	var k kaction
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafe.Pointer(&k)), 8, 0, 0)
	return k
}

// sigmasks reads every thread's blocked-signal mask once the runtime has settled: a thread the
// runtime is starting has every signal blocked for a moment, so read until two readings agree.
func sigmasks(t *testing.T) map[string]string {
	prev := sigmasksOnce(t)
	for i := 0; i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
		cur := sigmasksOnce(t)
		if fmt.Sprint(cur) == fmt.Sprint(prev) {
			return cur
		}
		prev = cur
	}
	t.Fatal("the threads' signal masks never settled")
	return nil
}

func sigmasksOnce(t *testing.T) map[string]string {
	m := map[string]string{}
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "SigBlk:") {
				m[f] = l
			}
		}
	}
	return m
}

// Install in a process of its own (this test, run again) and inspect what Install changed there;
// the test process itself stays without lastgasp for the examples.
func TestInstallInProcess(t *testing.T) {
	if os.Getenv("LASTGASP_TEST_INPROCESS") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestInstallInProcess$")
		cmd.Env = append(os.Environ(), "LASTGASP_TEST_INPROCESS=1", "GOTRACEBACK=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return
	}
	if Preloaded() {
		t.Fatal("Preloaded() in a process without LD_PRELOAD")
	}
	var ie *InstallError
	if err := Install(Options{}); !errors.Is(err, ErrNoDirectory) || errors.Is(err, ErrBadDirectory) {
		t.Fatalf("no dir: %v", err)
	}
	if err := Install(Options{Dir: "/nonexistent/lastgasp"}); !errors.Is(err, ErrBadDirectory) ||
		!errors.Is(err, syscall.ENOENT) || !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &ie) || ie.Code != 2 {
		t.Fatalf("missing dir: %v", err)
	}
	// Not writable, even by root: procfs refuses write access to a process's directory.
	if err := Install(Options{Dir: "/proc/self"}); !errors.Is(err, ErrBadDirectory) || !errors.As(err, &ie) ||
		ie.Code != 3 {
		t.Fatalf("read-only dir: %v", err)
	}
	goSegv := sigaction(t, syscall.SIGSEGV)
	before := sigmasks(t)
	if err := Install(Options{Dir: t.TempDir(), Quiet: true}); err != nil {
		t.Fatal(err)
	}
	after := sigmasks(t)
	for task, mask := range before {
		if a, ok := after[task]; ok && a != mask {
			t.Errorf("%s: signal mask changed from %q to %q", task, mask, a)
		}
	}
	const saSiginfo, saOnstack = 0x4, 0x08000000
	for _, sig := range []syscall.Signal{syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGILL,
		syscall.SIGABRT, syscall.SIGTRAP, syscall.SIGSYS} {
		k := sigaction(t, sig)
		if k.flags&(saSiginfo|saOnstack) != saSiginfo|saOnstack {
			t.Errorf("%v: flags %#x lack SA_SIGINFO|SA_ONSTACK (the runtime throws without SA_ONSTACK)", sig, k.flags)
		}
		if sig == syscall.SIGSEGV && k.handler == goSegv.handler {
			t.Errorf("SIGSEGV: the handler is still the runtime's")
		}
	}
	err := Install(Options{Dir: t.TempDir()})
	if !errors.Is(err, ErrAlreadyInstalled) || errors.Is(err, ErrBadDirectory) || !errors.As(err, &ie) ||
		ie.Err != nil {
		t.Fatalf("second install: %v", err)
	}
	// A nil dereference in this very process is still a recoverable panic.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("nil dereference was not recovered")
			}
		}()
		sinkInt = *nilNode.next
	}()
}

// SetAnnotation from many goroutines at once, as a service does per request: every call succeeds
// (the keys fit the table). What a crash copies meanwhile is tests/unit/test_annotate's subject
// (writers that never stop, under ThreadSanitizer too).
func TestAnnotationsFromManyGoroutines(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				if err := SetAnnotation(fmt.Sprintf("worker%d", g), fmt.Sprintf("request %d", i)); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for g := 0; g < 8; g++ {
		SetAnnotation(fmt.Sprintf("worker%d", g), "") // free the slots for the other tests
	}
}

func TestAnnotationBounds(t *testing.T) {
	if err := SetAnnotation("", "v"); err == nil {
		t.Error("empty key accepted")
	}
	if err := SetAnnotation(strings.Repeat("k", MaxAnnotationKey+1), "v"); err == nil {
		t.Error("long key accepted")
	}
	if err := SetAnnotation("k", strings.Repeat("v", MaxAnnotationValue+1)); err == nil {
		t.Error("long value accepted")
	}
	if err := SetAnnotation("k", "v"); err != nil {
		t.Error(err)
	}
	if err := SetAnnotation("k", ""); err != nil { // removes it
		t.Error(err)
	}
}

// Each of lastgasp.h's codes, as an *InstallError or *AnnotationError, matches its error value and no
// other (lastgasp.h: 2, cannot be opened, and 3, not writable, are both a bad directory).
func TestErrorValuesByCode(t *testing.T) {
	values := map[string]error{"ErrUnsupported": ErrUnsupported, "ErrNoDirectory": ErrNoDirectory,
		"ErrBadDirectory": ErrBadDirectory, "ErrNoMemory": ErrNoMemory, "ErrSignals": ErrSignals,
		"ErrMemRead": ErrMemRead, "ErrAlreadyInstalled": ErrAlreadyInstalled, "ErrSecureMode": ErrSecureMode,
		"ErrBadAnnotation": ErrBadAnnotation, "ErrAnnotationsFull": ErrAnnotationsFull}
	want := map[int]string{1: "ErrNoDirectory", 2: "ErrBadDirectory", 3: "ErrBadDirectory", 4: "ErrNoMemory",
		5: "ErrSignals", 6: "ErrMemRead", 7: "ErrAlreadyInstalled", 8: "ErrBadAnnotation",
		9: "ErrAnnotationsFull", 10: "ErrSecureMode"}
	for code := -1; code <= 12; code++ {
		for name, v := range values {
			for _, err := range []error{&InstallError{Code: code}, &AnnotationError{Code: code}} {
				if got := errors.Is(err, v); got != (want[code] == name) {
					t.Errorf("code %d: errors.Is(%T, %s) = %v", code, err, name, got)
				}
			}
		}
	}
}

// SetAnnotation's two refusals, each its own error value, and the table keeps its bound.
func TestAnnotationErrorValues(t *testing.T) {
	if err := SetAnnotation("", "v"); !errors.Is(err, ErrBadAnnotation) || errors.Is(err, ErrAnnotationsFull) {
		t.Errorf("empty key: %v", err)
	}
	if err := SetAnnotation("k", strings.Repeat("v", MaxAnnotationValue+1)); !errors.Is(err, ErrBadAnnotation) {
		t.Errorf("long value: %v", err)
	}
	defer func() {
		for i := 0; i <= MaxAnnotations; i++ {
			SetAnnotation(fmt.Sprintf("full%d", i), "")
		}
	}()
	for i := 0; i < MaxAnnotations; i++ {
		if err := SetAnnotation(fmt.Sprintf("full%d", i), "v"); err != nil {
			t.Fatalf("key %d of %d: %v", i+1, MaxAnnotations, err)
		}
	}
	err := SetAnnotation(fmt.Sprintf("full%d", MaxAnnotations), "v")
	if !errors.Is(err, ErrAnnotationsFull) || errors.Is(err, ErrBadAnnotation) {
		t.Errorf("key %d: %v", MaxAnnotations+1, err)
	}
}
