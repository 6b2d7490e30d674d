/* sha256.h — SHA-256 (FIPS 180-4) for the bundle manifest, written here rather than pulled from a crypto
 * library: the `lastgasp` tool then links only minizip and zlib. Normal context; incremental.
 */
#ifndef LASTGASP_SHA256_H
#define LASTGASP_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct bundle_sha256 {
    uint32_t h[8];
    uint64_t total;     /* bytes hashed so far */
    uint8_t block[64];  /* the partial block: total % 64 bytes */
};

void bundle_sha256_init(struct bundle_sha256 *s);
void bundle_sha256_update(struct bundle_sha256 *s, const void *p, size_t n);
/* The digest as 64 lowercase hex digits and a NUL. */
void bundle_sha256_hex(struct bundle_sha256 *s, char out[65]);

#endif
