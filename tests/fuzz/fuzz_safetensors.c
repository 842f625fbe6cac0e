/* fuzz_safetensors.c — libFuzzer target for the safetensors reader and the JSON
 * parser under it. Any input must either fail cleanly with a reason or give a
 * handle whose every tensor can be looked up and converted. Build and run: see
 * README.md in this folder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "safetensors.h"

#define MAX_CONVERT (1 << 16) /* elements converted per tensor */

static void check(int cond) {
    if (!cond) abort(); /* an invariant broke: libFuzzer reports it as a crash */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* The bytes after the length field are a JSON header followed by binary
     * data: give them to the JSON parser directly too, so it sees raw input. */
    if (size >= 8) {
        json_value *v = NULL;
        char err[128];
        if (json_parse((const char *)data + 8, size - 8, &v, err, sizeof err) == JSON_OK) {
            check(v != NULL);
            json_free(v);
        } else {
            check(v == NULL && err[0] != '\0');
        }
    }

    safetensors *st = NULL;
    pixab_status s = safetensors_parse(data, size, &st);
    if (s != PIXAB_OK) {
        check(st == NULL && pixab_last_error()[0] != '\0');
        return 0;
    }
    const unsigned char *lo = data, *hi = data + size;
    float *buf = malloc(MAX_CONVERT * sizeof(float));
    for (int i = 0; i < safetensors_count(st); i++) {
        const st_tensor *t = safetensors_at(st, i);
        check(t != NULL && safetensors_find(st, t->name) == t);
        check(t->begin <= t->end && t->data >= lo && t->data + (t->end - t->begin) <= hi);
        int64_t n = safetensors_numel(t);
        check(n >= 0 && (uint64_t)n * safetensors_dtype_size(t->dtype) == t->end - t->begin);
        const st_tensor *g = NULL;
        check(safetensors_get(st, t->name, t->ndim, t->shape, &g) == PIXAB_OK && g == t);
        if (buf && n <= MAX_CONVERT) {
            pixab_status c = safetensors_to_f32(t, buf);
            int is_float = t->dtype == ST_F32 || t->dtype == ST_F16 || t->dtype == ST_BF16;
            check(is_float ? c == PIXAB_OK : c == PIXAB_ERR_FORMAT);
            /* read every output so ASan sees the whole write */
            volatile float sink = 0;
            for (int64_t k = 0; is_float && k < n; k++) sink += buf[k];
            (void)sink;
        }
    }
    check(safetensors_at(st, safetensors_count(st)) == NULL);
    (void)safetensors_meta(st, "format");
    (void)safetensors_meta(st, "pixab.classes");
    check(safetensors_find(st, "__metadata__") == NULL);
    free(buf);
    safetensors_close(st);
    return 0;
}
