/* render_text.c — the text helpers every renderer shares: UTF-8 decoding, neutralized terminal text, times,
 * the Go program's path, the signal line. A leaf: it calls nothing else of formats/render/.
 *
 * Normal context.
 */
#include "render.h"
#include "../minidump/minidump.h"
#include "../json/json.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

/* The one decoder, formats/json/json_utf8.c: every output replaces the same bad bytes the same way. */
size_t render_utf8_next(const unsigned char *s, size_t n, uint32_t *cp) { return json_utf8_next(s, n, cp); }

/* Core of render_put_text() for n bytes; nul_as_space serves NUL-separated text such as a command line. */
void render_put_text_n(FILE *out, const char *s, size_t n, int keep_newlines, int nul_as_space)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        uint32_t cp;
        size_t k = render_utf8_next(p + i, n - i, &cp);

        if (cp == 0 && nul_as_space)
            fputc(' ', out);
        else if (keep_newlines && (cp == '\n' || cp == '\t'))
            fputc((int)cp, out);
        else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) /* C0 and C1 controls */
            fputc('?', out);
        else if (cp == 0xfffd)
            fputs("\xef\xbf\xbd", out);
        else
            fwrite(p + i, 1, k, out);
        i += k;
    }
}

void render_put_text(FILE *out, const char *s, const char *fallback, int keep_newlines)
{
    if (!s)
        s = fallback;
    if (s)
        render_put_text_n(out, s, strlen(s), keep_newlines, 0);
}

int render_time_utc(uint64_t ns, char *buf, size_t n)
{
    time_t secs = (time_t)(ns / 1000000000u);
    struct tm tm;
    char when[48];

    if (!gmtime_r(&secs, &tm) || !strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm))
        return -1;
    return snprintf(buf, n, "%s.%03u UTC", when, (unsigned)(ns % 1000000000u / 1000000u)) < (int)n ? 0 : -1;
}

const char *render_go_program_path(const char *build_info, size_t *n)
{
    const char *p = build_info ? strstr(build_info, "path\t") : NULL;

    /* the first line that starts with the key: "path" inside a dep's line does not count */
    while (p && p != build_info && p[-1] != '\n')
        p = strstr(p + 1, "path\t");
    if (!p)
        return NULL;
    *n = strcspn(p + 5, "\n");
    return p + 5;
}

void render_put_signal_line(FILE *out, const struct render_report *r)
{
    const char *sig = md_signal_name(r->signo), *code = md_si_code_name(r->signo, r->code);

    if (sig)
        fputs(sig, out);
    else
        fprintf(out, "signal %" PRIu32, r->signo);
    if (code)
        fprintf(out, " (%s)", code);
    else
        fprintf(out, " (si_code %" PRId32 ")", r->code);
    /* si_addr means something only when the kernel raised the signal (si_code > 0). */
    if (r->code > 0)
        fprintf(out, " at 0x%" PRIx64, r->address);
}
