/* SPIR-V modules compiled into a plugin: lookup and IL support (see xc_spirv.h). */
#include "xc_spirv.h"

#include <stdio.h>
#include <string.h>

#include "xc_cache.h"

const xc_spirv_module_t *xc_spirv_find(const xc_spirv_module_t *table, size_t count,
                                       const char *program, const char *options) {
    if (!table || !program || !options) return NULL;
    for (size_t i = 0; i < count; i++)
        if (strcmp(table[i].program, program) == 0 && strcmp(table[i].options, options) == 0)
            return &table[i];
    return NULL;
}

int xc_spirv_il_supported(const char *il_versions) {
    if (!il_versions) return 0;
    /* Each entry is "SPIR-V_<major>.<minor>", separated by spaces. */
    for (const char *p = strstr(il_versions, "SPIR-V_"); p; p = strstr(p + 1, "SPIR-V_")) {
        int major = 0, minor = 0;
        if (sscanf(p + 7, "%d.%d", &major, &minor) == 2 && major == 1 && minor >= 0) return 1;
    }
    return 0;
}

void xc_spirv_digest(const xc_spirv_module_t *module, char out[17]) {
    snprintf(out, 17, "%016llx",
             (unsigned long long)xc_hash64(module->code, module->size, 0x5350495256ULL));
}
