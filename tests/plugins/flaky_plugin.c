/*
 * "flaky": the skeleton backend (backends/null) with three devices, of which device 0 fails to
 * open. Its devices must keep the backend's own numbering: flaky:1 and flaky:2 are the devices
 * named "null device 1" and "null device 2", and flaky:0 is an error that says why.
 */
#define xhal_backend_entry null_backend_entry_unused /* the skeleton's entry, renamed */
#include "null_backend.c"
#undef xhal_backend_entry

static uint32_t flaky_device_count(xhal_be_state_t *state) {
    (void)state;
    return 3;
}

static xhal_status_t flaky_device_open(xhal_be_state_t *state, uint32_t index,
                                       xhal_be_device_t **out_device) {
    if (index == 0)
        return state->host->set_error(XHAL_DEVICE_ERROR,
                                      "flaky: device 0 is broken on purpose (a test plugin)");
    return null_device_open(state, index, out_device);
}

XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry(void);
XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry(void) {
    /* The core calls the entry under its lock, once per init: no race on the copy. */
    static xhal_backend_api_t api;
    api = null_api;
    api.name = "flaky";
    api.device_count = flaky_device_count;
    api.device_open = flaky_device_open;
    return &api;
}
