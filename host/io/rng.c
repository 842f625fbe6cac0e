/* rng.c — splitmix64 and the draws built on it (see rng.h). */
#include "rng.h"

#include <math.h>

uint64_t rng_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

rng rng_make(uint64_t seed, uint64_t stream) {
    return (rng){rng_mix64(seed ^ rng_mix64(stream + 0x9e3779b97f4a7c15ULL))};
}

uint64_t rng_next(rng *r) { return rng_mix64(r->s += 0x9e3779b97f4a7c15ULL); }

double rng_u01(rng *r) { return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

int rng_int(rng *r, int lo, int hi) {
    int v = lo + (int)(rng_u01(r) * ((double)hi - lo + 1.0));
    return v > hi ? hi : v;
}

double rng_gauss(rng *r) {
    double u = 1.0 - rng_u01(r); /* (0, 1]: log(u) is finite */
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * rng_u01(r));
}
