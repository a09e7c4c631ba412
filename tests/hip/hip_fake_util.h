/*
 * Helpers of the HIP plugin tests that run on the runtime stand-in (fake_libamdhip.c): start
 * xhal with the plugin, the stand-in and a given environment, and read what the stand-in saw.
 */
#ifndef XHAL_TEST_HIP_FAKE_UTIL_H
#define XHAL_TEST_HIP_FAKE_UTIL_H

#include "fake_hip.h"
#include "test_util.h"

/*
 * Starts xhal afresh with the HIP plugin and the CPU backend, the stand-in as the runtime, no
 * code-object cache, and `settings` ("NAME=value" strings, NULL-terminated) set on top; every
 * variable a test may set is cleared first.
 */
void hft_start(const char *const *settings);

/* Clears what hft_start set and shuts xhal down (a cmocka teardown). */
int hft_teardown(void **state);

/* The stand-in's records. */
const fake_hip_launch_t *hft_launches(size_t *count);
void hft_clear_launches(void);
const char *hft_module_arch(int *loads);

/* A pinned buffer of `size` bytes (its address is its host pointer, which the launch records
 * show) filled with `byte`. */
xhal_buffer_t *hft_pinned(xhal_device_t *device, uint64_t size, unsigned char byte, void **host);

#endif
