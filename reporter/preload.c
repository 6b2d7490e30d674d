/* preload.c — the LD_PRELOAD entry: install from the environment before main (and before the
 * Go runtime, whose initialisation runs after shared-library constructors). Built into
 * liblastgasp.so only: a program that links liblastgasp.a calls lastgasp_install() itself. */
#include "lastgasp.h"

__attribute__((constructor)) static void lastgasp_preload_nasync(void)
{
    lastgasp_install_from_env();
}
