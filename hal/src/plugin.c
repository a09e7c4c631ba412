/*
 * Loading one backend: dlopen the plugin, find its entry point, check the table's ABI and its
 * required entries, initialise it and open its devices. Every failure is recorded on the entry
 * (status + sentence) and stops only this backend.
 */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

static void fail(xhal_backend_entry_t *entry, xhal_status_t status, const char *reason) {
    entry->info.status = status;
    xhal_format(entry->info.reason, sizeof entry->info.reason, "%s", reason);
    xhal_log(XHAL_LOG_INFO, "backend %s not loaded: %s", entry->info.name, reason);
}

/* The entries a backend must provide; ops may be NULL. */
static const char *missing_required_entry(const xhal_backend_api_t *api) {
#define XHAL_REQUIRE(field)                                                                        \
    if (!api->field) return #field
    XHAL_REQUIRE(init);
    XHAL_REQUIRE(shutdown);
    XHAL_REQUIRE(device_count);
    XHAL_REQUIRE(device_open);
    XHAL_REQUIRE(device_close);
    XHAL_REQUIRE(device_info);
    XHAL_REQUIRE(buffer_alloc);
    XHAL_REQUIRE(buffer_free);
    XHAL_REQUIRE(stream_create);
    XHAL_REQUIRE(stream_destroy);
    XHAL_REQUIRE(stream_synchronize);
    XHAL_REQUIRE(event_create);
    XHAL_REQUIRE(event_destroy);
    XHAL_REQUIRE(event_record);
    XHAL_REQUIRE(stream_wait_event);
    XHAL_REQUIRE(event_synchronize);
    XHAL_REQUIRE(event_elapsed_ms);
    XHAL_REQUIRE(copy_h2d);
    XHAL_REQUIRE(copy_d2h);
    XHAL_REQUIRE(copy_d2d);
    XHAL_REQUIRE(fill);
#undef XHAL_REQUIRE
    return NULL;
}

static xhal_status_t open_device(xhal_backend_entry_t *entry, uint32_t index,
                                 xhal_device_t **out_device) {
    xhal_device_t *device = calloc(1, sizeof *device);
    if (!device) return xhal_set_error(XHAL_OUT_OF_MEMORY, "out of host memory for a device");
    device->backend = entry;
    device->api = &entry->api;
    device->index = index;
    device->objects.next = device->objects.prev = &device->objects;
    xhal_status_t status = entry->api.device_open(entry->state, index, &device->impl);
    if (status == XHAL_OK) {
        device->info.struct_size = sizeof device->info;
        status = entry->api.device_info(device->impl, &device->info);
        device->info.struct_size = sizeof device->info; /* whatever the backend did with it */
        if (status != XHAL_OK) entry->api.device_close(device->impl);
    }
    /* Figures the backend left 0 come from the datasheet table when the device is in it. */
    if (status == XHAL_OK) xhal_device_fill_peaks(&device->info);
    if (status != XHAL_OK) {
        free(device);
        return status;
    }
    /* The core owns these two fields: they must agree with how the device is found. */
    xhal_format(device->info.backend, sizeof device->info.backend, "%s", entry->info.name);
    xhal_format(device->info.spec, sizeof device->info.spec, "%s:%u", entry->info.name, index);
    pthread_mutex_init(&device->lock, NULL);
    *out_device = device;
    return XHAL_OK;
}

void xhal_registry_adopt(xhal_backend_entry_t *entry, const xhal_backend_api_t *api) {
    char reason[sizeof entry->info.reason];
    if (!api) {
        fail(entry, XHAL_UNAVAILABLE, "its entry point returned no backend table");
        return;
    }
    if (api->abi_major != XHAL_BACKEND_ABI_MAJOR) {
        xhal_format(reason, sizeof reason,
                    "it was built for backend ABI %u.%u and this xhal speaks ABI %d.%d: rebuild it "
                    "against this xhal",
                    (unsigned)api->abi_major, (unsigned)api->abi_minor, XHAL_BACKEND_ABI_MAJOR,
                    XHAL_BACKEND_ABI_MINOR);
        fail(entry, XHAL_UNSUPPORTED, reason);
        return;
    }
    size_t minimum = offsetof(xhal_backend_api_t, fill) + sizeof api->fill;
    if (api->struct_size < minimum) {
        xhal_format(reason, sizeof reason,
                    "its table is %u bytes, shorter than the %zu of ABI %d.0",
                    (unsigned)api->struct_size, minimum, XHAL_BACKEND_ABI_MAJOR);
        fail(entry, XHAL_UNSUPPORTED, reason);
        return;
    }
    /* Entries a newer minor adds past the plugin's table read as NULL (unsupported). */
    memset(&entry->api, 0, sizeof entry->api);
    memcpy(&entry->api, api,
           api->struct_size < sizeof entry->api ? api->struct_size : sizeof entry->api);
    const char *missing = missing_required_entry(&entry->api);
    if (missing) {
        xhal_format(reason, sizeof reason, "its table has no %s entry, which every backend needs",
                    missing);
        fail(entry, XHAL_UNSUPPORTED, reason);
        return;
    }

    xhal_set_error(XHAL_OK, "%s", "");
    xhal_status_t status = entry->api.init(xhal_host_api(), &entry->state);
    if (!strcmp(xhal_status_name(status), "XHAL_UNKNOWN_STATUS")) {
        /* Whatever the init did, a status the header does not define cannot be passed on. */
        xhal_format(reason, sizeof reason,
                    "its init returned %d, which is no xhal_status_t (a bug in the plugin)",
                    (int)status);
        if (entry->state) entry->api.shutdown(entry->state);
        entry->state = NULL;
        fail(entry, XHAL_INTERNAL, reason);
        return;
    }
    if (status != XHAL_OK) {
        entry->state = NULL;
        const char *why = *xhal_last_error() ? xhal_last_error() : "its init failed";
        fail(entry, status, why);
        return;
    }
    uint32_t count = entry->api.device_count(entry->state);
    entry->devices = count ? calloc(count, sizeof *entry->devices) : NULL;
    entry->failures = count ? calloc(count, sizeof *entry->failures) : NULL;
    if (count && (!entry->devices || !entry->failures)) {
        free(entry->devices);
        free(entry->failures);
        entry->devices = NULL;
        entry->failures = NULL;
        entry->api.shutdown(entry->state);
        entry->state = NULL;
        fail(entry, XHAL_OUT_OF_MEMORY, "out of host memory for its device list");
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        xhal_device_t *device = NULL;
        if (open_device(entry, i, &device) != XHAL_OK) {
            /* One broken device must not hide its siblings. */
            xhal_log(XHAL_LOG_WARN, "%s: device %u did not open: %s", entry->info.name, i,
                     xhal_last_error());
            xhal_format(entry->info.reason, sizeof entry->info.reason, "device %u did not open: %s",
                        i, xhal_last_error());
            xhal_device_failure_t *failure = &entry->failures[entry->failure_count++];
            failure->index = i;
            xhal_format(failure->reason, sizeof failure->reason, "%s",
                        *xhal_last_error() ? xhal_last_error() : "its device_open failed");
            continue;
        }
        entry->devices[entry->device_count++] = device;
    }
    entry->info.loaded = 1;
    entry->info.status = XHAL_OK;
    entry->info.device_count = entry->device_count;
    if (entry->device_count == 0 && !entry->info.reason[0])
        xhal_format(entry->info.reason, sizeof entry->info.reason,
                    "loaded, but it found no device");
    xhal_log(XHAL_LOG_INFO, "backend %s loaded from %s with %u device(s)", entry->info.name,
             entry->info.path, entry->device_count);
}

/*
 * NULL when `symbol` is a function (ELF type FUNC or GNU_IFUNC), else what it is: "a data
 * object", "a symbol of ELF type N", or "a symbol the dynamic linker cannot describe".
 */
static const char *symbol_kind(void *symbol) {
    Dl_info where;
    void *extra = NULL;
    if (!dladdr1(symbol, &where, &extra, RTLD_DL_SYMENT) || !extra)
        return "a symbol the dynamic linker cannot describe";
    const ElfW(Sym) *elf = extra;
    /* ELF32_ST_TYPE and ELF64_ST_TYPE are the same: the low 4 bits of st_info. */
    switch (ELF64_ST_TYPE(elf->st_info)) {
    case STT_FUNC:
    case STT_GNU_IFUNC:
        return NULL;
    case STT_OBJECT:
    case STT_COMMON:
    case STT_TLS:
        return "a data object";
    default:
        break;
    }
    return "not a function symbol";
}

void xhal_registry_load_plugin(xhal_backend_entry_t *entry) {
    char reason[sizeof entry->info.reason];
    dlerror();
    entry->library = dlopen(entry->info.path, RTLD_NOW | RTLD_LOCAL);
    if (!entry->library) {
        const char *why = dlerror();
        xhal_format(reason, sizeof reason, "dlopen failed: %s", why ? why : "unknown error");
        fail(entry, XHAL_UNAVAILABLE, reason);
        return;
    }
    /* POSIX guarantees that a data pointer from dlsym converts to a function pointer. */
    void *symbol = dlsym(entry->library, XHAL_BACKEND_ENTRY_NAME);
    if (!symbol) {
        xhal_format(reason, sizeof reason, "it does not export the entry point %s",
                    XHAL_BACKEND_ENTRY_NAME);
        fail(entry, XHAL_UNAVAILABLE, reason);
        return;
    }
    /* Calling a data object of that name would jump into data: the symbol must be code. */
    const char *kind = symbol_kind(symbol);
    if (kind) {
        xhal_format(reason, sizeof reason, "its %s is %s, not a function", XHAL_BACKEND_ENTRY_NAME,
                    kind);
        fail(entry, XHAL_UNSUPPORTED, reason);
        return;
    }
    xhal_backend_entry_fn entry_fn;
    memcpy(&entry_fn, &symbol, sizeof entry_fn);
    const xhal_backend_api_t *api = entry_fn();
    if (api && api->name && strcmp(api->name, entry->info.name) != 0) {
        xhal_format(reason, sizeof reason, "its table names it \"%s\", but its file is %s",
                    api->name, entry->info.path);
        fail(entry, XHAL_UNSUPPORTED, reason);
        return;
    }
    xhal_registry_adopt(entry, api);
}

void xhal_registry_unload(xhal_backend_entry_t *entry) {
    for (uint32_t i = 0; i < entry->device_count; i++) {
        xhal_device_t *device = entry->devices[i];
        size_t leaked = xhal_device_release_objects(device);
        if (leaked)
            xhal_log(XHAL_LOG_WARN, "%s: released %zu buffer(s), stream(s) or event(s) left alive",
                     device->info.spec, leaked);
        entry->api.device_close(device->impl);
        pthread_mutex_destroy(&device->lock);
        free(device);
    }
    free(entry->devices);
    entry->devices = NULL;
    entry->device_count = 0;
    free(entry->failures);
    entry->failures = NULL;
    entry->failure_count = 0;
    if (entry->state) entry->api.shutdown(entry->state);
    entry->state = NULL;
    if (entry->library) dlclose(entry->library);
    entry->library = NULL;
}
