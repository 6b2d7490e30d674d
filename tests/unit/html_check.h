/* html_check.h — what a page of `lastgasp html` must be, whatever the dump held: checked by the unit tests
 * (test_render_html.c) on crafted models and by the fuzzer (tests/fuzz/fuzz_mdread.c) on hostile files.
 *
 * Every '<' opens or closes one of the tags the renderer itself writes (so no markup came from the dump), and
 * each container tag closes as often as it opens. Header-only, static.
 */
#ifndef LASTGASP_TESTS_HTML_CHECK_H
#define LASTGASP_TESTS_HTML_CHECK_H

#include <stddef.h>
#include <string.h>

static const char *const html_check_tags[] = {
    "!DOCTYPE", "html", "head", "meta", "link", "title", "style", "body", "section", "div", "h1", "h2", "table",
    "tr", "th", "td", "code", "span", "b", "p", "details", "summary", "ul", "li", "a", "br", "pre",
};

/* Tags that must be closed, checked for balance. */
static const char *const html_check_paired[] = { "section", "div", "table", "details", "summary", "ul", "h1", "h2", "pre" };

/* The count of "<name" followed by ' ' or '>' in s[0..n). */
static size_t html_check_count(const char *s, size_t n, const char *open, const char *name)
{
    size_t c = 0, k = strlen(open), m = strlen(name);

    for (size_t i = 0; i + k + m < n; i++)
        if (memcmp(s + i, open, k) == 0 && memcmp(s + i + k, name, m) == 0 &&
            (s[i + k + m] == ' ' || s[i + k + m] == '>'))
            c++;
    return c;
}

/* 1 when every '<' in s[0..n) starts one of our tags and the paired tags balance; else 0, with the offending
 * offset in *where. */
static int html_check_page(const char *s, size_t n, size_t *where)
{
    for (size_t i = 0; i < n; i++) {
        size_t j = i + 1, k;
        int ok = 0;

        if (s[i] != '<')
            continue;
        if (j < n && s[j] == '/')
            j++;
        for (k = 0; k < sizeof html_check_tags / sizeof html_check_tags[0] && !ok; k++) {
            size_t m = strlen(html_check_tags[k]);

            ok = j + m < n && memcmp(s + j, html_check_tags[k], m) == 0 && (s[j + m] == ' ' || s[j + m] == '>');
        }
        if (!ok) {
            *where = i;
            return 0;
        }
    }
    for (size_t k = 0; k < sizeof html_check_paired / sizeof html_check_paired[0]; k++)
        if (html_check_count(s, n, "<", html_check_paired[k]) != html_check_count(s, n, "</", html_check_paired[k])) {
            *where = n;
            return 0;
        }
    return 1;
}

#endif
