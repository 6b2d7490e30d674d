//go:build linux && (amd64 || arm64) && cgo

package lastgasp_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"

	lastgasp "github.com/lastgasp/lastgasp/goshim"
)

// Install once, early, from main. An error means no crash dumps, and the program runs on; with
// liblastgasp.so preloaded as well, Install returns nil: the preloaded library writes the dumps.
// (This example has no output, so go test compiles it but does not run it: run, it would install
// a crash handler in the test process.)
func ExampleInstall() {
	if err := lastgasp.Install(lastgasp.Options{Dir: "/dumps"}); err != nil {
		log.Printf("crash dumps are off: %v", err)
	}
}

// The error says why, for errors.Is, and then nothing is installed (which is why this example can run
// in the test process). A directory that cannot be opened keeps the system's reason too.
func ExampleInstall_errors() {
	err := lastgasp.Install(lastgasp.Options{Dir: "/nonexistent/dumps"})
	switch {
	case errors.Is(err, lastgasp.ErrBadDirectory):
		fmt.Println("bad directory; it does not exist:", errors.Is(err, fs.ErrNotExist))
	case errors.Is(err, lastgasp.ErrAlreadyInstalled), err == nil:
		fmt.Println("crash dumps are on")
	default:
		fmt.Println("crash dumps are off:", err)
	}
	fmt.Println(err)
	// Output:
	// bad directory; it does not exist: true
	// lastgasp: the dump directory cannot be opened (/nonexistent/dumps): no such file or directory
}

// Annotations travel with every later dump; set them from any goroutine, before or after Install.
// Keys and values out of bounds are refused, and nothing is stored.
func ExampleSetAnnotation() {
	if err := lastgasp.SetAnnotation("build", "v1.8.2"); err != nil {
		fmt.Println(err)
	}
	err := lastgasp.SetAnnotation("", "no key")
	fmt.Println(errors.Is(err, lastgasp.ErrBadAnnotation), err)
	lastgasp.SetAnnotation("build", "") // removes it
	// Output:
	// true lastgasp: annotation "": annotation key empty or too long, or value too long
}
