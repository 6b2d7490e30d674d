// Command pcln checks lastgasp's Go pclntab reader (reporter/go/go_pcln.c, reporter/install/go_inspect.c)
// against the Go runtime's own symbolization, in the running process.
//
// It finds the module with go_pcln_find_nasync (and with each of its methods alone), then compares
// go_frames_at with runtime.CallersFrames for every pc of many stacks (inlined frames, methods,
// closures, generics, goroutines, a recovered sigpanic), and for pcs across every function of the
// binary; go_findfunc with runtime.FuncForPC; the version with runtime.Version. Last, it runs the
// reader on copies of the tables fenced by PROT_NONE pages, shortened and corrupted, where a read
// outside a table faults. Every mismatch is printed; the exit status is 1 if there was any (and 2,
// from the Go runtime's crash, if the reader faulted).
//
// Build it through run.sh: the go command does not notice changes to the C files the lg_*.c
// wrappers include from reporter/ and sigsafe/, so run.sh puts a hash of them in CGO_CFLAGS.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../../.. -D_GNU_SOURCE -Wall -Wextra -Werror
#include <stdlib.h>
#include <string.h>
#include "helpers.h"

// ftab word i (entryoff at 2k, funcoff at 2k+1), read on the C side to keep Go's unsafe rules simple.
static uint32_t ftab_word(const struct go_pcln *t, uint64_t i)
{
    uint32_t v;
    memcpy(&v, (const void *)(uintptr_t)(t->ftab + i * 4), 4);
    return v;
}
*/
import "C"

import (
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"sort"
	"strings"
)

const maxFrames = 64

var (
	flagInline = flag.String("inline", "yes", "yes: the build inlines, so inlined frames must be seen; no: -l build")
	flagRounds = flag.Int("rounds", 1000, "corruption rounds (each with the tables fenced at their end, then at their start)")
)

var mismatches int

func mismatch(format string, args ...any) {
	mismatches++
	if mismatches <= 150 {
		fmt.Printf("MISMATCH: "+format+"\n", args...)
	} else if mismatches == 151 {
		fmt.Printf("MISMATCH: (further mismatches counted, not printed)\n")
	}
}

type frame struct {
	Function string
	File     string
	Line     int
	Inlined  bool
	Entry    uintptr
}

func (f frame) String() string {
	inl := ""
	if f.Inlined {
		inl = " (inlined)"
	}
	return fmt.Sprintf("%s %s:%d entry=%#x%s", f.Function, f.File, f.Line, f.Entry, inl)
}

// printName is runtime.funcNameForPrint: the runtime shows "F[...]" for a generic instantiation.
func printName(name string) string {
	i := strings.IndexByte(name, '[')
	if i < 0 {
		return name
	}
	j := strings.LastIndexByte(name, ']')
	if j <= i {
		return name
	}
	return name[:i] + "[...]" + name[j+1:]
}

// Buffers the C side writes, in C memory: cgo's pointer checks would otherwise scan them (they hold
// char pointers) on every call, which dominated the run time.
var (
	frameBuf = (*[maxFrames]C.struct_go_frame_info)(C.calloc(maxFrames, C.sizeof_struct_go_frame_info))
	copyBuf  = (*C.struct_pt_copy)(C.calloc(1, C.sizeof_struct_pt_copy))
)

// cFrames asks the C reader for the frames at pc (a "call pc": already minus one for return addresses).
func cFrames(t *C.struct_go_pcln, pc uintptr) []frame {
	n := int(C.go_frames_at(t, C.uint64_t(pc), &frameBuf[0], maxFrames))
	out := make([]frame, 0, n)
	for i := 0; i < n; i++ {
		fi := &frameBuf[i]
		f := frame{Line: int(fi.line), Inlined: fi.inlined != 0, Entry: uintptr(fi.entry)}
		if fi.function != nil {
			f.Function = printName(C.GoString(fi.function))
		}
		if fi.file != nil {
			f.File = C.GoString(fi.file)
		} else {
			f.File = "?" // what the runtime says for an unknown file
		}
		out = append(out, f)
	}
	return out
}

func goFrame(f runtime.Frame) frame {
	return frame{Function: f.Function, File: f.File, Line: f.Line, Entry: f.Entry}
}

// nameAtZero is the name at funcnametab offset 0: the first function's. The runtime reads name
// offset 0 as "no name" (moduledata.funcName), so its tracebacks show "" for that one function,
// where the C reader gives the real name.
var nameAtZero string

func same(c, g frame) bool {
	fn := c.Function == g.Function || (g.Function == "" && c.Function == nameAtZero)
	return fn && c.File == g.File && c.Line == g.Line && c.Entry == g.Entry
}

// goOne is the runtime's innermost frame at return address pc (no inline unwinding).
func goOne(pc uintptr) (frame, bool) {
	fr := runtime.CallersFrames([]uintptr{pc})
	f, _ := fr.Next()
	if f.Function == "" && f.PC == 0 {
		return frame{}, false
	}
	return goFrame(f), true
}

// goFrames is the runtime's reading of a whole runtime.Callers result: one frame per pc, since
// Callers already lists each inlined frame under a pc of its own (entry + parentPc + 1).
func goFrames(pcs []uintptr) []frame {
	fr := runtime.CallersFrames(pcs)
	var out []frame
	for {
		f, more := fr.Next()
		out = append(out, goFrame(f))
		if !more {
			break
		}
	}
	return out
}

type stats struct {
	pcs, chains, frames, inlined, elided int
}

// checkStacks compares, for every pc of every stack, the innermost frame, and the chain of inlined
// frames the C reader expands there with the frames the runtime listed after that pc (the runtime
// leaves out autogenerated wrappers, so those C frames may be skipped).
func checkStacks(t *C.struct_go_pcln, stacks [][]uintptr) stats {
	var st stats
	for _, pcs := range stacks {
		g := goFrames(pcs)
		if len(g) != len(pcs) {
			mismatch("runtime.CallersFrames gave %d frames for %d pcs", len(g), len(pcs))
			continue
		}
		for i, pc := range pcs {
			st.pcs++
			c := cFrames(t, pc-1)
			if len(c) == 0 {
				mismatch("pc %#x: C finds no frame, the runtime says %v", pc, g[i])
				continue
			}
			if !same(c[0], g[i]) {
				mismatch("pc %#x: innermost frame: C %v, runtime %v", pc, c[0], g[i])
				continue
			}
			st.chains++
			j := i
		chain:
			for k, cf := range c {
				switch {
				case j < len(g) && same(cf, g[j]):
					st.frames++
					if cf.Inlined {
						st.inlined++
					}
					j++
				case cf.File == "<autogenerated>":
					st.elided++
				default:
					mismatch("pc %#x: C frame %d of %d differs from the runtime's frame %d:\n    C:       %v\n    runtime: %v",
						pc, k, len(c), j, c, g[i:min(len(g), i+len(c)+1)])
					break chain
				}
			}
			if c[len(c)-1].Inlined {
				mismatch("pc %#x: the outermost C frame is marked inlined: %v", pc, c)
			}
			for k := 0; k+1 < len(c); k++ {
				if !c[k].Inlined {
					mismatch("pc %#x: C frame %d is physical but not the last: %v", pc, k, c)
				}
			}
		}
	}
	return st
}

type cfunc struct {
	entry   uintptr
	end     uintptr
	name    string
	nameOff int32
}

// allFuncs lists every function of the module from the ftab the C side found.
func allFuncs(t *C.struct_go_pcln) []cfunc {
	n := int(t.nfunc)
	out := make([]cfunc, 0, n)
	for i := 0; i < n; i++ {
		e := uintptr(t.text) + uintptr(C.ftab_word(t, C.uint64_t(2*i)))
		end := uintptr(t.text) + uintptr(C.ftab_word(t, C.uint64_t(2*i+2)))
		var f C.struct_go_func
		if C.go_findfunc(t, C.uint64_t(e), &f) != 0 {
			if end > e { // an empty function shares its entry with the next one
				mismatch("go_findfunc(%#x) fails for ftab entry %d", e, i)
			}
			continue
		}
		name := ""
		if p := C.go_funcname(t, f.name_off); p != nil {
			name = C.GoString(p)
		}
		out = append(out, cfunc{e, end, name, int32(f.name_off)})
	}
	return out
}

// checkAllFuncs compares go_findfunc with FuncForPC at every function's entry, and the innermost
// frame at many pcs of every function with the runtime's (all pcs of main's functions).
func checkAllFuncs(t *C.struct_go_pcln, funcs []cfunc) (entries, pcs int) {
	for _, f := range funcs {
		rf := runtime.FuncForPC(f.entry)
		if rf == nil {
			mismatch("FuncForPC(%#x) is nil; C says %s", f.entry, f.name)
			continue
		}
		entries++
		var gf C.struct_go_func
		if C.go_findfunc(t, C.uint64_t(f.entry), &gf) != 0 || uintptr(gf.entry) != rf.Entry() {
			mismatch("entry of %s: C %#x, FuncForPC %#x", f.name, uintptr(gf.entry), rf.Entry())
		}
		c := cFrames(t, f.entry)
		if len(c) == 0 || !(c[0].Function == rf.Name() || (rf.Name() == "" && c[0].Function == nameAtZero)) {
			mismatch("name at entry %#x: C %v, FuncForPC %q", f.entry, c, rf.Name())
		}
		stride := uintptr(29)
		if strings.HasPrefix(f.name, "main.") {
			stride = 1
		}
		for pc := f.entry; pc+1 < f.end; pc += stride {
			pcs++
			g, ok := goOne(pc + 1)
			c := cFrames(t, pc)
			if !ok || len(c) == 0 {
				mismatch("pc %#x in %s: C %d frames, runtime found=%v", pc, f.name, len(c), ok)
				continue
			}
			if !same(c[0], g) {
				mismatch("pc %#x in %s: C %v, runtime %v", pc, f.name, c[0], g)
			}
		}
	}
	return
}

func checkNamedFuncs(t *C.struct_go_pcln) {
	names := make([]string, 0)
	fns := namedFuncs()
	for k := range fns {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		pc := reflect.ValueOf(fns[k]).Pointer()
		rf := runtime.FuncForPC(pc)
		var f C.struct_go_func
		if C.go_findfunc(t, C.uint64_t(pc), &f) != 0 {
			mismatch("%s: go_findfunc(%#x) fails", k, pc)
			continue
		}
		name := ""
		if p := C.go_funcname(t, f.name_off); p != nil {
			name = printName(C.GoString(p))
		}
		if uintptr(f.entry) != rf.Entry() || name != rf.Name() {
			mismatch("%s: C %s entry %#x, FuncForPC %s entry %#x", k, name, uintptr(f.entry), rf.Name(), rf.Entry())
		}
		// A pc inside the function belongs to it too.
		if C.go_findfunc(t, C.uint64_t(pc+1), &f) != 0 || uintptr(f.entry) != rf.Entry() {
			mismatch("%s: go_findfunc(entry+1) gives entry %#x", k, uintptr(f.entry))
		}
	}
}

// findModule runs go_pcln_find_nasync, then each method alone, and checks that every method that
// applies to this executable succeeds with the same answer.
func findModule() (C.struct_go_pcln, bool) {
	var t C.struct_go_pcln
	var ver, why [256]C.char
	if C.go_pcln_find_nasync(&t, &ver[0], 256, &why[0], 256) != 0 {
		mismatch("go_pcln_find_nasync failed: %s", C.GoString(&why[0]))
		return t, false
	}
	fmt.Printf("found: %s\n", C.GoString(&why[0]))
	if v := C.GoString(&ver[0]); v != runtime.Version() {
		mismatch("version: C %q, runtime.Version %q", v, runtime.Version())
	}
	fmt.Printf("version %s; nfunc %d; text %#x; pclntable %d bytes; gofunc %#x (+%d)\n",
		C.GoString(&ver[0]), t.nfunc, uint64(t.text), uint64(t.pclntable_len), uint64(t.gofunc), uint64(t.gofunc_len))

	// Which methods must work here, from the ELF file itself.
	exe, err := os.Executable()
	if err != nil {
		mismatch("os.Executable: %v", err)
		return t, true
	}
	ef, err := elf.Open(exe)
	if err != nil {
		mismatch("debug/elf: %v", err)
		return t, true
	}
	defer ef.Close()
	hasSym := false
	if syms, err := ef.Symbols(); err == nil {
		for _, s := range syms {
			if s.Name == "runtime.firstmoduledata" {
				hasSym = true
			}
		}
	}
	methods := []struct {
		bit     C.uint
		name    string
		applies bool
	}{
		{1, ".go.module", ef.Section(".go.module") != nil},
		{2, "symtab", hasSym},
		{4, ".gopclntab+scan", ef.Section(".gopclntab") != nil},
		{8, "magic scan", true},
	}
	for _, m := range methods {
		var t2 C.struct_go_pcln
		r := C.go_pcln_find_methods_nasync(&t2, &ver[0], 256, &why[0], 256, m.bit)
		switch {
		case r == 0 && t2 != t:
			mismatch("method %s finds a different module: %+v vs %+v", m.name, t2, t)
		case r == 0:
			fmt.Printf("method %-16s ok\n", m.name)
		case m.applies:
			mismatch("method %s applies to this executable but fails: %s", m.name, C.GoString(&why[0]))
		default:
			fmt.Printf("method %-16s n/a: %s\n", m.name, C.GoString(&why[0]))
		}
	}
	return t, true
}

// checkBounds: a struct go_pcln whose lengths are too small must fail cleanly.
func checkBounds(t *C.struct_go_pcln, pcs []uintptr) {
	var zero C.struct_go_pcln
	var f C.struct_go_func
	var v C.int32_t
	for _, pc := range pcs[:min(len(pcs), 20)] {
		if C.go_findfunc(&zero, C.uint64_t(pc), &f) != -1 || len(cFrames(&zero, pc)) != 0 {
			mismatch("an empty struct go_pcln finds a function at %#x", pc)
		}
	}
	if C.go_funcname(&zero, 0) != nil || C.go_funcname(t, -1) != nil || C.go_funcname(t, C.int32_t(t.funcnametab_len)) != nil {
		mismatch("go_funcname accepts an offset outside funcnametab")
	}
	if C.go_findfunc(t, C.uint64_t(t.minpc-1), &f) != -1 || C.go_findfunc(t, C.uint64_t(t.maxpc), &f) != -1 {
		mismatch("go_findfunc accepts a pc outside [minpc, maxpc)")
	}
	if C.go_findfunc(t, C.uint64_t(pcs[0]), &f) != 0 {
		mismatch("go_findfunc(%#x) fails", pcs[0])
		return
	}
	if C.go_pcvalue(t, &f, 0, C.uint64_t(pcs[0]), &v) != -1 || C.go_pcvalue(t, &f, C.uint32_t(t.pctab_len), C.uint64_t(pcs[0]), &v) != -1 ||
		C.go_pcvalue(t, &f, f.pcln, C.uint64_t(f.entry-1), &v) != -1 {
		mismatch("go_pcvalue accepts table offset 0, an offset past pctab, or a pc before the entry")
	}

	type shrink struct {
		name  string
		apply func(*C.struct_go_pcln)
		check func(pc uintptr, fr []frame) string
	}
	noFrames := func(pc uintptr, fr []frame) string {
		if len(fr) != 0 {
			return fmt.Sprintf("%d frames", len(fr))
		}
		return ""
	}
	noNames := func(pc uintptr, fr []frame) string {
		for _, f := range fr {
			if f.Function != "" {
				return "a function name: " + f.Function
			}
		}
		return ""
	}
	noFiles := func(pc uintptr, fr []frame) string {
		for _, f := range fr {
			if f.File != "?" || f.Line != 0 {
				return "a file: " + f.String()
			}
		}
		return ""
	}
	physicalOnly := func(pc uintptr, fr []frame) string {
		if len(fr) != 1 || fr[0].Inlined {
			return fmt.Sprintf("frames %v (want only the physical one)", fr)
		}
		return ""
	}
	nf := uint64(t.nfunc)
	cases := []shrink{
		{"ftab one entry short", func(s *C.struct_go_pcln) { s.ftab_len = C.uint64_t(nf * 8) }, noFrames},
		{"ftab 7 bytes", func(s *C.struct_go_pcln) { s.ftab_len = 7 }, noFrames},
		{"nfunc 0", func(s *C.struct_go_pcln) { s.nfunc = 0 }, noFrames},
		{"pclntable 43 bytes", func(s *C.struct_go_pcln) { s.pclntable_len = 43 }, noFrames},
		{"pclntable 0", func(s *C.struct_go_pcln) { s.pclntable_len = 0 }, noFrames},
		{"text 0", func(s *C.struct_go_pcln) { s.text = 0; s.minpc = 0 }, noFrames},
		{"funcnametab 0", func(s *C.struct_go_pcln) { s.funcnametab_len = 0 }, noNames},
		{"funcnametab 1", func(s *C.struct_go_pcln) { s.funcnametab_len = 1 }, noNames},
		{"filetab 0", func(s *C.struct_go_pcln) { s.filetab_len = 0 }, noFiles},
		{"cutab 3", func(s *C.struct_go_pcln) { s.cutab_len = 3 }, noFiles},
		{"pctab 0", func(s *C.struct_go_pcln) { s.pctab_len = 0 }, func(pc uintptr, fr []frame) string {
			if m := physicalOnly(pc, fr); m != "" {
				return m
			}
			return noFiles(pc, fr)
		}},
		{"gofunc 0", func(s *C.struct_go_pcln) { s.gofunc_len = 0 }, physicalOnly},
		{"gofunc address 0", func(s *C.struct_go_pcln) { s.gofunc = 0 }, physicalOnly},
	}
	for _, cs := range cases {
		s := *t
		cs.apply(&s)
		bad := 0
		for _, pc := range pcs {
			if m := cs.check(pc, cFrames(&s, pc-1)); m != "" {
				bad++
				if bad <= 3 {
					mismatch("bounds: %s: pc %#x: %s", cs.name, pc, m)
				}
			}
		}
	}
}

// sweepPCs: the pcs the guarded-copy runs look up: every pc of the stacks, every 3rd byte of
// main's functions, and random pcs across the text (and just outside it).
func sweepPCs(t *C.struct_go_pcln, stacks [][]uintptr, funcs []cfunc) []uintptr {
	var out []uintptr
	for _, s := range stacks {
		for _, pc := range s {
			out = append(out, pc-1)
		}
	}
	for _, f := range funcs {
		if strings.HasPrefix(f.name, "main.") {
			for pc := f.entry; pc < f.end; pc += 3 {
				out = append(out, pc)
			}
		}
	}
	rng := C.uint64_t(0x9e3779b97f4a7c15)
	span := uint64(t.maxpc-t.minpc) + 64
	for i := 0; i < 4000; i++ {
		out = append(out, uintptr(uint64(t.minpc)-32+uint64(C.pt_rand(&rng))%span))
	}
	return out
}

func framesChecked(t *C.struct_go_pcln, pc uintptr) ([]frame, string) {
	var errbuf [256]C.char
	n := int(C.pt_frames_checked(t, C.uint64_t(pc), &frameBuf[0], maxFrames, &errbuf[0], 256))
	if n < 0 {
		return nil, C.GoString(&errbuf[0])
	}
	out := make([]frame, 0, n)
	for i := 0; i < n; i++ {
		fi := &frameBuf[i]
		f := frame{Line: int(fi.line), Inlined: fi.inlined != 0, Entry: uintptr(fi.entry)}
		if fi.function != nil {
			f.Function = C.GoString(fi.function)
		}
		if fi.file != nil {
			f.File = C.GoString(fi.file)
		}
		out = append(out, f)
	}
	return out, ""
}

// checkGuarded runs the reader on fenced copies: pristine (results equal the original's), shortened
// (every table in turn cut to a fraction), and corrupted at random. A read outside a table faults.
func checkGuarded(t *C.struct_go_pcln, pcs []uintptr) (rounds int) {
	want := make([][]frame, len(pcs))
	for i, pc := range pcs {
		w, err := framesChecked(t, pc)
		if err != "" {
			mismatch("original tables: %s", err)
		}
		want[i] = w
	}
	for _, endAligned := range []C.int{1, 0} {
		cp := copyBuf
		if C.pt_copy_make(cp, t, endAligned, nil) != 0 {
			mismatch("pt_copy_make failed")
			return
		}
		for i, pc := range pcs {
			got, err := framesChecked(&cp.t, pc)
			if err != "" || !reflect.DeepEqual(got, want[i]) {
				mismatch("guarded copy (end_aligned=%d) pc %#x: %s %v, original %v", endAligned, pc, err, got, want[i])
				break
			}
		}
		C.pt_copy_free(cp)
	}
	names := []string{"funcnametab", "cutab", "filetab", "pctab", "pclntable", "ftab", "gofunc"}
	// If the reader strays, the process dies here; these lines say in which phase.
	fmt.Printf("guarded: shortened tables\n")
	for k := 0; k < int(C.PT_NTABLES); k++ {
		for _, frac := range []uint64{2, 7, 1000} {
			var lens [C.PT_NTABLES]C.uint64_t
			full := uint64(C.pt_table_len(t, C.int(k)))
			lens[k] = C.uint64_t(max(full/frac, 1))
			for _, endAligned := range []C.int{1, 0} {
				cp := copyBuf
				if C.pt_copy_make(cp, t, endAligned, &lens[0]) != 0 {
					mismatch("pt_copy_make failed")
					return
				}
				for _, pc := range pcs {
					if _, err := framesChecked(&cp.t, pc); err != "" {
						mismatch("%s cut to 1/%d: %s", names[k], frac, err)
						break
					}
				}
				C.pt_copy_free(cp)
			}
		}
	}
	// Corruption: odd rounds hit random bytes anywhere in one table; even rounds aim at the records
	// and tables of one function (its _func, ftab entry, name, file, a pc-value table, inline tree)
	// and then look up every pc of that function.
	// Cuts aimed at one function's data: each table ends inside (or just after) the bytes a lookup
	// in that function reads: its ftab entry, _func record, name, CU slot, file name, a pc-value
	// table, inline tree. Every pc of the function is then looked up.
	fmt.Printf("guarded: tables cut inside one function's data\n")
	done := map[uintptr]bool{}
	for _, target := range pcs {
		var f C.struct_go_func
		if C.go_findfunc(t, C.uint64_t(target), &f) != 0 || done[uintptr(f.entry)] || len(done) >= 60 {
			continue
		}
		done[uintptr(f.entry)] = true
		var center, span [C.PT_NTABLES]C.uint64_t
		if C.pt_targets(t, C.uint64_t(target), &center[0], &span[0]) != 0 {
			continue
		}
		for k := 0; k < int(C.PT_NTABLES); k++ {
			full := uint64(C.pt_table_len(t, C.int(k)))
			c0, sp := uint64(center[k]), uint64(span[k])
			if sp == 0 {
				continue
			}
			for _, cut := range []uint64{c0, c0 + 1, c0 + 2, c0 + 3, c0 + sp/2, c0 + sp - 1, c0 + sp + 1} {
				if cut == 0 || cut >= full {
					continue
				}
				cp := copyBuf
				if C.pt_copy_make_one(cp, t, C.int(k), C.uint64_t(cut)) != 0 {
					mismatch("pt_copy_make_one failed")
					return
				}
				for pc := uintptr(f.entry); pc < uintptr(f.entry)+1024 && pc < uintptr(t.maxpc); pc++ {
					if _, err := framesChecked(&cp.t, pc); err != "" {
						mismatch("%s cut at %d: %s", names[k], cut, err)
						break
					}
				}
				C.pt_copy_free(cp)
			}
		}
	}

	rng := C.uint64_t(0x243f6a8885a308d3)
	fmt.Printf("guarded: corrupted tables\n")
	for _, endAligned := range []C.int{1, 0} {
		cp := copyBuf
		if C.pt_copy_make(cp, t, endAligned, nil) != 0 {
			mismatch("pt_copy_make failed")
			return
		}
		for r := 0; r < *flagRounds; r++ {
			k := r % int(C.PT_NTABLES)
			n := 1 + int(C.pt_rand(&rng)%64)
			var look []uintptr
			if r%2 == 1 {
				C.pt_corrupt(cp, C.int(k), &rng, C.int(n*4))
				for i := int(C.pt_rand(&rng) % 13); i < len(pcs); i += 13 {
					look = append(look, pcs[i])
				}
			} else {
				target := pcs[int(C.pt_rand(&rng)%C.uint64_t(len(pcs)))]
				var center, span [C.PT_NTABLES]C.uint64_t
				var f C.struct_go_func
				if C.pt_targets(t, C.uint64_t(target), &center[0], &span[0]) != 0 || C.go_findfunc(t, C.uint64_t(target), &f) != 0 {
					continue
				}
				C.pt_corrupt_near(cp, C.int(k), &rng, C.int(n), center[k], span[k])
				for pc := uintptr(f.entry); pc < uintptr(f.entry)+4096 && pc < uintptr(t.maxpc); pc++ {
					look = append(look, pc)
				}
			}
			for _, pc := range look {
				if _, err := framesChecked(&cp.t, pc); err != "" {
					mismatch("corruption round %d (%s, %d bytes): %s", r, names[k], n, err)
					break
				}
			}
			C.pt_copy_restore(cp)
			rounds++
		}
		C.pt_copy_free(cp)
	}
	return rounds
}

func main() {
	flag.Parse()
	stacks := allStacks()
	t, ok := findModule()
	if !ok {
		fmt.Printf("FAIL: %d mismatches\n", mismatches)
		os.Exit(1)
	}
	if p := C.go_funcname(&t, 0); p != nil {
		nameAtZero = printName(C.GoString(p))
	}
	st := checkStacks(&t, stacks)
	fmt.Printf("stacks: %d stacks, %d pcs, %d chains, %d frames matched (%d inlined), %d wrapper frames elided by the runtime\n",
		len(stacks), st.pcs, st.chains, st.frames, st.inlined, st.elided)
	switch *flagInline {
	case "yes":
		if st.inlined < 10 {
			mismatch("only %d inlined frames seen in an optimized build: the test does not exercise inlining", st.inlined)
		}
	case "no":
		if st.inlined != 0 {
			mismatch("%d inlined frames seen in a build without inlining", st.inlined)
		}
	}
	checkNamedFuncs(&t)
	funcs := allFuncs(&t)
	entries, npcs := checkAllFuncs(&t, funcs)
	fmt.Printf("functions: %d of %d checked at their entry; %d pcs compared with the runtime\n", entries, int(t.nfunc), npcs)
	var flat []uintptr
	for _, s := range stacks {
		flat = append(flat, s...)
	}
	checkBounds(&t, flat)
	sw := sweepPCs(&t, stacks, funcs)
	rounds := checkGuarded(&t, sw)
	fmt.Printf("guarded copies: %d pcs each, pristine, shortened and %d corruption rounds without a stray read\n", len(sw), rounds)
	if mismatches > 0 {
		fmt.Printf("FAIL: %d mismatches\n", mismatches)
		os.Exit(1)
	}
	fmt.Printf("PASS\n")
}
