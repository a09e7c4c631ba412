/* The backend registry: what was loaded, from where, and the devices it gave. */
#ifndef XHAL_REGISTRY_H
#define XHAL_REGISTRY_H

#include "core.h"

/* A device of a backend that did not open, and why: its spec must say so, not name another. */
typedef struct xhal_device_failure {
    uint32_t index; /* the backend's own index */
    char reason[256];
} xhal_device_failure_t;

struct xhal_backend_entry {
    xhal_backend_info_t info;
    xhal_backend_api_t api;  /* a zero-extended copy of the backend's table */
    void *library;           /* dlopen handle; NULL for the built-in backend */
    xhal_be_state_t *state;  /* from api.init, NULL when not loaded */
    xhal_device_t **devices; /* the devices that opened, in the backend's order */
    uint32_t device_count;
    xhal_device_failure_t *failures; /* the devices that did not */
    uint32_t failure_count;
};

typedef struct xhal_registry {
    xhal_backend_entry_t **entries; /* entries[0] is the built-in CPU backend */
    size_t count, capacity;
    bool initialized;
} xhal_registry_t;

/*
 * Written by init and shutdown, read by the lookups (device count/get/open, backend info), all
 * under the registry lock: a lookup racing xhal_shutdown must not read what shutdown frees.
 */
extern XHAL_INTERNAL_API xhal_registry_t xhal_registry;

/*
 * Takes the registry lock and initialises the library if it is not (as xhal_init). XHAL_OK with
 * the lock held, to be given back with xhal_registry_release; any other status without it.
 */
XHAL_INTERNAL_API xhal_status_t xhal_registry_acquire(void);
XHAL_INTERNAL_API void xhal_registry_release(void);

/* Loads one plugin file into `entry` (whose info.name/path are set). Never fails the registry. */
XHAL_INTERNAL_API void xhal_registry_load_plugin(xhal_backend_entry_t *entry);
/* Adopts a table already in memory (the built-in CPU backend, or a plugin's). */
XHAL_INTERNAL_API void xhal_registry_adopt(xhal_backend_entry_t *entry,
                                           const xhal_backend_api_t *api);
/* Closes the entry's devices, shuts its backend down and unloads its library. */
XHAL_INTERNAL_API void xhal_registry_unload(xhal_backend_entry_t *entry);

#endif
