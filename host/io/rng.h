/* rng.h — the evaluation suite's small deterministic PRNG (splitmix64): every
 * random choice (patch positions, random weights) is a function of a seed
 * alone, never of rand() or the clock, so results reproduce across platforms. */
#ifndef PIXAB_EVAL_RNG_H
#define PIXAB_EVAL_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s;
} rng;

/* splitmix64's finaliser: a bijective 64-bit hash (also derives sub-seeds). */
uint64_t rng_mix64(uint64_t z);
/* A stream for (seed, stream): independent streams from one seed. */
rng rng_make(uint64_t seed, uint64_t stream);
uint64_t rng_next(rng *r);
/* Uniform in [0, 1) with 53 bits. */
double rng_u01(rng *r);
/* Uniform integer in [lo, hi] (hi >= lo). */
int rng_int(rng *r, int lo, int hi);
/* Standard normal (Box-Muller). */
double rng_gauss(rng *r);

#endif
