/*
 * The INI reader (and writer) of the whole project: the tuning files of every backend
 * (kernels/tuning/<backend>.ini), devices.ini, the measured-peaks cache and the expected-failures
 * files of the conformance suite.
 *
 * Syntax: "[section]" lines and "key = value" lines. A line whose first non-blank character is
 * ';' or '#' is a comment, and so is the rest of a line from a ';' that follows a blank
 * ("gemm_vw = 8   ; widest that fits"); a ';' not after a blank, and any '#' after the start
 * of the line, is part of the value ("issue #12", "PEAKS.md); fp32 is ...").
 * Blanks around names and values are dropped. Keys before the first section belong to the
 * section "". A section may appear twice (its keys are merged), and a key may repeat (the last
 * value is the one xc_ini_get returns; xc_ini_key_at sees them all). Names of sections and keys
 * are compared ignoring ASCII case. Anything else, a NUL byte, a line over XC_INI_MAX_LINE
 * characters or a name over XC_INI_MAX_NAME is an error naming the line.
 *
 * Looking a section up by name is a hash lookup: a file of 200,000 sections loads in tens of ms.
 */
#ifndef XHAL_BACKENDS_COMMON_XC_INI_H
#define XHAL_BACKENDS_COMMON_XC_INI_H

#include <stddef.h>

#define XC_INI_MAX_BYTES ((size_t)16 << 20) /* the largest file xc_ini_load reads */
#define XC_INI_MAX_LINE 4096                /* characters in one line */
#define XC_INI_MAX_NAME 255                 /* characters in a section or key name */
#define XC_INI_NONE ((size_t)-1)            /* "no such section" */

typedef struct xc_ini xc_ini_t;

/* An empty document (to fill with xc_ini_set and write). NULL when out of memory. */
xc_ini_t *xc_ini_new(void);

/*
 * Parses `size` bytes of `text` (which need not end in a NUL; nothing past `size` is read).
 * `source` names the text in errors. Returns the document, or NULL with `error` written as
 * "<source> line <n>: <what>" (or "out of host memory"). This is the entry a fuzzer drives.
 */
xc_ini_t *xc_ini_parse(const char *text, size_t size, const char *source, char *error,
                       size_t error_size);

/*
 * Reads and parses the file `path`: a regular file of at most XC_INI_MAX_BYTES (a FIFO, a device
 * such as /dev/zero, or a link to one is refused, see xc_file.h). NULL with `error` written.
 */
xc_ini_t *xc_ini_load(const char *path, char *error, size_t error_size);

void xc_ini_free(xc_ini_t *ini);

/* Sections in file order. */
size_t xc_ini_section_count(const xc_ini_t *ini);
const char *xc_ini_section_name(const xc_ini_t *ini, size_t section);
/* The index of the section called `name`, or XC_INI_NONE. */
size_t xc_ini_find(const xc_ini_t *ini, const char *name);

/* Entries of a section in file order: key i, with its value and line (0 when set in memory). */
size_t xc_ini_key_count(const xc_ini_t *ini, size_t section);
const char *xc_ini_key_at(const xc_ini_t *ini, size_t section, size_t i, const char **out_value,
                          int *out_line);

/* The value of `key` in section number `section` (the last one given), or NULL. */
const char *xc_ini_value(const xc_ini_t *ini, size_t section, const char *key);
/* The value of `key` in the section called `section`, or NULL. */
const char *xc_ini_get(const xc_ini_t *ini, const char *section, const char *key);

/* Sets `key` in `section` (created when missing). 0, or -1 out of memory. */
int xc_ini_set(xc_ini_t *ini, const char *section, const char *key, const char *value);
/* Removes a section and its keys (nothing when there is none). */
void xc_ini_remove_section(xc_ini_t *ini, const char *section);

/*
 * Writes the document to `path` atomically and durably (xc_file_replace), `header` (comment
 * lines, may be NULL) first. 0, or -1 with errno set: EINVAL, with nothing written, when it
 * would not read back as the same document (a name or value with a newline, a name with
 * blanks at its ends, an empty key or one starting with '[', ';' or '#', a name over
 * XC_INI_MAX_NAME, a line over XC_INI_MAX_LINE, a file over XC_INI_MAX_BYTES). Blanks around a
 * value, and from a blank and ';' on in it (a comment), are dropped when it is read back.
 */
int xc_ini_write(const xc_ini_t *ini, const char *path, const char *header);

#endif
