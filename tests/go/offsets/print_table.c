/* print_table.c — print what reporter/go/go_offsets.c says about one Go version, as the JSON that
 * dwarfoffsets prints from a binary, so the two can be compared (tests/go/offsets/run.sh).
 *
 *   print_table VERSION     VERSION as a binary's buildinfo gives it, e.g. "go1.22.12"
 *
 * Exit status 0; 1 when go_parse_version or the table rejects the version. Test tool, normal context.
 */
#include "formats/json/json.h"
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
    struct json_w w;
    json_w_init_file(&w, stdout);
    json_obj(&w);
    json_key(&w, "go_version");
    json_str(&w, argv[1]);
    json_key(&w, "offsets");
    json_obj(&w);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        uint16_t v = *(const uint16_t *)((const char *)&o + fields[i].off);
        json_key(&w, fields[i].name);
        if (v == GO_OFF_ABSENT)
            json_null(&w);
        else
            json_u64(&w, v);
    }
    json_obj_end(&w);
    json_key(&w, "wait_reasons");
    json_arr(&w);
    int n = go_wait_reason_count(major, minor, patch);
    for (int i = 0; i < n; i++)
        json_str(&w, go_wait_reason(major, minor, patch, (uint8_t)i));
    json_arr_end(&w);
    json_key(&w, "status_names");
    json_arr(&w);
    n = go_status_count(major, minor, patch);
    for (int i = 0; i < n; i++)
        json_str(&w, go_status_name(major, minor, patch, (uint32_t)i));
    json_arr_end(&w);
    json_obj_end(&w);
    if (json_w_finish(&w) != 0 || putchar('\n') == EOF) {
        fprintf(stderr, "print_table: cannot write the table: %s\n", json_w_strerror(&w));
        return 1;
    }
    return 0;
}
