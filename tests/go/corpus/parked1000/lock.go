package main

import "runtime"

// lockThread wires the calling goroutine to its OS thread for good ("locked to thread").
func lockThread() { runtime.LockOSThread() }
