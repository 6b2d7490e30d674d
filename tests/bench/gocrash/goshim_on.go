//go:build goshim

// Built only with -tags goshim: lastgasp's Go package linked in and installed from LASTGASP_DIR at start.
package main

import _ "github.com/lastgasp/lastgasp/goshim/auto"
