/*
 * The control of the fault-injection backend (tests/plugins/faulty_plugin.c), shared by the
 * plugin and the tests that find these functions with dlsym in the loaded plugin.
 */
#ifndef XHAL_TEST_FAULTY_PLUGIN_H
#define XHAL_TEST_FAULTY_PLUGIN_H

#include <stdint.h>

#define FAULTY_ALLOC 1u  /* buffer, stream and event creation: OUT_OF_MEMORY */
#define FAULTY_COPY 2u   /* copies and fills refused at enqueue: DEVICE_ERROR */
#define FAULTY_LAUNCH 4u /* GEMM and attention refused at enqueue: DEVICE_ERROR */
#define FAULTY_WAIT 8u   /* synchronize, event record/wait/elapsed: DEVICE_ERROR */
#define FAULTY_ASYNC 16u /* copies and ops fail on the stream: its next synchronize reports it */

/* Counts the calls of `kinds` from now on and fails the one numbered `at` (1-based; 0: none). */
typedef void (*xhal_faulty_arm_fn)(unsigned kinds, uint64_t at);
/* Calls of the armed kinds since the last arm. */
typedef uint64_t (*xhal_faulty_calls_fn)(void);
/* Faults injected since the plugin was loaded. */
typedef uint64_t (*xhal_faulty_injected_fn)(void);

#endif
