/* dataset.h — an annotated image set for the evaluation suite: the JSON-lines
 * file `pixab synth` writes (and users can write for their own data), one
 * line per image:
 *   {"image":"00001.png","objects":[{"class":2,"box":[x0,y0,x1,y1]}, ...]}
 * image paths relative to the annotation file's directory (absolute paths are
 * kept); boxes in the image's own pixels, x1/y1 exclusive; "name" and other
 * keys are ignored. Blank lines are skipped; anything else malformed is an
 * error naming the line. */
#ifndef PIXAB_EVAL_DATASET_H
#define PIXAB_EVAL_DATASET_H

#include "pixab.h"

typedef struct {
    int cls;
    int box[4]; /* x0, y0, x1, y1 (exclusive), image pixels */
} eval_object;

typedef struct {
    char *path;          /* resolved image path */
    eval_object *objects;
    int n_objects;
    long line;           /* its line in the annotation file */
} eval_item;

typedef struct {
    eval_item *items;
    int n;
    char *source;        /* the annotation file */
} eval_dataset;

/* Load `path`; classes must be in [0, classes). */
pixab_status eval_dataset_load(const char *path, int classes, eval_dataset *out);
void eval_dataset_free(eval_dataset *d);
/* Item it's boxes against its image's size (known once decoded): a box that
 * lies wholly outside the image is an error naming the file and line. */
pixab_status eval_item_check_boxes(const eval_dataset *d, const eval_item *it, int width, int height);

#endif
