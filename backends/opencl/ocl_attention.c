/*
 * Attention dispatch (kernels/opencl/attention.cl explains the kernels). Sequences with at most
 * att_dec_max_q queries take the decode path, the others prefill:
 *
 *   decode   the keys each sequence's queries see are split into `chunks` over enough
 *            work-items to fill the device (att_dec_items), each chunk's partial softmax state
 *            goes to scratch, and a combine pass merges them into O;
 *   prefill  K and V are packed to f32 (K transposed in blocks of att_vw keys), then a
 *            work-item runs att_bq query rows over them.
 *
 * Every grid is sized from the descriptor alone (seq_q rows, seq_kv keys per sequence at most),
 * never from the index buffers, which the kernels read in stream order: with packed Q the host
 * cannot tell which path a sequence takes, so it queues both and each kernel skips the
 * sequences of the other. Prefill packs sequences in groups that keep the scratch under
 * OCL_ATTN_BUDGET, except packed K/V, whose sequences' lengths the host does not know: those
 * are packed whole ((seq_kv / att_vw + batch) blocks per KV head).
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "ocl_internal.h"
#include "xc_features.h"

#define OCL_ATTN_BUDGET ((uint64_t)256 << 20)
#define OCL_MAX_HEAD_DIM 256

/* The serving features of attention this backend runs (xc_features.h): every one (the decode and
 * prefill kernels run them all). */
#define OCL_ATTENTION_FEATURES                                                                     \
    (XC_ATTENTION_SLIDING_WINDOW | XC_ATTENTION_SOFTCAP | XC_ATTENTION_VARLEN_Q |                  \
     XC_ATTENTION_VARLEN_KV | XC_ATTENTION_SEQLENS_KV | XC_ATTENTION_PAGED | XC_ATTENTION_LSE)

xhal_status_t ocl_attention_supports(xhal_be_device_t *device, const xhal_attention_desc_t *desc) {
    xhal_status_t status =
        xc_attention_features(device->host, "opencl", desc, OCL_ATTENTION_FEATURES);
    if (status != XHAL_OK) return status;
    if (desc->head_dim > OCL_MAX_HEAD_DIM)
        return device->host->set_error(XHAL_UNSUPPORTED,
                                       "opencl: attention head_dim %lld is not supported (1..%d)",
                                       (long long)desc->head_dim, OCL_MAX_HEAD_DIM);
    /* Rows, keys, heads, sequences and pool blocks are ints in the kernels, with room for the
     * sums they form (a packed offset plus a length, a block count plus the batch). */
    const int64_t limit = INT_MAX / 2;
    if (desc->seq_q > limit || desc->seq_kv > limit || desc->heads_q > limit ||
        desc->batch > limit || desc->num_blocks > limit || desc->block_table_stride > limit)
        return device->host->set_error(XHAL_UNSUPPORTED,
                                       "opencl: attention sizes above %lld are not supported",
                                       (long long)limit);
    return XHAL_OK;
}

/* The kernels' common arguments (attention.cl's ATTN_PARAMS). */
typedef struct attn_args {
    cl_long16 geo; /* the vectors first: they are aligned to their size */
    cl_int16 cfg;
    cl_long8 offs;
    cl_float2 sc;
    cl_mem q, k, v, o, lse, cu_q, cu_kv, lens, table; /* NULL where the op has none */
    int packed_q;
} attn_args_t;

enum { CFG_DEC_MAX_Q = 12, CFG_KV_BLOCKS = 14, CFG_TOTAL_BLOCKS = 15 };

static cl_mem mem_of(const xhal_be_buffer_t *b) {
    return b ? b->mem : NULL;
}

static void make_args(const ocl_tuning_t *t, const xhal_attention_desc_t *d,
                      const xhal_be_attention_buffers_t *bufs, attn_args_t *a) {
    memset(a, 0, sizeof *a);
    a->q = mem_of(bufs->q), a->k = mem_of(bufs->k), a->v = mem_of(bufs->v);
    a->o = mem_of(bufs->o), a->lse = mem_of(bufs->lse), a->cu_q = mem_of(bufs->cu_seqlens_q);
    a->cu_kv = mem_of(bufs->cu_seqlens_kv), a->lens = mem_of(bufs->seqlens_kv);
    a->table = mem_of(bufs->block_table);
    a->packed_q = bufs->cu_seqlens_q != NULL;
    int64_t es = (int64_t)ocl_dtype_size(d->dtype);
    const xhal_attention_strides_t *st[4] = {&d->q_strides, &d->k_strides, &d->v_strides,
                                             &d->o_strides};
    const uint64_t off[4] = {d->q_offset, d->k_offset, d->v_offset, d->o_offset};
    for (int i = 0; i < 4; i++) {
        a->geo.s[4 * i] = (cl_long)((int64_t)off[i] / es);
        a->geo.s[4 * i + 1] = st[i]->batch;
        a->geo.s[4 * i + 2] = st[i]->head;
        a->geo.s[4 * i + 3] = st[i]->seq;
    }
    /* A window of seq_kv keys or more hides nothing a shorter one would not. */
    int64_t window = d->sliding_window < d->seq_kv ? d->sliding_window : d->seq_kv;
    const int64_t cfg[16] = {d->seq_q,
                             d->seq_kv,
                             d->head_dim,
                             (int64_t)ocl_round_up((uint64_t)d->head_dim, (uint64_t)t->att_vw),
                             d->heads_q / d->heads_kv,
                             d->heads_kv,
                             d->heads_q,
                             d->causal,
                             window,
                             d->block_size,
                             d->num_blocks,
                             d->block_table_stride,
                             t->att_dec_max_q,
                             d->batch,
                             0,
                             0};
    for (int i = 0; i < 16; i++)
        a->cfg.s[i] = (cl_int)cfg[i];
    const uint64_t index_off[5] = {d->cu_seqlens_q_offset, d->cu_seqlens_kv_offset,
                                   d->seqlens_kv_offset, d->block_table_offset, d->lse_offset};
    for (int i = 0; i < 5; i++)
        a->offs.s[i] = (cl_long)(index_off[i] / 4);
    float scale = d->scale != 0.0f ? d->scale : 1.0f / sqrtf((float)d->head_dim);
    const float log2e = 1.44269504088896341f; /* scores in base 2: exp(x) = exp2(x log2 e) */
    a->sc.s[0] = d->softcap > 0.0f ? scale / d->softcap : scale * log2e;
    a->sc.s[1] = d->softcap > 0.0f ? d->softcap * log2e : 0.0f;
}

/* ATTN_PARAMS in order, then a kernel's own arguments. */
#define ATTN_ARGS(a)                                                                               \
    OCL_ARG((a)->q), OCL_ARG((a)->k), OCL_ARG((a)->v), OCL_ARG((a)->o), OCL_ARG((a)->lse),         \
        OCL_ARG((a)->cu_q), OCL_ARG((a)->cu_kv), OCL_ARG((a)->lens), OCL_ARG((a)->table),          \
        OCL_ARG((a)->geo), OCL_ARG((a)->cfg), OCL_ARG((a)->offs), OCL_ARG((a)->sc)

static xhal_status_t prefill(xhal_be_stream_t *stream, const xhal_attention_desc_t *d,
                             attn_args_t *a) {
    const ocl_tuning_t *t = &stream->device->tuning;
    uint64_t vw = (uint64_t)t->att_vw, dp = ocl_round_up((uint64_t)d->head_dim, vw);
    int packed_kv = d->cu_seqlens_kv != NULL;
    /* Scratch blocks of one sequence (or, packed, of all of them), per KV head. */
    uint64_t kv_blocks = ((uint64_t)d->seq_kv + vw - 1) / vw;
    if (packed_kv) kv_blocks += (uint64_t)d->batch;
    uint64_t block_bytes = 4 * vw * ((uint64_t)d->head_dim + dp) * (uint64_t)d->heads_kv;
    int64_t per_group =
        packed_kv ? d->batch : (int64_t)(OCL_ATTN_BUDGET / (block_bytes * kv_blocks));
    if (per_group < 1) per_group = 1;
    if (per_group > d->batch) per_group = d->batch;
    uint64_t group_blocks = packed_kv ? kv_blocks : kv_blocks * (uint64_t)per_group;
    if (group_blocks > (uint64_t)INT_MAX)
        return stream->device->host->set_error(
            XHAL_UNSUPPORTED, "opencl: attention prefill needs %llu scratch blocks (> %d)",
            (unsigned long long)group_blocks, INT_MAX);

    cl_mem kt = NULL, vp = NULL;
    uint64_t floats = group_blocks * vw * (uint64_t)d->heads_kv;
    xhal_status_t status = ocl_stream_scratch(stream, 0, 4 * floats * (uint64_t)d->head_dim, &kt);
    if (status == XHAL_OK) status = ocl_stream_scratch(stream, 1, 4 * floats * dp, &vp);
    if (status != XHAL_OK) return status;

    size_t one[3] = {1, 1, 1};
    for (int64_t b0 = 0; b0 < d->batch; b0 += per_group) {
        int64_t count = d->batch - b0 < per_group ? d->batch - b0 : per_group;
        a->cfg.s[CFG_KV_BLOCKS] = (cl_int)(packed_kv ? 0 : kv_blocks);
        a->cfg.s[CFG_TOTAL_BLOCKS] = (cl_int)(packed_kv ? kv_blocks : kv_blocks * (uint64_t)count);
        cl_int first = (cl_int)b0, seqs = (cl_int)count;
        size_t pack_global[3] = {(size_t)kv_blocks, (size_t)d->heads_kv,
                                 packed_kv ? 1 : (size_t)count};
        status = OCL_LAUNCH(stream, OCL_ATTN_PACK_KV, d->dtype, 3, pack_global, one, ATTN_ARGS(a),
                            OCL_ARG(first), OCL_ARG(kt), OCL_ARG(vp));
        if (status != XHAL_OK) return status;
        size_t global[3] = {(size_t)((d->seq_q + t->att_bq - 1) / t->att_bq), (size_t)d->heads_q,
                            a->packed_q ? 1 : (size_t)count};
        status = OCL_LAUNCH(stream, OCL_ATTN_PREFILL, d->dtype, 3, global, one, ATTN_ARGS(a),
                            OCL_ARG(first), OCL_ARG(seqs), OCL_ARG(kt), OCL_ARG(vp));
        if (status != XHAL_OK) return status;
    }
    return XHAL_OK;
}

static xhal_status_t decode(xhal_be_stream_t *stream, const xhal_attention_desc_t *d,
                            attn_args_t *a) {
    const ocl_tuning_t *t = &stream->device->tuning;
    int64_t group = d->heads_q / d->heads_kv;
    /* Packed Q: how many rows a sequence has is only known on the device, so one work-item
     * walks all of a KV head's rows of its chunk; else the rows are split in row blocks. */
    int64_t row_groups = a->packed_q ? 1 : (group * d->seq_q + t->att_dec_rb - 1) / t->att_dec_rb;
    int64_t items = d->batch * d->heads_kv * row_groups;
    /* Enough chunks to reach att_dec_items work-items, none shorter than att_dec_chunk keys. */
    int64_t min_chunk = (int64_t)ocl_round_up((uint64_t)t->att_dec_chunk, (uint64_t)t->att_vw);
    int64_t chunks = (t->att_dec_items + items - 1) / items;
    int64_t most = (d->seq_kv + min_chunk - 1) / min_chunk;
    if (chunks > most) chunks = most;
    if (chunks < 1) chunks = 1;

    cl_int dp = a->cfg.s[3];
    uint64_t rows =
        (uint64_t)(a->packed_q ? 1 : d->batch) * (uint64_t)d->heads_q * (uint64_t)d->seq_q;
    uint64_t partials = rows * (uint64_t)chunks;
    cl_mem part_m = NULL, part_l = NULL, part_acc = NULL;
    xhal_status_t status = ocl_stream_scratch(stream, 0, 4 * partials, &part_m);
    if (status == XHAL_OK) status = ocl_stream_scratch(stream, 1, 4 * partials, &part_l);
    if (status == XHAL_OK)
        status = ocl_stream_scratch(stream, 2, 4 * partials * (uint64_t)dp, &part_acc);
    if (status != XHAL_OK) return status;

    cl_int chunk_arg = (cl_int)min_chunk, chunks_arg = (cl_int)chunks;
    size_t one[3] = {1, 1, 1};
    size_t global[3] = {(size_t)chunks, (size_t)(d->heads_kv * row_groups), (size_t)d->batch};
    status = OCL_LAUNCH(stream, OCL_ATTN_DECODE, d->dtype, 3, global, one, ATTN_ARGS(a),
                        OCL_ARG(chunk_arg), OCL_ARG(part_m), OCL_ARG(part_l), OCL_ARG(part_acc));
    if (status != XHAL_OK) return status;
    size_t combine_global[3] = {a->packed_q ? 1 : (size_t)d->seq_q, (size_t)d->heads_q,
                                (size_t)d->batch};
    return OCL_LAUNCH(stream, OCL_ATTN_COMBINE, d->dtype, 3, combine_global, NULL, ATTN_ARGS(a),
                      OCL_ARG(part_m), OCL_ARG(part_l), OCL_ARG(part_acc), OCL_ARG(chunks_arg));
}

xhal_status_t ocl_attention(xhal_be_stream_t *stream, const xhal_attention_desc_t *desc,
                            const xhal_be_attention_buffers_t *buffers) {
    attn_args_t args;
    make_args(&stream->device->tuning, desc, buffers, &args);
    int64_t dec_max_q = stream->device->tuning.att_dec_max_q;
    if (desc->seq_q <= dec_max_q) return decode(stream, desc, &args);
    if (args.packed_q) {
        /* Decode-sized sequences may hide among the packed rows: the decode kernels take
         * those (and skip the rest), prefill the others. */
        xhal_status_t status = decode(stream, desc, &args);
        if (status != XHAL_OK) return status;
    }
    return prefill(stream, desc, &args);
}
