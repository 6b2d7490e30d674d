//go:build goshim

package main

// Built with -tags goshim, the program installs lastgasp itself (the goshim way in); without the
// tag it is an unmodified program for LD_PRELOAD.
import _ "github.com/lastgasp/lastgasp/goshim/auto"
