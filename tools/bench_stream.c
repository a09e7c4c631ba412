/*
 * Host memory bandwidth for `xhal bench --stream`: STREAM Copy and Triad on a given number of
 * threads (conformance/conf_stream.c, the same measurement `xhal peak` stores), the ceiling a
 * memory-bound CPU kernel is judged against in the same run.
 */
#include "bench_run.h"
#include "conform.h"

int bench_stream(int threads, double *out_copy, double *out_triad) {
    conf_stream_t s;
    if (threads < 1) threads = 1;
    int status = conf_stream_host((unsigned)threads, conf_stream_array_bytes(), &s);
    *out_copy = s.copy;
    *out_triad = s.triad;
    return status;
}
