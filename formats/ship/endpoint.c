/* endpoint.c — the upload URL from what the user gave: a plain http(s) URL, or a Sentry-style DSN.
 *
 * Normal context. A DSN is SCHEME://PUBLIC_KEY[:SECRET]@HOST[:PORT][/PREFIX]/PROJECT_ID (Sentry, and Bugsink,
 * which copies it); its minidump endpoint is SCHEME://HOST[:PORT][/PREFIX]/api/PROJECT_ID/minidump/ with the
 * key as the sentry_key query parameter. What makes a URL a DSN: a user part, a last path segment of digits
 * only, no query. A URL with credentials for some other server (user:pass@host/submit) is not one.
 */
#include "ship.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int all_digits(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

char *ship_endpoint(const char *arg, int *is_dsn, char *err, size_t errlen)
{
    size_t scheme_n = strncasecmp(arg, "https://", 8) == 0 ? 8 : strncasecmp(arg, "http://", 7) == 0 ? 7 : 0;
    char *out = NULL;

    *is_dsn = 0;
    if (!scheme_n || !arg[scheme_n]) {
        snprintf(err, errlen, "%s: not an http:// or https:// URL (nor a DSN)", arg);
        return NULL;
    }
    const char *auth = arg + scheme_n;
    size_t auth_n = strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', auth_n);
    const char *path = auth + auth_n;
    const char *last = strrchr(path, '/');
    size_t path_n = strcspn(path, "?#");

    if (at && !path[path_n] && last && all_digits(last + 1, strlen(last + 1))) {
        const char *host = at + 1;
        size_t key_n = strcspn(auth, ":@"); /* a legacy DSN's ":SECRET" is not sent */
        if (key_n == 0 || host == auth + auth_n) {
            snprintf(err, errlen, "%s: a DSN needs a key and a host (SCHEME://KEY@HOST/PROJECT_ID)", arg);
            return NULL;
        }
        if (asprintf(&out, "%.*s%.*s%.*s/api/%s/minidump/?sentry_key=%.*s", (int)scheme_n, arg,
                     (int)(auth + auth_n - host), host, (int)(last - path), path, last + 1, (int)key_n, auth) < 0)
            out = NULL;
        *is_dsn = 1;
    } else {
        out = strdup(arg);
    }
    if (!out)
        snprintf(err, errlen, "out of memory");
    return out;
}

/* Known to decode Content-Encoding: gzip, and recognisable by the shape of their URLs: Sentry's minidump
 * endpoint (its SDKs send gzip'd bodies) and Bugsink's (checked by the tests), Backtrace's (Crashpad gzips by
 * default). Socorro's collector decodes it too (its spec), but ".../submit" is too common a shape to guess
 * from: --gzip says so. Anything else gets the plain body. */
int ship_gzip_default(const char *url, int is_dsn)
{
    if (is_dsn)
        return 1;
    const char *api = strstr(url, "/api/");
    if (api) {
        const char *p = api + 5;
        size_t n = strspn(p, "0123456789");
        if (n && strncmp(p + n, "/minidump", 9) == 0)
            return 1;
    }
    return strstr(url, "backtrace.io/") != NULL && strstr(url, "minidump") != NULL;
}
