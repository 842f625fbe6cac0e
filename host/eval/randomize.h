/* randomize.h — cascading model randomisation for the sanity check of
 * Adebayo et al. ("Sanity Checks for Saliency Maps"): a copy of a model whose
 * top layers, from a given layer up to the logits, have random weights. A
 * faithful explanation method's maps should change as the cascade descends.
 *
 * Each weight tensor and each bias of every conv / fc op in the randomised
 * layers is replaced by i.i.d. Gaussian draws with that tensor's own mean and
 * (population) standard deviation. The statistics are those of the weights as
 * the model holds them: BN folded into the convolutions (model.h), not of the
 * checkpoint's raw conv and BN tensors. The draws of op i depend only on
 * (seed, i), so along a cascade (fc, then Mixed_7c and fc, ...) a layer keeps
 * the same random weights once it is randomised. */
#ifndef PIXAB_EVAL_RANDOMIZE_H
#define PIXAB_EVAL_RANDOMIZE_H

#include <stdint.h>

#include "pixab.h"

/* *out = an independent copy of m (its own weights, preprocessing and class
 * names; free with pixab_model_free) with layers [from_layer, n_layers)
 * randomised. from_layer = the index of "fc" randomises only the logits
 * layer; from_layer = n_layers gives an unchanged copy. Engines created from
 * *out run the random weights; *out must outlive them. */
pixab_status randomize_model(const pixab_model *m, int from_layer, uint64_t seed, pixab_model **out);

#endif
