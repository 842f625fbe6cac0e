/* dataset.c — loading an annotation file (see dataset.h). */
#include "dataset.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"

#define MAX_LINE_BYTES (1 << 20)
#define MAX_OBJECTS 1024

static char *join(const char *dir, size_t dir_len, const char *name) {
    size_t n = strlen(name);
    char *s = malloc(dir_len + n + 2);
    if (!s) return NULL;
    if (name[0] == '/' || !dir_len) {
        memcpy(s, name, n + 1);
    } else {
        memcpy(s, dir, dir_len);
        s[dir_len] = '/';
        memcpy(s + dir_len + 1, name, n + 1);
    }
    return s;
}

static int get_int(const json_value *v, int lo, int hi, int *out) {
    int64_t x;
    if (!json_get_i64(v, &x) || x < lo || x > hi) return 0;
    *out = (int)x;
    return 1;
}

/* One line's item; 0 or a reason in why. */
static int parse_item(const json_value *v, const char *dir, size_t dir_len, int classes, eval_item *it, char *why,
                      size_t cap) {
    size_t len;
    const char *image = json_string(json_object_get(v, "image"), &len);
    const json_value *objs = json_object_get(v, "objects");
    if (!image || !len || strlen(image) != len) return snprintf(why, cap, "no \"image\" string"), -1;
    if (!json_is(objs, JSON_ARRAY)) return snprintf(why, cap, "no \"objects\" array"), -1;
    size_t n = json_count(objs);
    if (n > MAX_OBJECTS) return snprintf(why, cap, "more than %d objects", MAX_OBJECTS), -1;
    it->objects = calloc(n ? n : 1, sizeof *it->objects);
    it->path = join(dir, dir_len, image);
    if (!it->objects || !it->path) return snprintf(why, cap, "out of memory"), -1;
    for (size_t k = 0; k < n; k++) {
        const json_value *o = json_array_get(objs, k), *box = json_object_get(o, "box");
        eval_object *ob = &it->objects[k];
        if (!get_int(json_object_get(o, "class"), 0, classes - 1, &ob->cls))
            return snprintf(why, cap, "object %zu: \"class\" must be an integer in [0, %d]", k, classes - 1), -1;
        int ok = json_count(box) == 4;
        for (int c = 0; c < 4 && ok; c++) ok = get_int(json_array_get(box, (size_t)c), 0, PIXAB_IMAGE_MAX_SIDE, &ob->box[c]);
        if (!ok || ob->box[2] <= ob->box[0] || ob->box[3] <= ob->box[1])
            return snprintf(why, cap, "object %zu: \"box\" must be [x0,y0,x1,y1] with x0 < x1, y0 < y1", k), -1;
        it->n_objects++;
    }
    return 0;
}

pixab_status eval_dataset_load(const char *path, int classes, eval_dataset *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return pixab_fail(PIXAB_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) : 0;
    if (slash && !dir_len) dir_len = 1; /* "/x.jsonl": the root */
    char *line = NULL, why[160] = "";
    size_t line_cap = 0;
    int cap = 0;
    long lineno = 0;
    pixab_status s = PIXAB_OK;
    ssize_t got;
    while (!s && (got = getline(&line, &line_cap, f)) >= 0) {
        lineno++;
        size_t n = (size_t)got;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ')) n--;
        if (!n) continue;
        if (n > MAX_LINE_BYTES) {
            s = pixab_fail(PIXAB_ERR_FORMAT, "%s:%ld: line longer than %d bytes", path, lineno, MAX_LINE_BYTES);
            break;
        }
        if (out->n == cap) {
            int c2 = cap ? 2 * cap : 64;
            eval_item *p = realloc(out->items, sizeof *p * (size_t)c2);
            if (!p) {
                s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory reading '%s'", path);
                break;
            }
            out->items = p;
            cap = c2;
        }
        json_value *v;
        char jerr[128];
        eval_item *it = &out->items[out->n++];
        memset(it, 0, sizeof *it);
        it->line = lineno;
        if (json_parse(line, n, &v, jerr, sizeof jerr) != JSON_OK) {
            s = pixab_fail(PIXAB_ERR_FORMAT, "%s:%ld: %s", path, lineno, jerr);
        } else {
            if (parse_item(v, path, slash ? dir_len : 0, classes, it, why, sizeof why))
                s = pixab_fail(PIXAB_ERR_FORMAT, "%s:%ld: %s", path, lineno, why);
            json_free(v);
        }
    }
    if (!s && ferror(f)) s = pixab_fail(PIXAB_ERR_IO, "cannot read '%s'", path);
    if (!s && !out->n) s = pixab_fail(PIXAB_ERR_FORMAT, "'%s' lists no images", path);
    if (!s && !(out->source = strdup(path))) s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory reading '%s'", path);
    free(line);
    fclose(f);
    if (s) eval_dataset_free(out);
    return s;
}

void eval_dataset_free(eval_dataset *d) {
    for (int i = 0; i < d->n; i++) {
        free(d->items[i].path);
        free(d->items[i].objects);
    }
    free(d->items);
    free(d->source);
    memset(d, 0, sizeof *d);
}

pixab_status eval_item_check_boxes(const eval_dataset *d, const eval_item *it, int width, int height) {
    for (int k = 0; k < it->n_objects; k++) {
        const int *b = it->objects[k].box;
        if (b[0] >= width || b[1] >= height)
            return pixab_fail(PIXAB_ERR_FORMAT, "%s:%ld: object %d: box [%d,%d,%d,%d] lies outside the %dx%d image",
                              d->source, it->line, k, b[0], b[1], b[2], b[3], width, height);
    }
    return PIXAB_OK;
}
