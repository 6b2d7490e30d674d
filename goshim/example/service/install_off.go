//go:build nolastgasp

package main

// installLastgasp does nothing: this build is for LD_PRELOAD.
func installLastgasp() {}
