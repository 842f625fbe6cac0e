/* timing.h — the clock and the median of the C benchmark programs in bench/
 * (each a program of its own: static inline, no library). */
#ifndef PIXAB_BENCH_TIMING_H
#define PIXAB_BENCH_TIMING_H

#include <stdlib.h>
#include <time.h>

/* Monotonic seconds. */
static inline double bench_now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of t (n >= 1; sorts t). */
static inline double bench_median(double *t, int n) {
    qsort(t, (size_t)n, sizeof(double), bench_cmp_double);
    return t[n / 2];
}

#endif
