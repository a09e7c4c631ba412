/* Devices: numbering across backends, lookup by spec string, info, and their live objects. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry.h"

static size_t total_devices(void) {
    size_t total = 0;
    for (size_t i = 0; i < xhal_registry.count; i++)
        total += xhal_registry.entries[i]->device_count;
    return total;
}

static xhal_device_t *device_at(size_t index) {
    for (size_t i = 0; i < xhal_registry.count; i++) {
        xhal_backend_entry_t *entry = xhal_registry.entries[i];
        if (index < entry->device_count) return entry->devices[index];
        index -= entry->device_count;
    }
    return NULL;
}

xhal_status_t xhal_device_count(size_t *out_count) {
    if (!out_count)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "xhal_device_count: out_count is NULL");
    CHECK(xhal_registry_acquire());
    *out_count = total_devices();
    xhal_registry_release();
    return XHAL_OK;
}

xhal_status_t xhal_device_get(size_t index, xhal_device_t **out_device) {
    if (!out_device)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "xhal_device_get: out_device is NULL");
    *out_device = NULL;
    CHECK(xhal_registry_acquire());
    xhal_status_t status = XHAL_OK;
    xhal_device_t *device = device_at(index);
    if (device)
        *out_device = device;
    else
        status = xhal_set_error(XHAL_OUT_OF_RANGE,
                                "xhal_device_get: index (%zu) >= the device count (%zu)", index,
                                total_devices());
    xhal_registry_release();
    return status;
}

static int contains_case_insensitive(const char *haystack, const char *needle) {
    size_t n = strlen(needle);
    for (; *haystack; haystack++)
        if (!strncasecmp(haystack, needle, n)) return 1;
    return 0;
}

/* "cpu:0, opencl:0 (Portable Computing Language)": for messages that say what there is. */
static void list_devices(char *out, size_t size) {
    out[0] = '\0';
    size_t total = total_devices();
    for (size_t i = 0; i < total; i++) {
        const xhal_device_t *d = device_at(i);
        size_t used = strlen(out);
        xhal_format(out + used, size - used, "%s%s (%s)", i ? ", " : "", d->info.spec,
                    d->info.name);
    }
    if (!total) xhal_format(out, size, "none");
}

static xhal_status_t default_device(xhal_device_t **out_device) {
    size_t total = total_devices();
    for (size_t i = 0; i < total; i++) {
        if (device_at(i)->info.type != XHAL_DEVICE_TYPE_CPU) {
            *out_device = device_at(i);
            return XHAL_OK;
        }
    }
    if (!total)
        return xhal_set_error(XHAL_UNAVAILABLE,
                              "xhal_device_open: no device was found (see `xhal devices`)");
    *out_device = device_at(0);
    return XHAL_OK;
}

static xhal_status_t open_by_spec(const char *spec, const char *origin,
                                  xhal_device_t **out_device) {
    char backend[64];
    const char *colon = strchr(spec, ':');
    size_t length = colon ? (size_t)(colon - spec) : strlen(spec);
    if (length == 0 || length >= sizeof backend || (colon && !colon[1]))
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "xhal_device_open: %s \"%s\" is not of the form backend, "
                              "backend:index or backend:name-substring",
                              origin, spec);
    memcpy(backend, spec, length);
    backend[length] = '\0';
    const char *selector = colon ? colon + 1 : NULL;

    xhal_backend_entry_t *entry = NULL;
    for (size_t i = 0; i < xhal_registry.count; i++)
        if (!strcasecmp(xhal_registry.entries[i]->info.name, backend))
            entry = xhal_registry.entries[i];
    char there[1024];
    list_devices(there, sizeof there);
    if (!entry)
        return xhal_set_error(XHAL_UNAVAILABLE,
                              "xhal_device_open: %s \"%s\" names no known backend; devices: %s",
                              origin, spec, there);
    if (entry->device_count == 0)
        return xhal_set_error(
            XHAL_UNAVAILABLE, "xhal_device_open: %s \"%s\": backend %s has no device: %s", origin,
            spec, entry->info.name, entry->info.reason[0] ? entry->info.reason : "none found");
    if (!selector) {
        *out_device = entry->devices[0];
        return XHAL_OK;
    }
    int numeric = 1;
    for (const char *p = selector; *p; p++)
        numeric &= isdigit((unsigned char)*p) != 0;
    if (numeric) {
        /* The backend's own index, as specs are written: not a position among those that opened. */
        unsigned long index = strtoul(selector, NULL, 10);
        for (uint32_t i = 0; i < entry->device_count; i++) {
            if (entry->devices[i]->index == index) {
                *out_device = entry->devices[i];
                return XHAL_OK;
            }
        }
        for (uint32_t i = 0; i < entry->failure_count; i++)
            if (entry->failures[i].index == index)
                return xhal_set_error(XHAL_UNAVAILABLE,
                                      "xhal_device_open: %s \"%s\": device %lu of backend %s did "
                                      "not open: %s",
                                      origin, spec, index, entry->info.name,
                                      entry->failures[i].reason);
    } else {
        for (uint32_t i = 0; i < entry->device_count; i++) {
            if (contains_case_insensitive(entry->devices[i]->info.name, selector)) {
                *out_device = entry->devices[i];
                return XHAL_OK;
            }
        }
    }
    return xhal_set_error(XHAL_UNAVAILABLE,
                          "xhal_device_open: %s \"%s\" matches no device; devices: %s", origin,
                          spec, there);
}

xhal_status_t xhal_device_open(const char *spec, xhal_device_t **out_device) {
    if (!out_device)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "xhal_device_open: out_device is NULL");
    *out_device = NULL;
    CHECK(xhal_registry_acquire());
    xhal_status_t status;
    const char *env = xhal_option("XHAL_DEVICE");
    if (spec && *spec)
        status = open_by_spec(spec, "spec", out_device);
    else if (env && *env)
        status = open_by_spec(env, "XHAL_DEVICE", out_device);
    else
        status = default_device(out_device);
    xhal_registry_release();
    return status;
}

xhal_status_t xhal_device_info(const xhal_device_t *device, xhal_device_info_t *out_info) {
    if (!device) return xhal_set_error(XHAL_INVALID_ARGUMENT, "xhal_device_info: device is NULL");
    if (!out_info)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "xhal_device_info: out_info is NULL");
    xhal_device_info_t full;
    CHECK(xhal_copy_versioned("xhal_device_info", "out_info", out_info,
                              XHAL_SIZE_THROUGH(xhal_device_info_t, peak_source), sizeof full,
                              &full));
    uint32_t size = out_info->struct_size;
    full = device->info;
    full.struct_size = size;
    memcpy(out_info, &full, size);
    return XHAL_OK;
}

void xhal_object_link(xhal_device_t *device, xhal_object_t *object, xhal_object_type_t type) {
    object->type = type;
    pthread_mutex_lock(&device->lock);
    object->next = device->objects.next;
    object->prev = &device->objects;
    device->objects.next->prev = object;
    device->objects.next = object;
    pthread_mutex_unlock(&device->lock);
}

void xhal_object_unlink(xhal_device_t *device, xhal_object_t *object) {
    pthread_mutex_lock(&device->lock);
    object->prev->next = object->next;
    object->next->prev = object->prev;
    object->next = object->prev = object;
    pthread_mutex_unlock(&device->lock);
}

size_t xhal_device_release_objects(xhal_device_t *device) {
    size_t released = 0;
    /* Streams first: they may still hold work that names buffers and events. */
    static const xhal_object_type_t order[] = {XHAL_OBJECT_STREAM, XHAL_OBJECT_EVENT,
                                               XHAL_OBJECT_BUFFER};
    for (size_t pass = 0; pass < 3; pass++) {
        for (xhal_object_t *o = device->objects.next; o != &device->objects;) {
            xhal_object_t *next = o->next;
            if (o->type == order[pass]) {
                switch (o->type) {
                case XHAL_OBJECT_STREAM:
                    xhal_stream_destroy((xhal_stream_t *)o);
                    break;
                case XHAL_OBJECT_EVENT:
                    xhal_event_destroy((xhal_event_t *)o);
                    break;
                case XHAL_OBJECT_BUFFER:
                    xhal_buffer_free((xhal_buffer_t *)o);
                    break;
                }
                released++;
            }
            o = next;
        }
    }
    return released;
}
