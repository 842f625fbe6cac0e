/* names.c — every name table of the public API in one place: status,
 * precision, method and score names, and their parsers (pixab.h). The bottom
 * layer, so that each layer above, the CLI and the bindings spell them alike. */
#include <stdio.h>
#include <string.h>

#include "error.h"

const char *pixab_status_name(pixab_status s) {
    switch (s) {
    case PIXAB_OK: return "ok";
    case PIXAB_ERR_ARG: return "bad argument";
    case PIXAB_ERR_IO: return "i/o error";
    case PIXAB_ERR_FORMAT: return "format error";
    case PIXAB_ERR_SHAPE: return "shape error";
    case PIXAB_ERR_NOMEM: return "out of memory";
    case PIXAB_ERR_DEVICE: return "device error";
    case PIXAB_ERR_UNSUPPORTED: return "unsupported";
    case PIXAB_ERR_CANCELLED: return "cancelled";
    }
    return "unknown status";
}

/* The index of `name` in names (n), or -1 with `what` and the choices as the last error. */
static int lookup(const char *const *names, int n, const char *name, const char *what) {
    for (int i = 0; i < n; i++)
        if (!strcmp(name, names[i])) return i;
    char choices[160] = "";
    for (int i = 0; i < n; i++) {
        size_t used = strlen(choices);
        snprintf(choices + used, sizeof choices - used, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ", names[i]);
    }
    pixab_fail(PIXAB_ERR_ARG, "unknown %s '%s' (expected %s)", what, name, choices);
    return -1;
}

static const char *const precision_names[PIXAB_PRECISION_COUNT] = {"fp32", "tf32", "fp16", "bf16"};

const char *pixab_precision_name(pixab_precision p) {
    return p >= 0 && p < PIXAB_PRECISION_COUNT ? precision_names[p] : "unknown";
}

int pixab_precision_from_name(const char *name) {
    return lookup(precision_names, PIXAB_PRECISION_COUNT, name, "precision");
}

static const char *const method_names[PIXAB_METHOD_COUNT] = {
    "pixab", "ablation", "activation", "gradcam", "gradcampp", "xgradcam", "scorecam",
};

const char *pixab_method_name(pixab_method m) {
    return m >= 0 && m < PIXAB_METHOD_COUNT ? method_names[m] : "unknown";
}

int pixab_method_from_name(const char *name) { return lookup(method_names, PIXAB_METHOD_COUNT, name, "method"); }

/* PIXAB_SCORE_DEFAULT has no name: it is the absence of a choice. */
static const char *const score_names[] = {"softmax", "logit"};

const char *pixab_score_name(pixab_score s) {
    return s == PIXAB_SCORE_SOFTMAX ? score_names[0] : s == PIXAB_SCORE_LOGIT ? score_names[1] : "default";
}

int pixab_score_from_name(const char *name) {
    int i = lookup(score_names, 2, name, "score");
    return i < 0 ? -1 : i == 0 ? PIXAB_SCORE_SOFTMAX : PIXAB_SCORE_LOGIT;
}
