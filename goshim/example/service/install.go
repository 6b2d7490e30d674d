//go:build !nolastgasp

package main

import (
	"log"
	"os"

	lastgasp "github.com/lastgasp/lastgasp/goshim"
)

// installLastgasp installs the crash handler early, from main. A service that cannot write dumps
// still runs: it says so and goes on.
func installLastgasp() {
	err := lastgasp.Install(lastgasp.Options{Dir: os.Getenv("LASTGASP_DIR")})
	if err != nil {
		log.Printf("crash dumps are off: %v", err)
		return
	}
	lastgasp.SetAnnotation("service", "example")
	log.Printf("lastgasp: crash dumps go to %s", os.Getenv("LASTGASP_DIR"))
}
