/* test_sha256.c — formats/bundle/sha256.c against the FIPS 180-2 example vectors, fed whole and in uneven
 * pieces (every split of a two-block message), so the partial-block path is checked too.
 */
#include "../../formats/bundle/sha256.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

static void hex_of(const void *p, size_t n, size_t chunk, char out[65])
{
    struct bundle_sha256 s;
    const char *c = p;

    bundle_sha256_init(&s);
    for (size_t i = 0; i < n; i += chunk)
        bundle_sha256_update(&s, c + i, n - i < chunk ? n - i : chunk);
    bundle_sha256_hex(&s, out);
}

static void test_vectors(void)
{
    static const struct { const char *msg, *hex; } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrst"
         "nopqrstu", "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    char out[65];

    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t n = strlen(v[i].msg);
        for (size_t chunk = 1; chunk <= (n ? n : 1); chunk++) {
            hex_of(v[i].msg, n, chunk, out);
            CHECK_MSG(strcmp(out, v[i].hex) == 0, "vector %zu in pieces of %zu: %s", i, chunk, out);
        }
    }
}

/* One million 'a': many blocks, and a length whose bit count needs more than 16 bits. */
static void test_million(void)
{
    size_t n = 1000000;
    char *a = malloc(n), out[65];

    if (!a)
        return;
    memset(a, 'a', n);
    hex_of(a, n, n, out);
    CHECK(strcmp(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);
    hex_of(a, n, 4093, out);
    CHECK(strcmp(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);
    free(a);
}

/* Lengths around the padding boundary (55, 56, 63, 64 bytes) against digests made by Python's hashlib. */
static void test_padding_edges(void)
{
    static const struct { size_t n; const char *hex; } v[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
    };
    char a[64], out[65];

    memset(a, 'a', sizeof a);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        hex_of(a, v[i].n, 7, out);
        CHECK_MSG(strcmp(out, v[i].hex) == 0, "%zu bytes: %s", v[i].n, out);
    }
}

int main(void)
{
    test_vectors();
    test_million();
    test_padding_edges();
    return check_summary();
}
