/* See xc_tuned.h. */
#include "xc_tuned.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "xc_cache.h"

void xc_tuned_hash(const char *const *parts, size_t count, char out[17]) {
    char key[XC_CACHE_KEY_CHARS + 1];
    xc_cache_key(parts, count, key);
    memcpy(out, key, 16);
    out[16] = '\0';
}

static const char *or_empty(const char *text) {
    return text ? text : "";
}

int xc_tuned_path(xc_lookup_fn lookup, const xc_tuned_key_t *key, char *out, size_t size) {
    char dir[4096], slug[48], hash[17];
    if (xc_user_cache_dir(lookup, dir, sizeof dir) != 0) return -1;
    /* The name for people (letters and digits of the device name), the hash for uniqueness. */
    size_t n = 0;
    for (const char *p = or_empty(key->device); *p && n + 1 < sizeof slug; p++) {
        char c = (char)tolower((unsigned char)*p);
        int keep = isalnum((unsigned char)c);
        if (keep || (n && slug[n - 1] != '-')) slug[n++] = keep ? c : '-';
    }
    while (n && slug[n - 1] == '-')
        n--;
    slug[n] = '\0';
    const char *parts[2] = {or_empty(key->device), or_empty(key->driver)};
    xc_tuned_hash(parts, 2, hash);
    int written = snprintf(out, size, "%s/tuning/%s-%s-%s.ini", dir, or_empty(key->backend),
                           n ? slug : "device", hash);
    return written > 0 && (size_t)written < size ? 0 : -1;
}

int xc_tuned_matches(const xc_ini_t *ini, const xc_tuned_key_t *key, char *why, size_t size,
                     int *backend_only) {
    *backend_only = 0;
    if (xc_ini_find(ini, XC_TUNED_HEADER) == XC_INI_NONE) {
        snprintf(why, size, "not a tuned file: it has no [" XC_TUNED_HEADER "] section");
        return 0;
    }
    static const char *const fields[4] = {"backend", "device", "driver", "kernels"};
    const char *want[4] = {or_empty(key->backend), or_empty(key->device), or_empty(key->driver),
                           or_empty(key->kernels)};
    for (int i = 0; i < 4; i++) {
        const char *have = or_empty(xc_ini_get(ini, XC_TUNED_HEADER, fields[i]));
        if (strcmp(have, want[i]) == 0) continue;
        *backend_only = i == 0;
        snprintf(why, size, "%s: it was tuned for %s \"%s\", this is %s \"%s\"%s",
                 i == 3 ? "stale" : "foreign", fields[i], have, fields[i], want[i],
                 i == 3 ? " (the kernels changed since: run `xhal tune` again)" : "");
        return 0;
    }
    if (xc_ini_find(ini, XC_TUNED_PARAMETERS) == XC_INI_NONE) {
        snprintf(why, size, "not a tuned file: it has no [" XC_TUNED_PARAMETERS "] section");
        return 0;
    }
    return 1;
}

int xc_tuned_set_header(xc_ini_t *ini, const xc_tuned_key_t *key) {
    int status = xc_ini_set(ini, XC_TUNED_HEADER, "backend", or_empty(key->backend));
    status |= xc_ini_set(ini, XC_TUNED_HEADER, "device", or_empty(key->device));
    status |= xc_ini_set(ini, XC_TUNED_HEADER, "driver", or_empty(key->driver));
    status |= xc_ini_set(ini, XC_TUNED_HEADER, "kernels", or_empty(key->kernels));
    return status ? -1 : 0;
}
