/* The parameter spaces `xhal tune` searches, per backend, and its shape classes (conf_tune*.c). */
#ifndef XHAL_CONF_TUNE_SPACE_H
#define XHAL_CONF_TUNE_SPACE_H

#include "conform.h"

#define CONF_TUNE_MAX_VALUES 8
#define CONF_TUNE_GROUP_PARAMS 10

/* One key and the values tried for it. */
typedef struct conf_tune_param {
    const char *key;
    int values[CONF_TUNE_MAX_VALUES];
    int count;
} conf_tune_param_t;

/* The shape classes of the issue; each group is scored on its own. */
typedef enum conf_tune_class {
    CONF_TUNE_SQUARE,  /* large square GEMM */
    CONF_TUNE_PREFILL, /* m >= 128, B transposed (weights n x k) */
    CONF_TUNE_DECODE,  /* m <= 64, B transposed */
    CONF_TUNE_ATT_PREFILL,
    CONF_TUNE_ATT_DECODE,
    CONF_TUNE_CLASS_COUNT,
} conf_tune_class_t;

/* Parameters searched together (one kernel), on the shape classes they change. */
typedef struct conf_tune_group {
    const char *name;
    conf_op_t op;
    unsigned classes; /* bits (1u << conf_tune_class_t) */
    double share;     /* of the budget */
    conf_tune_param_t params[CONF_TUNE_GROUP_PARAMS];
    int count;
} conf_tune_group_t;

/* The groups for this device (its backend and type); 0 when the backend has no space. */
size_t conf_tune_space(const xhal_device_info_t *info, const conf_tune_group_t **out);

/* "large square 1024^3" etc. */
const char *conf_tune_class_name(conf_tune_class_t c);

#endif
