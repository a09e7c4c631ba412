/*
 * Ceilings measured through the public API, so that they work the same on every backend:
 *   copy bandwidth  the best of several xhal_copy_d2d runs of a buffer far larger than any cache,
 *                   counting bytes read plus written (as STREAM's copy does)
 *   GEMM ceiling    the best of several square xhal_gemm runs at the largest size that fits the
 *                   time given: the matrix-unit ceiling *xhal's own kernel* reaches, which is a
 *                   floor on the hardware's (conf_fma.c measures the CPU's FMA units directly)
 * Best rather than median: a ceiling is what the device can do, not what it usually does.
 */
#include <math.h>
#include <string.h>

#include "conf_internal.h"

static xhal_status_t status_of(conf_timer_t *t, const conf_plan_item_t *item) {
    if (item->result.outcome == CONF_PASS) return XHAL_OK;
    /* The timer put the call and the reason in the note; keep it for the caller. */
    conf_format(t->note, sizeof t->note, "%s", item->result.note);
    return item->result.outcome == CONF_SKIP ? XHAL_UNSUPPORTED : XHAL_DEVICE_ERROR;
}

xhal_status_t conf_measure_copy(conf_timer_t *t, uint64_t bytes, double *out_bandwidth) {
    conf_plan_item_t item;
    memset(&item, 0, sizeof item);
    item.result.op = CONF_OP_COPY;
    item.result.dtype = XHAL_DTYPE_F32;
    item.result.outcome = CONF_PASS;
    item.copy_bytes = bytes;
    item.result.bytes = 2.0 * (double)bytes;
    conf_time_item(t, &item, NULL);
    *out_bandwidth = item.result.outcome == CONF_PASS && item.result.ms_min > 0
                         ? item.result.bytes / (item.result.ms_min * 1e-3)
                         : 0;
    return status_of(t, &item);
}

xhal_status_t conf_measure_gemm(conf_timer_t *t, xhal_dtype_t dtype, double seconds,
                                double *out_flops, int64_t *out_n) {
    double best = 0;
    int64_t best_n = 0;
    xhal_status_t status = XHAL_OK;
    /*
     * Doubles n until one run takes a tenth of the time given or memory runs short; larger
     * GEMMs only get closer to the ceiling. Each size is timed, the best rate kept.
     */
    for (int64_t n = 256; n <= 16384; n *= 2) {
        double bytes = 3.0 * (double)n * (double)n * (double)xhal_dtype_size(dtype);
        if (bytes > (double)t->memory_budget) break;
        conf_plan_item_t item;
        memset(&item, 0, sizeof item);
        item.result.op = CONF_OP_GEMM;
        item.result.dtype = dtype;
        item.result.outcome = CONF_PASS;
        xhal_gemm_desc_init(&item.gemm, n, n, n, dtype);
        item.result.flops = conf_gemm_flops(&item.gemm);
        item.result.bytes = conf_gemm_bytes(&item.gemm);
        double start = conf_now();
        conf_time_item(t, &item, NULL);
        double spent = conf_now() - start;
        status = status_of(t, &item);
        if (status != XHAL_OK) break;
        double rate = item.result.flops / (item.result.ms_min * 1e-3);
        if (rate > best) {
            best = rate;
            best_n = n;
        }
        /* The next size costs 8x this one. */
        if (item.result.ms_min * 1e-3 > seconds / 10 || spent * 8 > seconds) break;
    }
    *out_flops = best;
    *out_n = best_n;
    return best > 0 ? XHAL_OK : status;
}
