/* demo.c — the program `make demo` crashes: a worker thread parses a malformed record and
 * dereferences a pointer it never checked, while the main thread waits for it. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct record {
    const char *name;
    const char *value;
};

static const char *volatile g_input = "key-without-value";

__attribute__((noinline)) static size_t value_length(const struct record *r)
{
    size_t n = 0;
    while (r->value[n] != '\0') /* r->value is NULL for a malformed record */
        n++;
    return n;
}

__attribute__((noinline)) static void parse_record(const char *line, struct record *r)
{
    r->name = line;
    r->value = strchr(line, '=') ? strchr(line, '=') + 1 : NULL;
}

static void *worker(void *arg)
{
    (void)arg;
    struct record r;
    parse_record(g_input, &r);
    printf("value has %zu bytes\n", value_length(&r));
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_join(t, NULL);
    return 0;
}
