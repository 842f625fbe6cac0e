/* canvas.c — the CLI's RGB raster (see canvas.h). Text comes from
 * stb_easy_font, which describes each string as axis-aligned quads in font
 * units; each quad is filled as a rectangle of pixels at the chosen scale. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-braces"
#endif
#include <stb_easy_font.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include "canvas.h"

int canvas_init(canvas *cv, int w, int h, unsigned char grey) {
    cv->rgb = NULL;
    cv->w = w;
    cv->h = h;
    if (w < 1 || h < 1 || w > CANVAS_MAX_SIDE || h > CANVAS_MAX_SIDE) return -1;
    cv->rgb = malloc((size_t)w * (size_t)h * 3);
    if (!cv->rgb) return -1;
    memset(cv->rgb, grey, (size_t)w * (size_t)h * 3);
    return 0;
}

void canvas_free(canvas *cv) {
    free(cv->rgb);
    cv->rgb = NULL;
}

void canvas_fill(canvas *cv, int x0, int y0, int x1, int y1, const unsigned char rgb[3]) {
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > cv->w) x1 = cv->w;
    if (y1 > cv->h) y1 = cv->h;
    for (int y = y0; y < y1; y++) {
        unsigned char *p = cv->rgb + ((size_t)y * cv->w + x0) * 3;
        for (int x = x0; x < x1; x++, p += 3) memcpy(p, rgb, 3);
    }
}

void canvas_blend(canvas *cv, int x, int y, const unsigned char rgb[3], float alpha) {
    if (x < 0 || y < 0 || x >= cv->w || y >= cv->h || !(alpha > 0.0f)) return;
    if (alpha > 1.0f) alpha = 1.0f;
    unsigned char *p = cv->rgb + ((size_t)y * cv->w + x) * 3;
    for (int c = 0; c < 3; c++) p[c] = (unsigned char)(alpha * rgb[c] + (1.0f - alpha) * p[c] + 0.5f);
}

/* Coverage of a pixel at distance d from the segment's axis: 1 within
 * half_w - 0.5, falling linearly to 0 at half_w + 0.5. */
void canvas_line(canvas *cv, float x0, float y0, float x1, float y1, float width, const unsigned char rgb[3]) {
    if (!(width > 0.0f) || !isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1)) return;
    const float reach = 0.5f * width + 0.5f, dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    /* Walk the major axis (a) one pixel at a time and, at each step, only the
     * pixels of the minor axis (b) near the segment. */
    const int steep = fabsf(dy) > fabsf(dx);
    const float a0 = steep ? y0 : x0, a1 = steep ? y1 : x1, b0 = steep ? x0 : y0, db = steep ? dx : dy;
    const float da = a1 - a0, slope = da != 0.0f ? db / da : 0.0f;
    const float half = reach * (1.0f + fabsf(slope)) + 1.0f; /* covers the round caps too */
    const int a_max = (steep ? cv->h : cv->w) - 1, b_max = (steep ? cv->w : cv->h) - 1;
    float lo = fminf(a0, a1) - reach, hi = fmaxf(a0, a1) + reach;
    if (!isfinite(len2) || lo > (float)a_max || hi < 0.0f) return; /* also keeps the casts below in range */
    for (int a = lo < 0.0f ? 0 : (int)ceilf(lo), a_end = hi > (float)a_max ? a_max : (int)floorf(hi); a <= a_end; a++) {
        float t = da != 0.0f ? (a - a0) / da : 0.0f;
        t = t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
        float blo = b0 + t * db - half, bhi = b0 + t * db + half;
        if (blo > (float)b_max || bhi < 0.0f) continue;
        for (int b = blo < 0.0f ? 0 : (int)ceilf(blo), b_end = bhi > (float)b_max ? b_max : (int)floorf(bhi);
             b <= b_end; b++) {
            float px = (float)(steep ? b : a), py = (float)(steep ? a : b);
            float s = len2 > 0.0f ? ((px - x0) * dx + (py - y0) * dy) / len2 : 0.0f;
            s = s < 0.0f ? 0.0f : s > 1.0f ? 1.0f : s;
            float ex = px - (x0 + s * dx), ey = py - (y0 + s * dy);
            canvas_blend(cv, (int)px, (int)py, rgb, reach - sqrtf(ex * ex + ey * ey));
        }
    }
}

/* Printable ASCII only (stb_easy_font indexes its table by char - 32). */
void canvas_fit_text(const char *in, char *out, size_t cap, int max_w, int scale) {
    size_t n = 0;
    for (; in[n] && n + 1 < cap; n++) out[n] = in[n] >= 32 && in[n] < 127 ? in[n] : '?';
    out[n] = '\0';
    if (stb_easy_font_width(out) * scale <= max_w) return;
    while (n > 0) {
        out[--n] = '\0';
        if (n + 4 > cap) continue;
        char probe[256];
        snprintf(probe, sizeof probe, "%s...", out);
        if (stb_easy_font_width(probe) * scale <= max_w || n == 0) {
            snprintf(out, cap, "%s", probe);
            return;
        }
    }
}

int canvas_text_width(const char *text, int scale) {
    char buf[256];
    canvas_fit_text(text, buf, sizeof buf, INT_MAX, 1);
    return stb_easy_font_width(buf) * scale;
}

/* Fill each quad of the fitted text; `up` turns it a quarter anticlockwise
 * about (x, y + 1) so that it reads upwards from row y. */
static void draw_text(canvas *cv, int x, int y, const char *text, int scale, int max_w, const unsigned char rgb[3],
                      int up) {
    char buf[256];
    canvas_fit_text(text, buf, sizeof buf, max_w, scale);
    static char quads[64 * 4096];
    int n = stb_easy_font_print(0.0f, 0.0f, buf, NULL, quads, (int)sizeof quads);
    for (int q = 0; q < n; q++) {
        const char *v = quads + 64 * q;
        float qx0 = 1e9f, qy0 = 1e9f, qx1 = -1e9f, qy1 = -1e9f;
        for (int k = 0; k < 4; k++) {
            float fx, fy;
            memcpy(&fx, v + 16 * k, sizeof fx);
            memcpy(&fy, v + 16 * k + 4, sizeof fy);
            if (fx < qx0) qx0 = fx;
            if (fx > qx1) qx1 = fx;
            if (fy < qy0) qy0 = fy;
            if (fy > qy1) qy1 = fy;
        }
        /* along the text: [u0, u1) px from its start, clipped at max_w; across: [v0, v1) */
        int u0 = (int)(qx0 * scale + 0.5f), u1 = (int)(qx1 * scale + 0.5f);
        int v0 = (int)(qy0 * scale + 0.5f), v1 = (int)(qy1 * scale + 0.5f);
        if (u1 > max_w) u1 = max_w;
        if (up)
            canvas_fill(cv, x + v0, y + 1 - u1, x + v1, y + 1 - u0, rgb);
        else
            canvas_fill(cv, x + u0, y + v0, x + u1, y + v1, rgb);
    }
}

void canvas_text(canvas *cv, int x, int y, const char *text, int scale, int max_w, const unsigned char rgb[3]) {
    draw_text(cv, x, y, text, scale, max_w, rgb, 0);
}

void canvas_text_up(canvas *cv, int x, int y, const char *text, int scale, int max_w, const unsigned char rgb[3]) {
    draw_text(cv, x, y, text, scale, max_w, rgb, 1);
}
