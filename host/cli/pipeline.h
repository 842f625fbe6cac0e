/* pipeline.h — the threads of a long CLI run (`pixab explain`): producers that
 * prepare jobs ahead of the main thread (decoding), handed over in job order
 * through a bounded set of slots and within a memory budget, and one consumer thread that finishes the
 * main thread's results (writing) in the order given, through a bounded queue.
 * With no threads both run inline on the caller's thread, in turn. The threads
 * block SIGINT and SIGTERM, so those reach the main thread only. */
#ifndef PIXAB_CLI_PIPELINE_H
#define PIXAB_CLI_PIPELINE_H

#include <stddef.h>

typedef struct {
    int threads;   /* threads that ran the stage's work (0: inline) */
    int items;     /* jobs / items done */
    double work_s; /* time in the stage's callbacks, summed over its threads */
    double wait_s; /* time the main thread spent blocked on the stage */
    size_t peak_bytes; /* the most memory charged at once (jobs ahead, with a budget) */
} pipe_stats;

/* ---- jobs prepared ahead ----------------------------------------------------- */

typedef struct pipe_ahead pipe_ahead;
/* Run job `job` into `slot`, `charged` bytes of the budget charged to it
 * (its cost); return how many of them stay charged for what it made (the
 * rest is released now; whoever frees that later calls pipe_ahead_release).
 * A slot keeps its contents from job to job (so it can reuse its buffers);
 * what the consumer takes out of it, it must clear. */
typedef size_t (*pipe_work_fn)(void *ctx, int job, void *slot, size_t charged);
/* The memory job `job` will take at its peak, in bytes (it may read a file
 * header); called on the thread that then runs the job. */
typedef size_t (*pipe_cost_fn)(void *ctx, int job);
/* Free what a slot holds. */
typedef void (*pipe_free_fn)(void *ctx, void *slot);

/* Jobs 0..n-1 on `threads` threads (0: inline, in pipe_ahead_next), at most
 * `depth` jobs done or running ahead of the consumer (at least threads + 1);
 * slots of slot_size bytes, zeroed at the start. With cost and a budget
 * (bytes; 0: none), jobs are admitted in job order, each when its cost fits
 * in what the budget has left, or when nothing else is charged: the memory
 * charged is at most max(budget, the largest single cost). NULL when out of
 * memory or a thread cannot start. */
pipe_ahead *pipe_ahead_start(int threads, int depth, int n, size_t slot_size, pipe_work_fn work, pipe_cost_fn cost,
                             size_t budget, void *ctx);
/* The slot of the next job, in job order, once its work is done; it stays the
 * caller's until the next call. NULL after the last job, or once stopped.
 * starved (may be NULL: then it waits): set, and NULL returned, when the next
 * job waits for memory while some is charged, so that a caller holding
 * charged memory can release it (or it would wait for ever) and call again. */
void *pipe_ahead_next(pipe_ahead *p, int *starved);
/* Give back `bytes` of what a job's work kept charged (any thread). */
void pipe_ahead_release(pipe_ahead *p, size_t bytes);
/* Start no more jobs (running ones finish); pipe_ahead_next returns NULL. */
void pipe_ahead_stop(pipe_ahead *p);
/* Stop, join the threads, free_slot every slot, free p; st (may be NULL)
 * gets the stage's figures. */
void pipe_ahead_finish(pipe_ahead *p, pipe_free_fn free_slot, pipe_stats *st);

/* ---- results finished behind ------------------------------------------------- */

typedef struct pipe_writer pipe_writer;
/* Finish one item: 0 when done, non-zero when the writer cannot go on (the
 * callback keeps the reason); it must free what the item owns either way. */
typedef int (*pipe_consume_fn)(void *ctx, void *item);
/* Free what an item owns without finishing it (after a failure). */
typedef void (*pipe_drop_fn)(void *ctx, void *item);

/* Items of item_size bytes, consumed in order on one thread (threaded) or
 * inline in pipe_writer_push; at most `depth` waiting. NULL when out of
 * memory or the thread cannot start. */
pipe_writer *pipe_writer_start(int threaded, int depth, size_t item_size, pipe_consume_fn consume, pipe_drop_fn drop,
                               void *ctx);
/* Queue a copy of *item, whose ownership moves to the writer; blocks while
 * the queue is full. -1 once consume has failed (the item is dropped). */
int pipe_writer_push(pipe_writer *w, const void *item);
/* Items consumed successfully so far. */
int pipe_writer_done(pipe_writer *w);
/* Consume what is queued, join, free w. 0, or -1 when consume failed (later
 * items dropped). st (may be NULL) gets the stage's figures. */
int pipe_writer_finish(pipe_writer *w, pipe_stats *st);

#endif
