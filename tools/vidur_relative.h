/* vidur_relative.h - the roofline-relative targets of tools/vidur-tables.c, shared with
   tests/test_relative.c. Include after vidur.h (with VIDUR_IMPLEMENTATION) and vidur_forest.h.

   A table may learn, instead of the time t of an operator, one of
       VR_TARGET_TIME     t
       VR_TARGET_LOG      log t                 (every t > 0)
       VR_TARGET_REL      t / t0                (every t0 > 0)
       VR_TARGET_LOG_REL  log(t / t0)           (every t > 0 and t0 > 0)
   where t0 is the ideal roofline time at the row's key (vidur_roofline_op_time_ms with all
   efficiencies 1.0, no kernel launch overhead and no calibration). A relative table (REL or
   LOG_REL) is emitted with `relative = 1`: its grid holds the forest's prediction of t / t0
   (exponentiated for LOG_REL), and vidur.h predicts value(cell) x t0(key), with its own ideal
   roofline built from the replica's model, device, node, TP and PP. A relative table may also
   carry a fixed cost o (`rel_offset_ms`): t0 is then replaced by t0 + o everywhere above (the
   targets t / (t0 + o), the prediction value x (t0(key) + o)), which keeps the ratio slowly
   varying where a kernel's time has a floor (vr_base). The roofline built here
   (vr_ideal_roofline) gives, at a table row's key, exactly the t0 that vidur.h computes for
   every replica configuration that selects the table:
     - compute operators: the model and GPU of the table, its TP (PP does not enter them);
       keys: token-wise ops k1 = tokens; kv_cache_save k1 = tokens; decode (k1 = batch size,
       k2 = kv context); prefill (k1 = kv context, k2 = chunk, not chunk^2 as the feature);
     - all_reduce (a table per node and TP): the node and TP; vidur.h's time depends only on
       the message bytes 2 x tokens x embedding, so the roofline here has an "embedding" of 1
       and a row of `size` bytes has the key k1 = size / 2 (sizes are even: vr_row_ok checks);
     - send_recv (a table per node and devices_per_node of its rows, stored as the table's tp):
       vidur.h decides multi-node as tp x pp > devices per node and picks the table of
       devices_per_node 1 (multi-node) or 2 (same node); the roofline here has tp 1 and
       pp = devices per node + 1 (multi-node) or 2 (same node), so its decision matches. */
#ifndef VIDUR_RELATIVE_H
#define VIDUR_RELATIVE_H

enum { VR_TARGET_TIME = 0, VR_TARGET_LOG = 1, VR_TARGET_REL = 2, VR_TARGET_LOG_REL = 3, VR_NTARGETS = 4 };

VF_STATIC const char *vr_target_name(int target)
{
    static const char *const names[VR_NTARGETS] = {"time", "log", "rel", "log rel"};
    return target >= 0 && target < VR_NTARGETS ? names[target] : "?";
}

/* The ideal roofline of a table: device/model for compute tables (net 0), node for network
   tables (net 1). Returns 1, or 0 when the model, GPU or node is unknown (no t0). */
VF_STATIC int vr_ideal_roofline(const vidur_config *cfg, int net, const char *device, const char *model, const char *node,
                                int tp, int op, vidur_roofline *r)
{
    memset(r, 0, sizeof *r);
    r->p.compute_efficiency = r->p.attention_efficiency = r->p.memory_efficiency = r->p.network_efficiency = 1.0;
    r->p.kernel_launch_overhead_ms = 0;
    r->pp = 1;
    r->tp = tp;
    if (!net) {
        /* an MoE table of an EP deployment is named "MODEL@epN" (vidur-tables, moe.csv) */
        char base[VIDUR_NAME_MAX];
        const char *at = strstr(model, "@ep");
        const vidur_model_spec *m;
        const vidur_device_spec *dv = vidur_find_device(cfg, device);
        snprintf(base, sizeof base, "%.*s", at ? (int)(at - model) : (int)strlen(model), model);
        m = vidur_find_model(cfg, base);
        if (!m || !dv) return 0;
        r->model = *m;
        r->device = *dv;
        r->ep = at ? atoi(at + 3) : 1;
        return 1;
    } else {
        const vidur_node_spec *nd = vidur_find_node(cfg, node);
        const vidur_device_spec *dv;
        if (!nd) return 0;
        dv = vidur_find_device(cfg, nd->device);
        r->node = *nd;
        if (dv) r->device = *dv;
        /* an "embedding" of 1: the roofline's bytes = 2 x E x tokens = 2 x k1 */
        r->model.embedding_dim = 1;
        r->model.num_q_heads = r->model.num_kv_heads = 1;
        r->model.mlp_hidden_dim = 1;
        if (op == VIDUR_OP_SEND_RECV) {
            /* devices_per_node 1: the stages are on different nodes; 2: on the same node */
            r->tp = 1;
            r->pp = tp == 1 ? nd->num_devices_per_node + 1 : 2;
        }
        return 1;
    }
}

/* whether a network row's key k1 = size / 2 reproduces its size exactly (t0 is then exact) */
VF_STATIC int vr_row_ok(int op, double x, int64_t k1)
{
    if (op != VIDUR_OP_ALL_REDUCE && op != VIDUR_OP_SEND_RECV) return 1;
    return 2.0 * (double)k1 == x;
}

/* whether `target` can be fitted on times y[0..n) with ideal times t0[0..n) */
VF_STATIC int vr_target_ok(int target, const double *y, const double *t0, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        if ((target & 1) && !(y[i] > 0)) return 0;
        if ((target & 2) && !(t0[i] > 0 && t0[i] < 1e300)) return 0;
    }
    return 1;
}

/* the fit targets of `target` */
VF_STATIC void vr_make_target(int target, const double *y, const double *t0, int n, double *out)
{
    int i;
    for (i = 0; i < n; i++) {
        double v = (target & 2) ? y[i] / t0[i] : y[i];
        out[i] = (target & 1) ? log(v) : v;
    }
}

/* the base of relative targets with a fixed cost: out[i] = t0[i] + offset_ms, the same double
   addition as vidur.h's (ideal time + rel_offset_ms) */
VF_STATIC void vr_base(const double *t0, int n, double offset_ms, double *out)
{
    int i;
    for (i = 0; i < n; i++) out[i] = t0[i] + offset_ms;
}

/* the prediction of time from the sum of a forest's trees' leaf values at a row whose ideal time is t0 */
VF_STATIC double vr_finish(double sum, int ntrees, int target, double t0)
{
    double v = vf_forest_finish(sum, ntrees, target & 1);
    return (target & 2) ? v * t0 : v;
}

/* A forest's grid as a vidur.h random-forest GRID table (values as float; `vals` receives
   them and must hold (nx + 1) x (ny + 1) floats); relative tables with their fixed cost
   offset_ms. Identity and domain are the caller's. */
VF_STATIC void vr_grid_table(const vf_grid *g, int relative, double offset_ms, float *vals, vidur_op_table *o)
{
    size_t c, cells = (size_t)(g->nx + 1) * (size_t)(g->ny + 1);
    o->predictor = VIDUR_PREDICTOR_RANDOM_FOREST;
    o->kind = VIDUR_TABLE_GRID;
    o->nx = g->nx;
    o->ny = g->ny;
    o->x = g->nx ? g->x : NULL;
    o->y = g->ny ? g->y : NULL;
    for (c = 0; c < cells; c++) vals[c] = (float)g->v[c];
    o->v = vals;
    o->nterms = 0;
    o->terms = NULL;
    o->sx = o->sy = 1;
    o->relative = relative;
    o->rel_offset_ms = relative ? offset_ms : 0;
}

#endif /* VIDUR_RELATIVE_H */
