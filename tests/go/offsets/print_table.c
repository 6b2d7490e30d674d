/* print_table.c — print what reporter/go/go_offsets.c says about one Go version, as the JSON that
 * dwarfoffsets prints from a binary, so the two can be compared (tests/go/offsets/run.sh).
 *
 *   print_table VERSION     VERSION as a binary's buildinfo gives it, e.g. "go1.22.12"
 *
 * Exit status 0; 1 when go_parse_version or the table rejects the version. Test tool, normal context.
 */
#include "reporter/go/go_offsets.h"

#include <stddef.h>
#include <stdio.h>

/* Every member of struct go_offsets, in order, under the name dwarfoffsets gives it. */
#define FIELD(name) {#name, offsetof(struct go_offsets, name)}
static const struct {
    const char *name;
    size_t off;
} fields[] = {
    FIELD(g_stack_lo), FIELD(g_stack_hi), FIELD(g_stackguard0), FIELD(g_panic), FIELD(g_defer),
    FIELD(g_m), FIELD(g_sched_sp), FIELD(g_sched_pc), FIELD(g_sched_g), FIELD(g_sched_ctxt),
    FIELD(g_sched_lr), FIELD(g_sched_bp), FIELD(g_syscallsp), FIELD(g_syscallpc), FIELD(g_syscallbp),
    FIELD(g_atomicstatus), FIELD(g_goid), FIELD(g_waitsince), FIELD(g_waitreason), FIELD(g_lockedm),
    FIELD(g_parent_goid), FIELD(g_gopc), FIELD(g_startpc), FIELD(g_labels), FIELD(g_sig),
    FIELD(g_sigcode0), FIELD(g_sigcode1), FIELD(g_sigpc), FIELD(g_size),
    FIELD(gobuf_size), FIELD(m_g0), FIELD(m_procid), FIELD(m_gsignal), FIELD(m_curg),
    FIELD(m_caughtsig), FIELD(m_p), FIELD(m_id), FIELD(m_throwing), FIELD(m_incgo), FIELD(m_ncgo),
    FIELD(m_cgo_callers), FIELD(m_alllink), FIELD(m_lockedg), FIELD(m_vdso_sp), FIELD(m_vdso_pc),
    FIELD(m_dying), FIELD(m_size), FIELD(panic_arg), FIELD(panic_link), FIELD(panic_recovered),
    FIELD(panic_goexit), FIELD(panic_repanicked), FIELD(panic_size), FIELD(md_types), FIELD(md_etypes),
    FIELD(type_tflag), FIELD(type_kind), FIELD(type_str),
};

/* A missing or extra member would go unprinted or be printed twice: count them. */
_Static_assert(sizeof(fields) / sizeof(fields[0]) == sizeof(struct go_offsets) / sizeof(uint16_t),
               "fields[] names every member of struct go_offsets");

static void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: print_table GOVERSION\n");
        return 2;
    }
    int major, minor, patch;
    struct go_offsets o;
    if (go_parse_version(argv[1], &major, &minor, &patch) != 0) {
        fprintf(stderr, "print_table: go_parse_version rejects \"%s\"\n", argv[1]);
        return 1;
    }
    if (go_offsets_for_version(major, minor, patch, &o) != 0) {
        fprintf(stderr, "print_table: no table row for Go %d.%d.%d\n", major, minor, patch);
        return 1;
    }
    printf("{\n  \"go_version\": ");
    print_json_string(argv[1]);
    printf(",\n  \"offsets\": {\n");
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        uint16_t v = *(const uint16_t *)((const char *)&o + fields[i].off);
        printf("    \"%s\": ", fields[i].name);
        if (v == GO_OFF_ABSENT)
            printf("null");
        else
            printf("%u", v);
        printf("%s\n", i + 1 < sizeof(fields) / sizeof(fields[0]) ? "," : "");
    }
    printf("  },\n  \"wait_reasons\": [");
    int n = go_wait_reason_count(major, minor, patch);
    for (int i = 0; i < n; i++) {
        printf("%s\n    ", i ? "," : "");
        print_json_string(go_wait_reason(major, minor, patch, (uint8_t)i));
    }
    printf("\n  ],\n  \"status_names\": [");
    n = go_status_count(major, minor, patch);
    for (int i = 0; i < n; i++) {
        printf("%s\n    ", i ? "," : "");
        print_json_string(go_status_name(major, minor, patch, (uint32_t)i));
    }
    printf("\n  ]\n}\n");
    return 0;
}
