package lastgasp

import (
	"errors"
	"fmt"
	"os"
)

// OptionsFromEnv reads the same LASTGASP_* variables as the LD_PRELOAD library: LASTGASP_DIR,
// LASTGASP_ENVIRON=1, LASTGASP_QUIET=1, and LASTGASP_KEEP_TRACEBACK=1 (leave the traceback level
// alone). A variable set to "" or "0" is off.
func OptionsFromEnv() Options {
	return Options{
		Dir:            os.Getenv("LASTGASP_DIR"),
		IncludeEnviron: envFlag("LASTGASP_ENVIRON"),
		Quiet:          envFlag("LASTGASP_QUIET"),
		KeepTraceback:  envFlag("LASTGASP_KEEP_TRACEBACK"),
	}
}

// InstallFromEnv installs with OptionsFromEnv. On failure it prints one line on stderr, as the
// LD_PRELOAD library does, and returns the error; the program runs on without crash dumps. In a
// preloaded process it installs nothing, says so in one line, and returns nil (see Install).
//
// In secure-execution mode (a setuid or setcap program) the environment is not trusted: InstallFromEnv
// installs nothing, says so, and returns an error matching ErrSecureMode (call Install with a directory
// of the program's own choosing instead).
func InstallFromEnv() error {
	if secureMode() {
		err := &InstallError{Code: 10, Msg: "secure-execution mode: the environment is not trusted"}
		fmt.Fprintf(os.Stderr, "%v; LASTGASP_* ignored, crash dumps are off\n", err)
		return err
	}
	if preloaded() {
		fmt.Fprintln(os.Stderr, "lastgasp: already loaded with LD_PRELOAD, which handles this process")
		return nil
	}
	err := Install(OptionsFromEnv())
	switch {
	case err == nil:
	case errors.Is(err, ErrNoDirectory):
		fmt.Fprintln(os.Stderr, "lastgasp: LASTGASP_DIR is not set; crash dumps are off")
	default:
		fmt.Fprintf(os.Stderr, "%v; crash dumps are off\n", err)
	}
	return err
}

func envFlag(name string) bool {
	v := os.Getenv(name)
	return v != "" && v != "0"
}
