/* pipeline.c — producer threads ahead of the main thread and one consumer
 * thread behind it, both bounded (pipeline.h): the producers by a number of
 * slots and by a memory budget that jobs are admitted to in job order. One
 * mutex per stage; the main thread's blocked time is measured for the -v
 * figures. */
#include "pipeline.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Start a thread with SIGINT and SIGTERM blocked (it inherits the mask), so
 * the main thread is the one that sees them. */
static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg) {
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* ---- jobs prepared ahead ----------------------------------------------------- */

struct pipe_ahead {
    pthread_mutex_t mu;
    pthread_cond_t space, done; /* space: a slot was released; done: a job finished (or the next one starves) */
    pthread_cond_t mem;         /* memory was released, or the next job's turn to be admitted came */
    int threads, started, depth, n;
    size_t slot_size;
    unsigned char *slots; /* (depth, slot_size); job j uses slot j % depth */
    int *slot_job;        /* (depth) the job whose work is done in the slot, or -1 */
    int next_job;         /* next job to claim */
    int taken;            /* jobs handed to the consumer */
    int holding;          /* the consumer holds slot (taken - 1) */
    int stop;
    /* The memory budget: jobs are admitted in job order, each charging its
     * cost(); charges are released by the work (what it does not keep) and
     * by pipe_ahead_release. */
    size_t budget, used; /* budget 0: none */
    int admitted;        /* jobs admitted (0..admitted-1) */
    int starving;        /* job + 1 of the next job to admit while it waits for memory, else 0 */
    int inline_job;      /* inline: the job whose cost is in inline_cost, or -1 */
    size_t inline_cost;
    pipe_work_fn work;
    pipe_cost_fn cost;
    void *ctx;
    pthread_t *tid;
    pipe_stats st;
};

static void *slot_at(const pipe_ahead *p, int job) { return p->slots + (size_t)(job % p->depth) * p->slot_size; }

/* Whether a job costing `cost` waits: it would go over the budget and
 * something else holds memory (alone, any job may go: progress is certain). */
static int over_budget(const pipe_ahead *p, size_t cost) {
    return p->budget && p->used && cost > p->budget - (p->used < p->budget ? p->used : p->budget);
}

static void charge(pipe_ahead *p, size_t cost) {
    p->used += cost;
    if (p->used > p->st.peak_bytes) p->st.peak_bytes = p->used;
}

static void uncharge(pipe_ahead *p, size_t bytes) { p->used -= bytes < p->used ? bytes : p->used; }

static void *ahead_main(void *arg) {
    pipe_ahead *p = arg;
    double work = 0.0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        /* Job j may start once the consumer has released job j - depth's slot. */
        while (!p->stop && p->next_job < p->n && p->next_job >= p->taken - p->holding + p->depth)
            pthread_cond_wait(&p->space, &p->mu);
        if (p->stop || p->next_job >= p->n) break;
        int job = p->next_job++;
        pthread_mutex_unlock(&p->mu);
        size_t cost = p->cost ? p->cost(p->ctx, job) : 0;
        pthread_mutex_lock(&p->mu);
        /* Admitted in job order, within the budget: the consumer's next job is
         * never kept waiting by later ones. */
        while (!p->stop && (p->admitted != job || over_budget(p, cost))) {
            if (p->admitted == job && p->starving != job + 1) {
                p->starving = job + 1;
                pthread_cond_broadcast(&p->done); /* the consumer may free memory it holds */
            }
            pthread_cond_wait(&p->mem, &p->mu);
        }
        if (p->stop) break;
        p->starving = 0;
        p->admitted++;
        charge(p, cost);
        pthread_cond_broadcast(&p->mem);
        pthread_mutex_unlock(&p->mu);
        double t0 = cli_now_s();
        size_t kept = p->work(p->ctx, job, slot_at(p, job), cost);
        work += cli_now_s() - t0;
        pthread_mutex_lock(&p->mu);
        uncharge(p, cost - (kept < cost ? kept : cost));
        pthread_cond_broadcast(&p->mem);
        p->slot_job[job % p->depth] = job;
        p->st.items++;
        pthread_cond_broadcast(&p->done);
    }
    p->st.work_s += work;
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

pipe_ahead *pipe_ahead_start(int threads, int depth, int n, size_t slot_size, pipe_work_fn work, pipe_cost_fn cost,
                             size_t budget, void *ctx) {
    pipe_ahead *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    if (threads < 0) threads = 0;
    if (depth < threads + 1) depth = threads + 1;
    p->threads = threads, p->depth = depth, p->n = n, p->slot_size = slot_size, p->work = work, p->ctx = ctx;
    p->cost = cost, p->budget = cost ? budget : 0, p->inline_job = -1;
    p->st.threads = threads;
    p->slots = calloc((size_t)depth, slot_size);
    p->slot_job = malloc(sizeof(int) * (size_t)depth);
    p->tid = threads ? calloc((size_t)threads, sizeof(pthread_t)) : NULL;
    if (!p->slots || !p->slot_job || (threads && !p->tid)) goto fail;
    for (int k = 0; k < depth; k++) p->slot_job[k] = -1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->space, NULL);
    pthread_cond_init(&p->done, NULL);
    pthread_cond_init(&p->mem, NULL);
    for (; p->started < threads; p->started++)
        if (start_thread(&p->tid[p->started], ahead_main, p)) {
            pipe_ahead_finish(p, NULL, NULL);
            return NULL;
        }
    return p;
fail:
    free(p->slots), free(p->slot_job), free(p->tid), free(p);
    return NULL;
}

void *pipe_ahead_next(pipe_ahead *p, int *starved) {
    if (starved) *starved = 0;
    if (!p->threads) { /* inline: one slot, the work done here */
        if (p->stop || p->taken >= p->n) return NULL;
        if (p->inline_job != p->taken) p->inline_cost = p->cost ? p->cost(p->ctx, p->taken) : 0;
        p->inline_job = p->taken;
        if (starved && over_budget(p, p->inline_cost)) {
            *starved = 1;
            return NULL;
        }
        charge(p, p->inline_cost);
        double t0 = cli_now_s();
        size_t kept = p->work(p->ctx, p->taken, p->slots, p->inline_cost);
        uncharge(p, p->inline_cost - (kept < p->inline_cost ? kept : p->inline_cost));
        p->st.work_s += cli_now_s() - t0;
        p->st.items++;
        p->taken++;
        return p->slots;
    }
    double t0 = cli_now_s();
    pthread_mutex_lock(&p->mu);
    if (p->holding) {
        p->holding = 0;
        pthread_cond_broadcast(&p->space);
    }
    void *slot = NULL;
    while (!p->stop && p->taken < p->n && p->slot_job[p->taken % p->depth] != p->taken) {
        if (starved && p->starving == p->taken + 1 && p->used) {
            *starved = 1; /* the next job waits for memory: the caller frees some first */
            break;
        }
        pthread_cond_wait(&p->done, &p->mu);
    }
    if (!p->stop && p->taken < p->n && !(starved && *starved)) {
        slot = slot_at(p, p->taken);
        p->slot_job[p->taken % p->depth] = -1;
        p->taken++;
        p->holding = 1;
    }
    pthread_mutex_unlock(&p->mu);
    p->st.wait_s += cli_now_s() - t0;
    return slot;
}

void pipe_ahead_stop(pipe_ahead *p) {
    if (!p->threads) {
        p->stop = 1;
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->space);
    pthread_cond_broadcast(&p->done);
    pthread_cond_broadcast(&p->mem);
    pthread_mutex_unlock(&p->mu);
}

void pipe_ahead_release(pipe_ahead *p, size_t bytes) {
    if (!p->threads) {
        uncharge(p, bytes);
        return;
    }
    pthread_mutex_lock(&p->mu);
    uncharge(p, bytes);
    pthread_cond_broadcast(&p->mem);
    pthread_mutex_unlock(&p->mu);
}

void pipe_ahead_finish(pipe_ahead *p, pipe_free_fn free_slot, pipe_stats *st) {
    if (!p) return;
    pipe_ahead_stop(p);
    for (int k = 0; k < p->started; k++) pthread_join(p->tid[k], NULL);
    if (p->threads) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->space);
        pthread_cond_destroy(&p->done);
        pthread_cond_destroy(&p->mem);
    }
    if (free_slot)
        for (int k = 0; k < p->depth; k++) free_slot(p->ctx, p->slots + (size_t)k * p->slot_size);
    if (st) *st = p->st;
    free(p->slots), free(p->slot_job), free(p->tid), free(p);
}

/* ---- results finished behind ------------------------------------------------- */

struct pipe_writer {
    pthread_mutex_t mu;
    pthread_cond_t space, ready; /* space: an item left the queue; ready: one arrived, or the end */
    int threaded, started, depth;
    size_t item_size;
    unsigned char *queue; /* (depth, item_size), a ring */
    int head, count;      /* first queued item, items queued */
    int closing, failed, done;
    pipe_consume_fn consume;
    pipe_drop_fn drop;
    void *ctx;
    pthread_t tid;
    pipe_stats st;
};

static void *writer_main(void *arg) {
    pipe_writer *w = arg;
    unsigned char *item = malloc(w->item_size);
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->count && !w->closing) pthread_cond_wait(&w->ready, &w->mu);
        if (!w->count) break; /* closing, and drained */
        int failed = w->failed;
        if (item) memcpy(item, w->queue + (size_t)w->head * w->item_size, w->item_size);
        else failed = w->failed = 1; /* cannot even copy it out: drop in place */
        pthread_mutex_unlock(&w->mu);
        double t0 = cli_now_s();
        unsigned char *it = item ? item : w->queue + (size_t)w->head * w->item_size;
        int rc = 0;
        if (failed) w->drop(w->ctx, it);
        else rc = w->consume(w->ctx, it);
        double dt = cli_now_s() - t0;
        pthread_mutex_lock(&w->mu);
        w->st.work_s += dt;
        if (!failed && !rc) w->done++, w->st.items++;
        if (rc) w->failed = 1;
        w->head = (w->head + 1) % w->depth;
        w->count--;
        pthread_cond_broadcast(&w->space);
    }
    pthread_mutex_unlock(&w->mu);
    free(item);
    return NULL;
}

pipe_writer *pipe_writer_start(int threaded, int depth, size_t item_size, pipe_consume_fn consume, pipe_drop_fn drop,
                               void *ctx) {
    pipe_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->threaded = threaded != 0, w->depth = depth < 1 ? 1 : depth, w->item_size = item_size;
    w->consume = consume, w->drop = drop, w->ctx = ctx;
    w->st.threads = w->threaded;
    if (!w->threaded) return w;
    w->queue = calloc((size_t)w->depth, item_size);
    if (!w->queue) {
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->space, NULL);
    pthread_cond_init(&w->ready, NULL);
    if (start_thread(&w->tid, writer_main, w)) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->space);
        pthread_cond_destroy(&w->ready);
        free(w->queue), free(w);
        return NULL;
    }
    w->started = 1;
    return w;
}

int pipe_writer_push(pipe_writer *w, const void *item) {
    if (!w->threaded) {
        if (w->failed) {
            w->drop(w->ctx, (void *)item);
            return -1;
        }
        double t0 = cli_now_s();
        int rc = w->consume(w->ctx, (void *)item);
        w->st.work_s += cli_now_s() - t0;
        if (rc) return w->failed = 1, -1;
        w->done++, w->st.items++;
        return 0;
    }
    double t0 = cli_now_s();
    pthread_mutex_lock(&w->mu);
    while (w->count == w->depth && !w->failed) pthread_cond_wait(&w->space, &w->mu);
    int failed = w->failed;
    if (!failed) {
        memcpy(w->queue + (size_t)((w->head + w->count) % w->depth) * w->item_size, item, w->item_size);
        w->count++;
        pthread_cond_signal(&w->ready);
    }
    pthread_mutex_unlock(&w->mu);
    w->st.wait_s += cli_now_s() - t0;
    if (failed) w->drop(w->ctx, (void *)item);
    return failed ? -1 : 0;
}

int pipe_writer_done(pipe_writer *w) {
    if (!w->threaded) return w->done;
    pthread_mutex_lock(&w->mu);
    int d = w->done;
    pthread_mutex_unlock(&w->mu);
    return d;
}

int pipe_writer_finish(pipe_writer *w, pipe_stats *st) {
    if (!w) return 0;
    if (w->threaded) {
        double t0 = cli_now_s();
        pthread_mutex_lock(&w->mu);
        w->closing = 1;
        pthread_cond_signal(&w->ready);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->tid, NULL);
        w->st.wait_s += cli_now_s() - t0;
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->space);
        pthread_cond_destroy(&w->ready);
    }
    int rc = w->failed ? -1 : 0;
    if (st) *st = w->st;
    free(w->queue), free(w);
    return rc;
}
