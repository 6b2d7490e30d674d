/* gzip.c — a buffer gzipped through a sink (pprof.h). Normal context; zlib, which the tool already links for
 * bundles. `go tool pprof` reads a profile gzipped or not; Go writes them gzipped, and so does this.
 */
#include "pprof.h"

#include <string.h>
#include <zlib.h>

#define GZIP_WINDOW (15 + 16) /* deflate's largest window, with a gzip wrapper instead of zlib's */
#define OUT_CHUNK (64u << 10)

int pprof_gzip(const uint8_t *p, size_t n, int (*sink)(const void *p, size_t n, void *ctx), void *ctx)
{
    uint8_t out[OUT_CHUNK];
    z_stream z;
    int rc = -1, zrc;

    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, GZIP_WINDOW, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    z.next_in = (Bytef *)p;
    do {
        /* avail_in is 32 bits: feed a larger buffer in pieces. */
        size_t piece = n > (1u << 30) ? (1u << 30) : n;
        z.avail_in = (uInt)piece;
        n -= piece;
        do {
            z.next_out = out;
            z.avail_out = sizeof out;
            zrc = deflate(&z, n ? Z_NO_FLUSH : Z_FINISH);
            if (zrc == Z_STREAM_ERROR)
                goto done;
            if (sizeof out - z.avail_out && sink(out, sizeof out - z.avail_out, ctx) != 0)
                goto done;
        } while (z.avail_out == 0 && zrc != Z_STREAM_END);
    } while (n);
    rc = zrc == Z_STREAM_END ? 0 : -1;
done:
    deflateEnd(&z);
    return rc;
}
