//go:build linux && amd64 && cgo

package lastgasp_test

import (
	"fmt"
	"os"

	lastgasp "github.com/lastgasp/lastgasp/goshim"
)

// Install once, early, and let the service run on if dumps cannot be written.
func ExampleInstall() {
	dir, _ := os.MkdirTemp("", "dumps") // in a container: a volume, e.g. /dumps
	defer os.RemoveAll(dir)
	if err := lastgasp.Install(lastgasp.Options{Dir: dir, Quiet: true}); err != nil {
		fmt.Println("crash dumps are off:", err)
		return
	}
	fmt.Println("crash dumps go to the directory")

	// A bad directory is an error the caller can act on, and nothing is installed.
	err := lastgasp.Install(lastgasp.Options{Dir: "/nonexistent"})
	fmt.Println(err)
	// Output:
	// crash dumps go to the directory
	// lastgasp: lastgasp is already installed (/nonexistent)
}

// Annotations travel with every later dump; set them from any goroutine.
func ExampleSetAnnotation() {
	if err := lastgasp.SetAnnotation("build", "v1.8.2"); err != nil {
		fmt.Println(err)
	}
	err := lastgasp.SetAnnotation("", "no key")
	fmt.Println(err)
	// Output:
	// lastgasp: annotation "": annotation key empty or too long, or value too long
}
