// probe is the smallest Go program whose runtime carries full DWARF: run.sh builds it with each Go
// toolchain and hands the binary to dwarfoffsets.
package main

import "os"

func main() {
	os.Stdout.WriteString("probe\n")
}
