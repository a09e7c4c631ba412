/*
 * A fixed pool of worker threads that runs the tasks of one op at a time.
 *
 * Every op of the CPU backend splits its output into independent tasks (tiles of C, blocks of
 * query rows) and hands them to cpu_pool_run. The pool is created once per device, with
 * (threads - 1) helper threads: the thread that calls cpu_pool_run (a stream's worker) is the
 * last one, so an op uses exactly `threads` cores and no thread is created per call.
 */
#ifndef XHAL_CPU_POOL_H
#define XHAL_CPU_POOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct cpu_pool cpu_pool_t;

/*
 * Runs task(ctx, t, thread) once for each t in 0 .. n_tasks-1 and returns when all have run.
 * `thread` (0 .. cpu_pool_threads()-1) names the thread running the task, so a task can use
 * scratch memory the caller set aside per thread. Tasks must not call cpu_pool_run themselves.
 */
typedef void (*cpu_task_fn)(void *ctx, size_t task, size_t thread);

/*
 * Creates a pool of `threads` (>= 1) threads in all, whose helpers spin for `spin_us`
 * microseconds after each job before they sleep (0: sleep at once). When a helper thread cannot
 * be started,
 * the pool keeps the ones it has (at least the caller): *out_error is then the pthread_create
 * error, else 0. Returns NULL only when memory runs out.
 */
cpu_pool_t *cpu_pool_create(size_t threads, int64_t spin_us, int *out_error);

/* Stops and joins the helper threads. NULL is ignored. No cpu_pool_run may be in progress. */
void cpu_pool_destroy(cpu_pool_t *pool);

/* True while a job runs on every thread of the pool: a thread that would poll for the job's end
 * had better sleep than take a core from it. */
int cpu_pool_busy(cpu_pool_t *pool);

/* The number of threads that run tasks, the caller of cpu_pool_run included. */
size_t cpu_pool_threads(const cpu_pool_t *pool);

/* See cpu_task_fn. Safe to call from several threads at once: the calls run one after another. */
void cpu_pool_run(cpu_pool_t *pool, size_t n_tasks, cpu_task_fn task, void *ctx);

#endif /* XHAL_CPU_POOL_H */
