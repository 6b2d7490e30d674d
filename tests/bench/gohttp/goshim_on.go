//go:build goshim

// Built only with -tags goshim: the third benchmark mode, lastgasp's Go package linked in.
// The goshim package import goes here (a blank import in this file), so the default build
// needs nothing from it.
package main
