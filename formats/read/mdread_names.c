/* mdread_names.c — names of stream types and architectures, for warnings and reports. A leaf of formats/read/.
 *
 * Normal context (the tool).
 */
#include "mdread_int.h"

#include <stdio.h>

const char *mdr_stream_name(uint32_t type)
{
    switch (type) {
    case MD_UNUSED_STREAM: return "Unused";
    case MD_THREAD_LIST_STREAM: return "ThreadList";
    case MD_MODULE_LIST_STREAM: return "ModuleList";
    case MD_MEMORY_LIST_STREAM: return "MemoryList";
    case MD_EXCEPTION_STREAM: return "Exception";
    case MD_SYSTEM_INFO_STREAM: return "SystemInfo";
    case MD_MISC_INFO_STREAM: return "MiscInfo";
    case MD_THREAD_NAME_LIST_STREAM: return "ThreadNameList";
    case 0x47670001: return "BreakpadInfo";
    case 0x47670002: return "AssertionInfo";
    case MD_LINUX_CPU_INFO: return "LinuxCpuInfo";
    case MD_LINUX_PROC_STATUS: return "LinuxProcStatus";
    case 0x47670005: return "LinuxLsbRelease";
    case MD_LINUX_CMD_LINE: return "LinuxCmdLine";
    case MD_LINUX_ENVIRON: return "LinuxEnviron";
    case MD_LINUX_AUXV: return "LinuxAuxv";
    case MD_LINUX_MAPS: return "LinuxMaps";
    case 0x4767000a: return "LinuxDsoDebug";
    case LG_STREAM_CRASH_INFO: return "lastgasp";
    case LG_STREAM_GO: return "lastgasp Go";
    case LG_STREAM_CGROUP: return "lastgasp cgroup";
    case LG_STREAM_HOSTNAME: return "lastgasp hostname";
    case LG_STREAM_GO_CRASH_TEXT: return "lastgasp Go crash text";
    case MD_CRASHPAD_INFO_STREAM: return "CrashpadInfo";
    default: return NULL;
    }
}

const char *mdr_arch_name(uint16_t arch)
{
    switch (arch) {
    case 0: return "x86";
    case 2: return "mips";
    case 5: return "arm";
    case 6: return "ia64";
    case 9: return "amd64";
    case 12: return "arm64"; /* PROCESSOR_ARCHITECTURE_ARM64: Crashpad writes it on Linux too */
    case 0x8003: return "arm64";
    case 0x8005: return "mips64";
    case 0x8006: return "riscv";
    case 0x8007: return "riscv64";
    default: return NULL;
    }
}

const char *mdr_type_label(uint32_t type, char *buf, size_t buflen)
{
    const char *name = mdr_stream_name(type);

    if (type < 0x10000)
        snprintf(buf, buflen, "%u (%s)", (unsigned)type, name ? name : "unknown");
    else
        snprintf(buf, buflen, "0x%x (%s)", (unsigned)type, name ? name : "unknown");
    return buf;
}
