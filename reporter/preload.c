/* preload.c — the LD_PRELOAD entry: install from the environment before main. Built into
 * liblastgasp.so only: a program that links liblastgasp.a calls lastgasp_install() itself.
 *
 * Normal context. In a Go executable the constructor runs before the Go runtime starts; lastgasp then
 * prepares everything but its signal handlers, which go on top of the runtime's at its first thread
 * (rep_arm_after_go_nasync, from our pthread_create wrapper), so that the runtime sees the process as
 * it would without lastgasp. The environment is left as it is.
 */
#include "rep.h"

__attribute__((constructor)) static void lastgasp_preload_nasync(void) { rep_install_from_env_nasync(1); }
