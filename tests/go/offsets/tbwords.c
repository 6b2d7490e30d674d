/* tbwords.c — check go_traceback_words (reporter/install/go_traceback.c) against a Go binary's symbols.
 *
 * Usage: tbwords BINARY. Reads the ELF file, finds runtime.traceback_cache, runtime.traceback_env and
 * the function that sets one from the other (runtime.finishDebugVarsSetup, else runtime.parsedebugvars)
 * in .symtab, decodes that function's code the way a stripped binary is handled at install (the amd64
 * or the arm64 decoder, by the binary's e_machine), and
 * prints "ok ..." when the decoded addresses are the symbols' (exit 0), else what differs (exit 1). */
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int go_traceback_words(const uint8_t *code, size_t len, uint64_t addr, uint64_t *cache, uint64_t *env);
int go_traceback_words_arm64(const uint8_t *code, size_t len, uint64_t addr, uint64_t *cache, uint64_t *env);

int main(int argc, char **argv)
{
    struct stat st;
    int fd = argc == 2 ? open(argv[1], O_RDONLY) : -1;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "usage: tbwords GO-BINARY\n");
        return 2;
    }
    const uint8_t *f = mmap(0, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(f + eh->e_shoff);
    uint64_t cache = 0, env = 0, fn = 0, fn_size = 0, fn_old = 0, fn_old_size = 0;
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB)
            continue;
        const Elf64_Sym *sym = (const Elf64_Sym *)(f + sh[i].sh_offset);
        const char *strs = (const char *)f + sh[sh[i].sh_link].sh_offset;
        for (size_t k = 0; k < sh[i].sh_size / sizeof *sym; k++) {
            const char *name = strs + sym[k].st_name;
            if (!strcmp(name, "runtime.traceback_cache"))
                cache = sym[k].st_value;
            else if (!strcmp(name, "runtime.traceback_env"))
                env = sym[k].st_value;
            else if (!strcmp(name, "runtime.finishDebugVarsSetup"))
                fn = sym[k].st_value, fn_size = sym[k].st_size;
            else if (!strcmp(name, "runtime.parsedebugvars"))
                fn_old = sym[k].st_value, fn_old_size = sym[k].st_size;
        }
    }
    if (!fn)
        fn = fn_old, fn_size = fn_old_size;
    if (!cache || !env || !fn || !fn_size) {
        printf("symbols missing: cache %#lx env %#lx function %#lx+%lu\n", (unsigned long)cache, (unsigned long)env,
               (unsigned long)fn, (unsigned long)fn_size);
        return 1;
    }
    /* The function's file bytes: find the section that holds its address. */
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_PROGBITS || fn < sh[i].sh_addr || fn + fn_size > sh[i].sh_addr + sh[i].sh_size)
            continue;
        uint64_t c = 0, e = 0;
        int r = (eh->e_machine == EM_AARCH64 ? go_traceback_words_arm64 : go_traceback_words)(f + sh[i].sh_offset + (fn - sh[i].sh_addr), fn_size, fn, &c, &e);
        if (r == 0 && c == cache && e == env) {
            printf("ok traceback_cache %#lx traceback_env %#lx decoded from the code\n", (unsigned long)c,
                   (unsigned long)e);
            return 0;
        }
        printf("decoded r=%d cache %#lx env %#lx; symbols say %#lx %#lx\n", r, (unsigned long)c, (unsigned long)e,
               (unsigned long)cache, (unsigned long)env);
        return 1;
    }
    printf("the function's code is not in the file\n");
    return 1;
}
