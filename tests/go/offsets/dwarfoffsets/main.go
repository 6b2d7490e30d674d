// dwarfoffsets reads, from a Go executable, the facts that reporter/go/go_offsets.c keeps in a table:
// the offsets of the runtime.g, runtime.m, runtime._panic, runtime.moduledata and internal/abi.Type
// fields lastgasp reads at crash time (from DWARF), and
// the runtime's own status and wait-reason strings (runtime.gStatusStrings and
// runtime.waitReasonStrings, read from the symbol table and the data they point to).
//
//	dwarfoffsets BINARY             print the facts as JSON
//	dwarfoffsets -want FILE BINARY  compare them with FILE (JSON of the same shape, as printed by
//	                                tests/go/offsets/print_table.c) and exit 1 on any difference
//	dwarfoffsets -all BINARY        list every field of the structs read (for updating the table)
//	dwarfoffsets -version BINARY    print the Go version in the binary's build info
//
// It is a test tool: it runs on the build machine, never in a crashing process.
package main

import (
	"bytes"
	"debug/buildinfo"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

// field names one runtime field by its JSON key (the member of struct go_offsets in
// reporter/go/go_offsets.h), the struct it lives in and its path inside it. width is the size the C
// code assumes when it reads the field; a field whose DWARF size differs is a mismatch too.
type field struct {
	key   string
	strct string
	path  string
	width int64
}

// The fields of struct go_offsets, in its order. Keep in step with reporter/go/go_offsets.h.
var fields = []field{
	{"g_stack_lo", "runtime.g", "stack.lo", 8},
	{"g_stack_hi", "runtime.g", "stack.hi", 8},
	{"g_stackguard0", "runtime.g", "stackguard0", 8},
	{"g_panic", "runtime.g", "_panic", 8},
	{"g_defer", "runtime.g", "_defer", 8},
	{"g_m", "runtime.g", "m", 8},
	{"g_sched_sp", "runtime.g", "sched.sp", 8},
	{"g_sched_pc", "runtime.g", "sched.pc", 8},
	{"g_sched_g", "runtime.g", "sched.g", 8},
	{"g_sched_ctxt", "runtime.g", "sched.ctxt", 8},
	{"g_sched_lr", "runtime.g", "sched.lr", 8},
	{"g_sched_bp", "runtime.g", "sched.bp", 8},
	{"g_syscallsp", "runtime.g", "syscallsp", 8},
	{"g_syscallpc", "runtime.g", "syscallpc", 8},
	{"g_syscallbp", "runtime.g", "syscallbp", 8},
	{"g_atomicstatus", "runtime.g", "atomicstatus", 4},
	{"g_goid", "runtime.g", "goid", 8},
	{"g_waitsince", "runtime.g", "waitsince", 8},
	{"g_waitreason", "runtime.g", "waitreason", 1},
	{"g_lockedm", "runtime.g", "lockedm", 8},
	{"g_parent_goid", "runtime.g", "parentGoid", 8},
	{"g_gopc", "runtime.g", "gopc", 8},
	{"g_startpc", "runtime.g", "startpc", 8},
	{"g_labels", "runtime.g", "labels", 8},
	{"g_sig", "runtime.g", "sig", 4},
	{"g_sigcode0", "runtime.g", "sigcode0", 8},
	{"g_sigcode1", "runtime.g", "sigcode1", 8},
	{"g_sigpc", "runtime.g", "sigpc", 8},
	{"g_size", "runtime.g", "", 0},
	{"gobuf_size", "runtime.gobuf", "", 0},
	{"m_g0", "runtime.m", "g0", 8},
	{"m_procid", "runtime.m", "procid", 8},
	{"m_gsignal", "runtime.m", "gsignal", 8},
	{"m_curg", "runtime.m", "curg", 8},
	{"m_caughtsig", "runtime.m", "caughtsig", 8},
	{"m_p", "runtime.m", "p", 8},
	{"m_id", "runtime.m", "id", 8},
	{"m_throwing", "runtime.m", "throwing", 4},
	{"m_incgo", "runtime.m", "incgo", 1},
	{"m_ncgo", "runtime.m", "ncgo", 4},
	{"m_cgo_callers", "runtime.m", "cgoCallers", 8},
	{"m_alllink", "runtime.m", "alllink", 8},
	{"m_lockedg", "runtime.m", "lockedg", 8},
	{"m_vdso_sp", "runtime.m", "vdsoSP", 8},
	{"m_vdso_pc", "runtime.m", "vdsoPC", 8},
	{"m_dying", "runtime.m", "dying", 4},
	{"m_size", "runtime.m", "", 0},
	{"panic_arg", "runtime._panic", "arg", 16},
	{"panic_link", "runtime._panic", "link", 8},
	{"panic_recovered", "runtime._panic", "recovered", 1},
	{"panic_goexit", "runtime._panic", "goexit", 1},
	{"panic_repanicked", "runtime._panic", "repanicked", 1},
	{"panic_size", "runtime._panic", "", 0},
	{"md_types", "runtime.moduledata", "types", 8},
	{"md_etypes", "runtime.moduledata", "etypes", 8},
	{"type_tflag", "internal/abi.Type", "TFlag", 1},
	{"type_kind", "internal/abi.Type", "Kind_", 1},
	{"type_str", "internal/abi.Type", "Str", 4},
}

// The structs the fields above live in.
var structs = []string{"runtime.g", "runtime.m", "runtime.gobuf", "runtime.stack", "runtime._panic",
	"runtime.moduledata", "internal/abi.Type"}

// Facts is the JSON both sides print. A field absent from this Go version is null.
type Facts struct {
	GoVersion   string            `json:"go_version"`
	Offsets     map[string]*int64 `json:"offsets"`
	WaitReasons []string          `json:"wait_reasons"`
	StatusNames []string          `json:"status_names"`
}

func main() {
	want := flag.String("want", "", "JSON file to compare with")
	all := flag.Bool("all", false, "list every field of the structs read")
	version := flag.Bool("version", false, "print the Go version of the binary")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: dwarfoffsets [-want FILE | -all | -version] BINARY")
		os.Exit(2)
	}
	bin := flag.Arg(0)
	bi, err := buildinfo.ReadFile(bin)
	check(err)
	if *version {
		fmt.Println(bi.GoVersion)
		return
	}
	f, err := elf.Open(bin)
	check(err)
	defer f.Close()
	d, err := f.DWARF()
	check(err)
	types, err := findStructs(d, structs...)
	check(err)
	if *all {
		for _, name := range structs {
			st := types[name]
			fmt.Printf("%s (%d bytes)\n", name, st.ByteSize)
			for _, fl := range st.Field {
				fmt.Printf("  %4d %-24s %s (%d)\n", fl.ByteOffset, fl.Name, fl.Type.String(), fl.Type.Size())
			}
		}
		return
	}

	var facts Facts
	facts.GoVersion = bi.GoVersion
	facts.Offsets = map[string]*int64{}
	var widthErrs []string
	for _, fl := range fields {
		st := types[fl.strct]
		if fl.path == "" {
			n := st.ByteSize
			facts.Offsets[fl.key] = &n
			continue
		}
		off, size, ok := lookup(st, fl.path)
		if !ok {
			facts.Offsets[fl.key] = nil
			continue
		}
		facts.Offsets[fl.key] = &off
		if size != fl.width {
			widthErrs = append(widthErrs, fmt.Sprintf("%s: %s.%s is %d bytes wide, the C code reads %d",
				fl.key, fl.strct, fl.path, size, fl.width))
		}
	}
	facts.WaitReasons, err = stringArray(f, "runtime.waitReasonStrings")
	check(err)
	facts.StatusNames, err = stringArray(f, "runtime.gStatusStrings")
	check(err)

	if *want == "" {
		out, err := json.MarshalIndent(&facts, "", "  ")
		check(err)
		os.Stdout.Write(append(out, '\n'))
		for _, e := range widthErrs {
			fmt.Fprintln(os.Stderr, "width:", e)
		}
		if len(widthErrs) > 0 {
			os.Exit(1)
		}
		return
	}
	raw, err := os.ReadFile(*want)
	check(err)
	var table Facts
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	check(dec.Decode(&table))
	diffs := append(widthErrs, compare(&facts, &table)...)
	for _, e := range diffs {
		fmt.Println("  " + e)
	}
	if len(diffs) > 0 {
		os.Exit(1)
	}
	fmt.Printf("%d offsets, %d wait reasons, %d status names match\n",
		len(facts.Offsets), len(facts.WaitReasons), len(facts.StatusNames))
}

// compare lists every difference between what the binary says (got) and the table.
func compare(bin, table *Facts) []string {
	var out []string
	keys := map[string]bool{}
	for k := range bin.Offsets {
		keys[k] = true
	}
	for k := range table.Offsets {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		b, inBin := bin.Offsets[k]
		t, inTable := table.Offsets[k]
		switch {
		case !inBin:
			out = append(out, fmt.Sprintf("%s: in the table but not checked here", k))
		case !inTable:
			out = append(out, fmt.Sprintf("%s: missing from the table", k))
		case (b == nil) != (t == nil) || b != nil && *b != *t:
			out = append(out, fmt.Sprintf("%s: DWARF %s, table %s", k, show(b), show(t)))
		}
	}
	out = append(out, compareStrings("wait reason", bin.WaitReasons, table.WaitReasons)...)
	out = append(out, compareStrings("status", bin.StatusNames, table.StatusNames)...)
	return out
}

func compareStrings(what string, bin, table []string) []string {
	var out []string
	if len(bin) != len(table) {
		out = append(out, fmt.Sprintf("%s strings: the binary has %d, the table %d", what, len(bin), len(table)))
	}
	for i := 0; i < len(bin) && i < len(table); i++ {
		if bin[i] != table[i] {
			out = append(out, fmt.Sprintf("%s %d: binary %q, table %q", what, i, bin[i], table[i]))
		}
	}
	return out
}

func show(v *int64) string {
	if v == nil {
		return "absent"
	}
	return fmt.Sprint(*v)
}

// findStructs returns the named struct types from the DWARF, stopping when all are found.
func findStructs(d *dwarf.Data, names ...string) (map[string]*dwarf.StructType, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]*dwarf.StructType{}
	r := d.Reader()
	for len(out) < len(names) {
		e, err := r.Next()
		if err != nil {
			return nil, err
		}
		if e == nil {
			break
		}
		if e.Tag != dwarf.TagStructType {
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		if !want[name] || out[name] != nil {
			r.SkipChildren()
			continue
		}
		t, err := d.Type(e.Offset)
		if err != nil {
			return nil, err
		}
		st, ok := t.(*dwarf.StructType)
		if !ok || st.Incomplete {
			continue
		}
		out[name] = st
		r.SkipChildren()
	}
	for _, n := range names {
		if out[n] == nil {
			return nil, fmt.Errorf("no DWARF struct %s", n)
		}
	}
	return out, nil
}

// lookup finds a dotted field path inside st: its offset from the start of st and its size.
func lookup(st *dwarf.StructType, path string) (off, size int64, ok bool) {
	var t dwarf.Type = st
	for _, name := range strings.Split(path, ".") {
		s, isStruct := peel(t).(*dwarf.StructType)
		if !isStruct {
			return 0, 0, false
		}
		found := false
		for _, fl := range s.Field {
			if fl.Name == name {
				off += fl.ByteOffset
				t = fl.Type
				found = true
				break
			}
		}
		if !found {
			return 0, 0, false
		}
	}
	return off, t.Size(), true
}

func peel(t dwarf.Type) dwarf.Type {
	for {
		td, ok := t.(*dwarf.TypedefType)
		if !ok {
			return t
		}
		t = td.Type
	}
}

// stringArray reads a [N]string variable through the ELF symbol table: N (pointer, length) pairs,
// each pointing at bytes in another section.
func stringArray(f *elf.File, sym string) ([]string, error) {
	syms, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	for _, s := range syms {
		if s.Name != sym {
			continue
		}
		if s.Size%16 != 0 {
			return nil, fmt.Errorf("%s: size %d is not a whole number of strings", sym, s.Size)
		}
		data, err := readAt(f, s.Value, s.Size)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", sym, err)
		}
		out := []string{}
		for i := uint64(0); i < s.Size; i += 16 {
			p := binary.LittleEndian.Uint64(data[i:])
			n := binary.LittleEndian.Uint64(data[i+8:])
			if n == 0 {
				out = append(out, "")
				continue
			}
			b, err := readAt(f, p, n)
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %v", sym, i/16, err)
			}
			out = append(out, string(b))
		}
		return out, nil
	}
	return nil, fmt.Errorf("no symbol %s", sym)
}

// readAt reads n bytes at virtual address addr from the section that holds them.
func readAt(f *elf.File, addr, n uint64) ([]byte, error) {
	for _, sec := range f.Sections {
		if sec.Type == elf.SHT_NOBITS || sec.Addr == 0 || addr < sec.Addr || addr+n > sec.Addr+sec.Size {
			continue
		}
		b := make([]byte, n)
		if _, err := sec.ReadAt(b, int64(addr-sec.Addr)); err != nil {
			return nil, err
		}
		return b, nil
	}
	return nil, fmt.Errorf("address %#x (+%d) is in no section with data", addr, n)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "dwarfoffsets:", err)
		os.Exit(2)
	}
}
