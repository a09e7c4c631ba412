/*
 * The few SVG elements the charts draw, written by hand so that xhal needs no plotting library.
 * Text is escaped for XML; numbers are written with fixed precision, so the files are stable
 * from run to run and diff well.
 */
#include <errno.h>
#include <string.h>

#include "conf_internal.h"

/* Okabe-Ito: distinguishable with the common colour-vision deficiencies. */
static const char *const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                      "#E69F00", "#56B4E9", "#000000", "#999999"};

const char *conf_svg_color(size_t index) {
    return palette[index % (sizeof palette / sizeof palette[0])];
}

static void escaped(FILE *out, const char *text) {
    for (; *text; text++) {
        switch (*text) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            /* Control characters are not allowed in XML 1.0 at all. */
            if ((unsigned char)*text >= 0x20 || *text == '\t' || *text == '\n') fputc(*text, out);
        }
    }
}

int conf_svg_open(conf_svg_t *svg, const char *path, double width, double height,
                  const char *title) {
    svg->file = fopen(path, "w");
    svg->width = width;
    svg->height = height;
    if (!svg->file) return -1;
    fprintf(svg->file,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
            "<title>",
            width, height, width, height);
    escaped(svg->file, title);
    fprintf(svg->file,
            "</title>\n<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" "
            "fill=\"#ffffff\"/>\n",
            width, height);
    return 0;
}

int conf_svg_close(conf_svg_t *svg) {
    if (!svg->file) return -1;
    fputs("</svg>\n", svg->file);
    int failed = ferror(svg->file);
    if (fclose(svg->file) != 0) failed = 1;
    svg->file = NULL;
    return failed ? -1 : 0;
}

void conf_svg_line(conf_svg_t *svg, double x1, double y1, double x2, double y2, const char *color,
                   double width, int dashed) {
    fprintf(svg->file,
            "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
            "stroke-width=\"%.2f\"%s/>\n",
            x1, y1, x2, y2, color, width, dashed ? " stroke-dasharray=\"4 3\"" : "");
}

void conf_svg_rect(conf_svg_t *svg, double x, double y, double w, double h, const char *fill,
                   const char *stroke) {
    fprintf(svg->file, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"", x,
            y, w > 0 ? w : 0, h > 0 ? h : 0, fill);
    if (stroke) fprintf(svg->file, " stroke=\"%s\"", stroke);
    fputs("/>\n", svg->file);
}

void conf_svg_marker(conf_svg_t *svg, double x, double y, double r, int shape, const char *fill) {
    FILE *f = svg->file;
    switch (shape) {
    case 1:
        fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n",
                x - r, y - r, 2 * r, 2 * r, fill);
        break;
    case 2:
        fprintf(f, "<polygon points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f %.2f,%.2f\" fill=\"%s\"/>\n", x,
                y - 1.3 * r, x + 1.3 * r, y, x, y + 1.3 * r, x - 1.3 * r, y, fill);
        break;
    case 3:
        fprintf(f, "<polygon points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f\" fill=\"%s\"/>\n", x,
                y - 1.3 * r, x + 1.2 * r, y + r, x - 1.2 * r, y + r, fill);
        break;
    case 4: /* a ring */
        fprintf(f,
                "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\" fill=\"#ffffff\" stroke=\"%s\" "
                "stroke-width=\"2\"/>\n",
                x, y, r * 0.85, fill);
        break;
    default:
        fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\" fill=\"%s\"/>\n", x, y, r, fill);
    }
}

void conf_svg_text(conf_svg_t *svg, double x, double y, double size, const char *anchor,
                   const char *color, double rotate, const char *text) {
    fprintf(svg->file,
            "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.1f\" text-anchor=\"%s\" "
            "fill=\"%s\"",
            x, y, size, anchor, color);
    if (rotate != 0) fprintf(svg->file, " transform=\"rotate(%.1f %.2f %.2f)\"", rotate, x, y);
    fputc('>', svg->file);
    escaped(svg->file, text);
    fputs("</text>\n", svg->file);
}
