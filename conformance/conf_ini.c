/*
 * A small INI reader and writer for the measured-peaks cache: "[section]" and "key = value"
 * lines, ';' or '#' comments. Section names may hold any character but ']' (they are device
 * specs and names). Entries keep their order, so a rewritten file reads like the old one.
 * Written here rather than taken from libiniparser because the cache is a few lines the tool both
 * reads and writes, and iniparser 4.1 cannot write a section back without its dictionary dump.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_internal.h"

static char *trim(char *text) {
    while (isspace((unsigned char)*text))
        text++;
    size_t length = strlen(text);
    while (length && isspace((unsigned char)text[length - 1]))
        text[--length] = '\0';
    return text;
}

static int append(conf_ini_t *ini, const char *section, const char *key, const char *value) {
    conf_ini_entry_t *grown = realloc(ini->entries, (ini->count + 1) * sizeof *grown);
    if (!grown) return -1;
    ini->entries = grown;
    conf_ini_entry_t *e = &ini->entries[ini->count];
    e->section = strdup(section);
    e->key = strdup(key);
    e->value = strdup(value);
    ini->count++;
    return e->section && e->key && e->value ? 0 : -1;
}

int conf_ini_read(const char *path, conf_ini_t *ini) {
    ini->entries = NULL;
    ini->count = 0;
    FILE *file = fopen(path, "r");
    if (!file) return -1;
    char line[1024], section[512] = "";
    int status = 0;
    while (status == 0 && fgets(line, sizeof line, file)) {
        char *text = trim(line);
        if (!*text || *text == ';' || *text == '#') continue;
        if (*text == '[') {
            char *close = strrchr(text, ']');
            if (!close) continue;
            *close = '\0';
            conf_format(section, sizeof section, "%s", trim(text + 1));
            continue;
        }
        char *equals = strchr(text, '=');
        if (!equals) continue;
        *equals = '\0';
        status = append(ini, section, trim(text), trim(equals + 1));
    }
    fclose(file);
    return status;
}

const char *conf_ini_get(const conf_ini_t *ini, const char *section, const char *key) {
    for (size_t i = 0; i < ini->count; i++)
        if (strcmp(ini->entries[i].section, section) == 0 && strcmp(ini->entries[i].key, key) == 0)
            return ini->entries[i].value;
    return NULL;
}

int conf_ini_set(conf_ini_t *ini, const char *section, const char *key, const char *value) {
    for (size_t i = 0; i < ini->count; i++) {
        conf_ini_entry_t *e = &ini->entries[i];
        if (strcmp(e->section, section) != 0 || strcmp(e->key, key) != 0) continue;
        char *copy = strdup(value);
        if (!copy) return -1;
        free(e->value);
        e->value = copy;
        return 0;
    }
    return append(ini, section, key, value);
}

void conf_ini_remove_section(conf_ini_t *ini, const char *section) {
    size_t kept = 0;
    for (size_t i = 0; i < ini->count; i++) {
        conf_ini_entry_t *e = &ini->entries[i];
        if (strcmp(e->section, section) == 0) {
            free(e->section);
            free(e->key);
            free(e->value);
        } else {
            ini->entries[kept++] = *e;
        }
    }
    ini->count = kept;
}

int conf_ini_write(const conf_ini_t *ini, const char *path, const char *header) {
    char temporary[4096];
    conf_format(temporary, sizeof temporary, "%s.%ld.tmp", path, (long)getpid());
    FILE *file = fopen(temporary, "w");
    if (!file) return -1;
    if (header) fputs(header, file);
    const char *current = NULL;
    for (size_t i = 0; i < ini->count; i++) {
        const conf_ini_entry_t *e = &ini->entries[i];
        if (!current || strcmp(current, e->section) != 0) {
            fprintf(file, "%s[%s]\n", current ? "\n" : "", e->section);
            current = e->section;
        }
        fprintf(file, "%s = %s\n", e->key, e->value);
    }
    int failed = ferror(file);
    if (fclose(file) != 0) failed = 1;
    /* Renamed over the old file only when complete: a reader never sees half a cache. */
    if (failed || rename(temporary, path) != 0) {
        int saved = errno;
        unlink(temporary);
        errno = saved ? saved : EIO;
        return -1;
    }
    return 0;
}

void conf_ini_free(conf_ini_t *ini) {
    for (size_t i = 0; i < ini->count; i++) {
        free(ini->entries[i].section);
        free(ini->entries[i].key);
        free(ini->entries[i].value);
    }
    free(ini->entries);
    ini->entries = NULL;
    ini->count = 0;
}
