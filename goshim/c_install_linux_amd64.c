/* The install-side sources of lastgasp (normal context, libc allowed), compiled by cgo as one
 * translation unit: INSTALL_SRC in the Makefile; keep the lists equal. */
#include "reporter/install.c"
#include "reporter/altstack.c"
#include "reporter/go_inspect.c"
#include "reporter/go_install.c"
#include "reporter/go_traceback.c"
#include "reporter/annotate.c"
#include "reporter/protect.c"
