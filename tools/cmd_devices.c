/*
 * `xhal devices`: every backend xhal knows, loaded or not and why, then every device with its
 * whole xhal_device_info_t. The first thing to run on a new machine or a new port.
 */
#include <stdio.h>
#include <string.h>

#include "conform.h"
#include "tool_util.h"

static const char devices_help[] =
    "usage: xhal devices [--json]\n"
    "\n"
    "Lists every backend xhal knows (built in, found as a plugin, or expected), whether it\n"
    "loaded, the plugin file and, when it did not load, the status and the reason. Then lists\n"
    "every device: spec, type, name, vendor, backend, architecture, driver, memory, compute\n"
    "units, clock, peak FLOP/s per dtype, peak bandwidth, where the peaks come from, and\n"
    "which kernel tuning is in force (tuned by 'xhal tune', or shipped).\n"
    "\n"
    "options:\n"
    "  --json      print the same as one JSON object (unknown values are null)\n"
    "  -h, --help  show this text\n"
    "\n"
    "Exits 0 even when some backends are unavailable; 1 when the library cannot initialise.\n"
    "The environment variables of 'xhal --help' choose which backends load and from where.\n";

static const char *type_name(xhal_device_type_t type) {
    switch (type) {
    case XHAL_DEVICE_TYPE_CPU:
        return "cpu";
    case XHAL_DEVICE_TYPE_GPU:
        return "gpu";
    case XHAL_DEVICE_TYPE_ACCELERATOR:
        return "accelerator";
    }
    return "unknown";
}

/* ---- Plain text ---- */

static void print_backend(const xhal_backend_info_t *b) {
    const char *path = b->path[0] ? b->path : "(no file found)";
    if (b->loaded)
        printf("  %-10s loaded      %u device%s  %s\n", b->name, (unsigned)b->device_count,
               b->device_count == 1 ? " " : "s", path);
    else
        printf("  %-10s not loaded  (%s) %s\n", b->name, xhal_status_name(b->status), b->reason);
    /* A loaded backend can still say something: no device found, or a device that failed. */
    if (b->loaded && b->reason[0]) printf("  %-10s             note: %s\n", "", b->reason);
    if (!b->loaded && b->path[0]) printf("  %-10s             path: %s\n", "", b->path);
}

static void print_row(const char *key, const char *value) {
    printf("    %-15s %s\n", key, value[0] ? value : "-");
}

static void print_device(size_t index, const xhal_device_info_t *d) {
    char text[64];
    printf("device %zu\n", index);
    print_row("spec", d->spec);
    print_row("type", type_name(d->type));
    print_row("name", d->name);
    print_row("vendor", d->vendor);
    print_row("backend", d->backend);
    print_row("architecture", d->architecture);
    print_row("driver", d->driver);
    if (d->memory_bytes)
        snprintf(text, sizeof text, "%.1f GiB", (double)d->memory_bytes / (1024.0 * 1024 * 1024));
    print_row("memory", d->memory_bytes ? text : "unknown");
    snprintf(text, sizeof text, "%u", (unsigned)d->compute_units);
    print_row("compute units", d->compute_units ? text : "unknown");
    snprintf(text, sizeof text, "%.2f GHz", d->clock_ghz);
    print_row("clock", d->clock_ghz > 0 ? text : "unknown");
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        char key[32];
        snprintf(key, sizeof key, "peak %s", xhal_dtype_name((xhal_dtype_t)t));
        tool_format_flops(d->peak_flops[t], text, sizeof text);
        print_row(key, text);
    }
    tool_format_bandwidth(d->peak_bandwidth, text, sizeof text);
    print_row("peak bandwidth", text);
    print_row("peak source", d->peak_source);
    print_row("tuning", d->tuning);
}

/* ---- JSON ---- */

static void json_field(const char *key, const char *value, int last) {
    printf("      ");
    conf_json_string(stdout, key);
    printf(": ");
    conf_json_string(stdout, value);
    printf(last ? "\n" : ",\n");
}

static void json_backend(const xhal_backend_info_t *b, int last) {
    printf("    {\n");
    json_field("name", b->name, 0);
    json_field("path", b->path, 0);
    printf("      \"loaded\": %s,\n", b->loaded ? "true" : "false");
    printf("      \"device_count\": %u,\n", (unsigned)b->device_count);
    json_field("status", xhal_status_name(b->status), 0);
    json_field("reason", b->reason, 1);
    printf(last ? "    }\n" : "    },\n");
}

static void json_device(size_t index, const xhal_device_info_t *d, int last) {
    printf("    {\n      \"index\": %zu,\n", index);
    json_field("spec", d->spec, 0);
    json_field("type", type_name(d->type), 0);
    json_field("name", d->name, 0);
    json_field("vendor", d->vendor, 0);
    json_field("backend", d->backend, 0);
    json_field("architecture", d->architecture, 0);
    json_field("driver", d->driver, 0);
    printf("      \"memory_bytes\": %llu,\n", (unsigned long long)d->memory_bytes);
    printf("      \"compute_units\": %u,\n", (unsigned)d->compute_units);
    printf("      \"clock_ghz\": ");
    tool_json_known(stdout, d->clock_ghz);
    printf(",\n      \"peak_flops\": {");
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        printf("%s\"%s\": ", t ? ", " : "", xhal_dtype_name((xhal_dtype_t)t));
        tool_json_known(stdout, d->peak_flops[t]);
    }
    printf("},\n      \"peak_bandwidth\": ");
    tool_json_known(stdout, d->peak_bandwidth);
    printf(",\n");
    json_field("peak_source", d->peak_source, 0);
    json_field("tuning", d->tuning, 0);
    json_field("tuning_key", d->tuning_key, 1);
    printf(last ? "    }\n" : "    },\n");
}

/* ---- The command ---- */

/* Each backend, as text or as JSON array elements; returns TOOL_EXIT_*. */
static int list_backends(int json) {
    size_t count = 0;
    xhal_status_t status = xhal_backend_count(&count);
    if (status != XHAL_OK) return tool_fail(status, "xhal_backend_count");
    if (!json) printf("backends (%zu):\n", count);
    for (size_t i = 0; i < count; i++) {
        xhal_backend_info_t info;
        status = xhal_backend_info(i, &info);
        if (status != XHAL_OK) return tool_fail(status, "xhal_backend_info");
        if (json)
            json_backend(&info, i + 1 == count);
        else
            print_backend(&info);
    }
    return TOOL_EXIT_OK;
}

static int list_devices(int json) {
    size_t count = 0;
    xhal_status_t status = xhal_device_count(&count);
    if (status != XHAL_OK) return tool_fail(status, "xhal_device_count");
    if (!json) printf("\ndevices (%zu):\n", count);
    for (size_t i = 0; i < count; i++) {
        xhal_device_t *device = NULL;
        xhal_device_info_t info = {.struct_size = sizeof info};
        status = xhal_device_get(i, &device);
        if (status == XHAL_OK) status = xhal_device_info(device, &info);
        if (status != XHAL_OK) return tool_fail(status, "xhal_device_info");
        if (json)
            json_device(i, &info, i + 1 == count);
        else
            print_device(i, &info);
    }
    return TOOL_EXIT_OK;
}

static int run_devices(int argc, char **argv) {
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (tool_is_help(argv[i])) {
            fputs(devices_help, stdout);
            return TOOL_EXIT_OK;
        }
        if (strcmp(argv[i], "--json") != 0)
            return tool_usage_error("devices", "unknown option '%s'", argv[i]);
        json = 1;
    }
    xhal_status_t status = xhal_init();
    if (status != XHAL_OK) return tool_fail(status, "xhal_init");
    if (json) printf("{\n  \"version\": \"%s\",\n  \"backends\": [\n", xhal_version_string());
    int code = list_backends(json);
    if (code == TOOL_EXIT_OK && json) printf("  ],\n  \"devices\": [\n");
    if (code == TOOL_EXIT_OK) code = list_devices(json);
    if (code == TOOL_EXIT_OK && json) printf("  ]\n}\n");
    return code;
}

const tool_command_t tool_cmd_devices = {
    .name = "devices",
    .summary = "list backends (loaded or not, and why) and devices with their peaks",
    .help = devices_help,
    .run = run_devices,
};
