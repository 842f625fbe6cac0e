/* pipeline.h — the threads of a long CLI run (`pixab explain`): producers that
 * prepare jobs ahead of the main thread (decoding), handed over in job order
 * through a bounded set of slots, and one consumer thread that finishes the
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
} pipe_stats;

/* ---- jobs prepared ahead ----------------------------------------------------- */

typedef struct pipe_ahead pipe_ahead;
/* Run job `job` into `slot`. A slot keeps its contents from job to job (so it
 * can reuse its buffers); what the consumer takes out of it, it must clear. */
typedef void (*pipe_work_fn)(void *ctx, int job, void *slot);
/* Free what a slot holds. */
typedef void (*pipe_free_fn)(void *ctx, void *slot);

/* Jobs 0..n-1 on `threads` threads (0: inline, in pipe_ahead_next), at most
 * `depth` jobs done or running ahead of the consumer (at least threads + 1);
 * slots of slot_size bytes, zeroed at the start. NULL when out of memory or a
 * thread cannot start. */
pipe_ahead *pipe_ahead_start(int threads, int depth, int n, size_t slot_size, pipe_work_fn work, void *ctx);
/* The slot of the next job, in job order, once its work is done; it stays the
 * caller's until the next call. NULL after the last job, or once stopped. */
void *pipe_ahead_next(pipe_ahead *p);
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
