// Package auto installs lastgasp when the program starts, from the LASTGASP_* environment
// variables (see lastgasp.OptionsFromEnv). Import it for its side effect:
//
//	import _ "github.com/lastgasp/lastgasp/goshim/auto"
//
// Without LASTGASP_DIR it prints one line on stderr and the program runs on without crash dumps.
package auto

import lastgasp "github.com/lastgasp/lastgasp/goshim"

func init() {
	lastgasp.InstallFromEnv()
}
