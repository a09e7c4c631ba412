/*
 * Library init and shutdown, and discovery of the backends: the built-in CPU backend, then the
 * plugins libxhal-<name>.so found in XHAL_BACKEND_PATH, the install's lib/xhal/, and beside the
 * executable, in that order (the first file found for a name wins). XHAL_BACKENDS keeps only
 * the backends it names.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "builtin_backends.h"
#include "registry.h"

#define XHAL_PLUGIN_PREFIX "libxhal-"
#define XHAL_PLUGIN_SUFFIX ".so"

/* Backends xhal ships: listed even when their plugin is absent, so users learn why. */
static const char *const known_plugins[] = {"opencl", "cuda", "hip", "levelzero"};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
xhal_registry_t xhal_registry;

static xhal_backend_entry_t *add_entry(const char *name, const char *path) {
    xhal_registry_t *r = &xhal_registry;
    if (r->count == r->capacity) {
        size_t capacity = r->capacity ? r->capacity * 2 : 8;
        xhal_backend_entry_t **grown = realloc(r->entries, capacity * sizeof *grown);
        if (!grown) return NULL;
        r->entries = grown;
        r->capacity = capacity;
    }
    xhal_backend_entry_t *entry = calloc(1, sizeof *entry);
    if (!entry) return NULL;
    xhal_format(entry->info.name, sizeof entry->info.name, "%s", name);
    xhal_format(entry->info.path, sizeof entry->info.path, "%s", path);
    entry->info.status = XHAL_UNAVAILABLE;
    r->entries[r->count++] = entry;
    return entry;
}

static xhal_backend_entry_t *find_entry(const char *name) {
    for (size_t i = 0; i < xhal_registry.count; i++)
        if (!strcmp(xhal_registry.entries[i]->info.name, name)) return xhal_registry.entries[i];
    return NULL;
}

/* True when XHAL_BACKENDS is unset or lists `name` (comma-separated, case-insensitive). */
static int allowed_by_filter(const char *filter, const char *name) {
    if (!filter || !*filter) return 1;
    size_t length = strlen(name);
    for (const char *p = filter; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && *p == ' ')
            p++, n--;
        while (n && p[n - 1] == ' ')
            n--;
        if (n == length && !strncasecmp(p, name, n)) return 1;
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

/* The folders searched for plugins, in priority order: a growing list of strdup'ed paths. */
typedef struct dir_list {
    char **dirs;
    size_t count, capacity;
    bool failed; /* out of memory: some folder is missing from the list */
} dir_list_t;

static void append_dir(dir_list_t *list, const char *dir) {
    if (!dir || !*dir) return;
    char resolved[PATH_MAX];
    const char *use = realpath(dir, resolved) ? resolved : dir;
    for (size_t i = 0; i < list->count; i++)
        if (!strcmp(list->dirs[i], use)) return;
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 8;
        char **grown = realloc(list->dirs, capacity * sizeof *grown);
        if (!grown) {
            list->failed = true;
            return;
        }
        list->dirs = grown;
        list->capacity = capacity;
    }
    char *copy = strdup(use);
    if (copy)
        list->dirs[list->count++] = copy;
    else
        list->failed = true;
}

static void free_dirs(dir_list_t *list) {
    for (size_t i = 0; i < list->count; i++)
        free(list->dirs[i]);
    free(list->dirs);
}

/*
 * The folders searched for plugins, in priority order: every folder of XHAL_BACKEND_PATH, then
 * the install's, then the executable's. No fixed number of them: a long XHAL_BACKEND_PATH must
 * not push the install's folder out of the search.
 */
static void plugin_dirs(dir_list_t *list) {
    const char *env = xhal_option("XHAL_BACKEND_PATH");
    if (env && *env) {
        char *copy = strdup(env);
        if (copy) {
            char *save = NULL;
            for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
                append_dir(list, dir);
            free(copy);
        } else {
            list->failed = true;
        }
    }
    /* The install's lib/xhal/: beside libxhal.so itself, wherever it was installed or built. */
    Dl_info self;
    if (dladdr((const void *)&xhal_registry, &self) && self.dli_fname) {
        char path[PATH_MAX];
        xhal_format(path, sizeof path, "%s", self.dli_fname);
        char dir[PATH_MAX];
        xhal_format(dir, sizeof dir, "%s/xhal", dirname(path));
        append_dir(list, dir);
    }
#ifdef XHAL_INSTALL_PLUGIN_DIR
    append_dir(list, XHAL_INSTALL_PLUGIN_DIR);
#endif
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        append_dir(list, dirname(exe));
    }
    if (list->failed)
        xhal_log(XHAL_LOG_WARN, "out of host memory listing the plugin folders: some were not "
                                "searched");
}

static int plugin_name(const char *file, char *out_name, size_t size) {
    size_t prefix = strlen(XHAL_PLUGIN_PREFIX), suffix = strlen(XHAL_PLUGIN_SUFFIX);
    size_t length = strlen(file);
    if (length <= prefix + suffix || strncmp(file, XHAL_PLUGIN_PREFIX, prefix) != 0 ||
        strcmp(file + length - suffix, XHAL_PLUGIN_SUFFIX) != 0)
        return 0;
    size_t n = length - prefix - suffix;
    if (n >= size) return 0;
    memcpy(out_name, file + prefix, n);
    out_name[n] = '\0';
    return 1;
}

static int compare_names(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

static void scan_dir(const char *dir, const char *filter) {
    DIR *d = opendir(dir);
    if (!d) return;
    /* readdir's order is arbitrary: sort names so device numbering is stable. */
    char(*names)[64] = NULL;
    size_t count = 0, capacity = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        char name[64];
        if (!plugin_name(e->d_name, name, sizeof name)) continue;
        if (count == capacity) {
            size_t grown_capacity = capacity ? capacity * 2 : 8;
            char(*grown)[64] = realloc(names, grown_capacity * sizeof *names);
            if (!grown) break;
            names = grown;
            capacity = grown_capacity;
        }
        memcpy(names[count++], name, sizeof name);
    }
    closedir(d);
    if (count) qsort(names, count, sizeof *names, compare_names);
    for (size_t i = 0; i < count; i++) {
        xhal_backend_entry_t *entry = find_entry(names[i]);
        if (entry && entry->info.path[0]) continue; /* found earlier in the search order */
        char path[PATH_MAX + 80];
        xhal_format(path, sizeof path, "%s/" XHAL_PLUGIN_PREFIX "%s" XHAL_PLUGIN_SUFFIX, dir,
                    names[i]);
        if (!entry) entry = add_entry(names[i], path);
        if (!entry) break;
        xhal_format(entry->info.path, sizeof entry->info.path, "%s", path);
        if (!allowed_by_filter(filter, names[i])) {
            entry->info.status = XHAL_UNAVAILABLE;
            xhal_format(entry->info.reason, sizeof entry->info.reason,
                        "XHAL_BACKENDS=%s does not name it", filter);
            continue;
        }
        if (!strcmp(names[i], "cpu")) {
            entry->info.status = XHAL_UNSUPPORTED;
            xhal_format(entry->info.reason, sizeof entry->info.reason,
                        "a plugin may not take the name of the built-in cpu backend");
            continue;
        }
        entry->info.status = XHAL_OK;
    }
    free(names);
}

static xhal_status_t registry_load(void) {
    const char *filter = xhal_option("XHAL_BACKENDS");
    xhal_backend_entry_t *cpu = add_entry("cpu", "(built in)");
    if (!cpu) return xhal_set_error(XHAL_OUT_OF_MEMORY, "xhal_init: out of host memory");
    if (allowed_by_filter(filter, "cpu")) {
        xhal_registry_adopt(cpu, xhal_cpu_backend_entry());
    } else {
        xhal_format(cpu->info.reason, sizeof cpu->info.reason, "XHAL_BACKENDS=%s does not name it",
                    filter);
    }
    /* Known plugins first, in a fixed order; their paths are filled if a file is found. */
    for (size_t i = 0; i < sizeof known_plugins / sizeof *known_plugins; i++)
        if (!add_entry(known_plugins[i], ""))
            return xhal_set_error(XHAL_OUT_OF_MEMORY, "xhal_init: out of host memory");

    dir_list_t dirs = {0};
    plugin_dirs(&dirs);
    for (size_t i = 0; i < dirs.count; i++)
        scan_dir(dirs.dirs[i], filter);

    char searched[512] = "";
    for (size_t i = 0; i < dirs.count; i++) {
        size_t used = strlen(searched);
        xhal_format(searched + used, sizeof searched - used, "%s%s", i ? ", " : "", dirs.dirs[i]);
    }
    free_dirs(&dirs);
    for (size_t i = 1; i < xhal_registry.count; i++) {
        xhal_backend_entry_t *entry = xhal_registry.entries[i];
        if (!entry->info.path[0]) {
            xhal_format(entry->info.reason, sizeof entry->info.reason,
                        "plugin " XHAL_PLUGIN_PREFIX "%s" XHAL_PLUGIN_SUFFIX
                        " not found (not built, or not in XHAL_BACKEND_PATH); searched: %s",
                        entry->info.name, searched[0] ? searched : "(no folder)");
            continue;
        }
        if (entry->info.status != XHAL_OK) continue; /* filtered or refused by name */
        xhal_registry_load_plugin(entry);
    }
    return XHAL_OK;
}

xhal_status_t xhal_registry_acquire(void) {
    pthread_mutex_lock(&registry_lock);
    xhal_status_t status = XHAL_OK;
    if (!xhal_registry.initialized) {
        status = xhal_options_load();
        xhal_log_configure();
        if (status == XHAL_OK) status = registry_load();
        xhal_registry.initialized = status == XHAL_OK;
    }
    if (status != XHAL_OK) pthread_mutex_unlock(&registry_lock);
    return status;
}

void xhal_registry_release(void) {
    pthread_mutex_unlock(&registry_lock);
}

xhal_status_t xhal_init(void) {
    CHECK(xhal_registry_acquire());
    xhal_registry_release();
    return XHAL_OK;
}

void xhal_shutdown(void) {
    pthread_mutex_lock(&registry_lock);
    /* Unload in reverse so plugins go before the backend they were found after. */
    for (size_t i = xhal_registry.count; i-- > 0;) {
        xhal_registry_unload(xhal_registry.entries[i]);
        free(xhal_registry.entries[i]);
    }
    free(xhal_registry.entries);
    memset(&xhal_registry, 0, sizeof xhal_registry);
    xhal_options_clear();
    pthread_mutex_unlock(&registry_lock);
}

const char *xhal_version_string(void) {
#define XHAL_STR2(x) #x
#define XHAL_STR(x) XHAL_STR2(x)
    return XHAL_STR(XHAL_VERSION_MAJOR) "." XHAL_STR(XHAL_VERSION_MINOR) "." XHAL_STR(
        XHAL_VERSION_PATCH);
}

uint32_t xhal_version(void) {
    // cppcheck-suppress badBitmaskCheck
    return (XHAL_VERSION_MAJOR << 16) | (XHAL_VERSION_MINOR << 8) | XHAL_VERSION_PATCH;
}

xhal_status_t xhal_backend_count(size_t *out_count) {
    if (!out_count)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "xhal_backend_count: out_count is NULL");
    CHECK(xhal_registry_acquire());
    *out_count = xhal_registry.count;
    xhal_registry_release();
    return XHAL_OK;
}

xhal_status_t xhal_backend_info(size_t index, xhal_backend_info_t *out_info) {
    if (!out_info)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "xhal_backend_info: out_info is NULL");
    CHECK(xhal_registry_acquire());
    xhal_status_t status = XHAL_OK;
    if (index < xhal_registry.count)
        *out_info = xhal_registry.entries[index]->info;
    else
        status = xhal_set_error(XHAL_OUT_OF_RANGE,
                                "xhal_backend_info: index (%zu) >= the backend count (%zu)", index,
                                xhal_registry.count);
    xhal_registry_release();
    return status;
}
