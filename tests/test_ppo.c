/* test_ppo.c - the PPO router: finite-difference checks of every backward pass (linear,
   LayerNorm, ReLU, log-softmax with temperature, the whole MLP, each PPO loss term), exact resume
   from a checkpoint, checkpoint corruption errors, warm start, metrics files. Small networks and
   short simulations keep it to a few seconds (also under ASan). */
/* its own copy of the implementation (the other tests link build/libvidur.a):
   it calls private vidur__ functions */
#define VIDUR_IMPLEMENTATION
#include "../vidur.h"
#include "test.h"

#include <stdio.h>
#include <string.h>

static double rnd(vidur__mt *r) { return 2 * vidur__mt_random(r) - 1; }

/* |a - n| / max(|a|, |n|) with an absolute floor for gradients that are ~0 */
static int close_rel(double a, double n)
{
    double d = fabs(a - n), m = fabs(a) > fabs(n) ? fabs(a) : fabs(n);
    return d <= 1e-4 * m || d < 1e-9;
}

/* ---- linear: L = sum_o c_o y_o ---- */
static double lin_loss(const double *W, const double *b, const double *x, const double *c, int in, int out)
{
    double y[8], s = 0;
    int o;
    vidur__lin_fwd(W, b, in, out, x, y);
    for (o = 0; o < out; o++) s += c[o] * y[o];
    return s;
}

TEST(test_grad_linear)
{
    enum { IN = 5, OUT = 3 };
    vidur__mt r;
    double W[IN * OUT], b[OUT], x[IN], c[OUT], dW[IN * OUT] = {0}, db[OUT] = {0}, dx[IN];
    int i, bad = 0;
    vidur__mt_seed_python(&r, 1);
    for (i = 0; i < IN * OUT; i++) W[i] = rnd(&r);
    for (i = 0; i < OUT; i++) { b[i] = rnd(&r); c[i] = rnd(&r); }
    for (i = 0; i < IN; i++) x[i] = rnd(&r);
    vidur__lin_bwd(W, IN, OUT, x, c, dW, db, dx);
    for (i = 0; i < IN * OUT; i++) {
        double s = W[i], lp, lm;
        W[i] = s + 1e-6; lp = lin_loss(W, b, x, c, IN, OUT);
        W[i] = s - 1e-6; lm = lin_loss(W, b, x, c, IN, OUT);
        W[i] = s;
        bad += !close_rel(dW[i], (lp - lm) / 2e-6);
    }
    for (i = 0; i < IN; i++) {
        double s = x[i], lp, lm;
        x[i] = s + 1e-6; lp = lin_loss(W, b, x, c, IN, OUT);
        x[i] = s - 1e-6; lm = lin_loss(W, b, x, c, IN, OUT);
        x[i] = s;
        bad += !close_rel(dx[i], (lp - lm) / 2e-6);
    }
    for (i = 0; i < OUT; i++) CHECK(close_rel(db[i], c[i]));
    CHECK_EQ_INT(bad, 0);
}

/* ---- LayerNorm: L = sum_i c_i y_i ---- */
static double ln_loss(const double *g, const double *be, const double *x, const double *c, int n)
{
    double xh[8], y[8], rs, s = 0;
    int i;
    vidur__ln_fwd(g, be, n, x, xh, &rs, y);
    for (i = 0; i < n; i++) s += c[i] * y[i];
    return s;
}

TEST(test_grad_layernorm)
{
    enum { N = 6 };
    vidur__mt r;
    double g[N], be[N], x[N], c[N], xh[N], y[N], rs, dg[N] = {0}, dbe[N] = {0}, dx[N];
    int i, bad = 0;
    vidur__mt_seed_python(&r, 2);
    for (i = 0; i < N; i++) { g[i] = 1 + 0.5 * rnd(&r); be[i] = rnd(&r); x[i] = 3 * rnd(&r); c[i] = rnd(&r); }
    vidur__ln_fwd(g, be, N, x, xh, &rs, y);
    vidur__ln_bwd(g, N, xh, rs, c, dg, dbe, dx);
    for (i = 0; i < N; i++) {
        double s, lp, lm;
        s = x[i]; x[i] = s + 1e-6; lp = ln_loss(g, be, x, c, N); x[i] = s - 1e-6; lm = ln_loss(g, be, x, c, N); x[i] = s;
        bad += !close_rel(dx[i], (lp - lm) / 2e-6);
        s = g[i]; g[i] = s + 1e-6; lp = ln_loss(g, be, x, c, N); g[i] = s - 1e-6; lm = ln_loss(g, be, x, c, N); g[i] = s;
        bad += !close_rel(dg[i], (lp - lm) / 2e-6);
        bad += !close_rel(dbe[i], c[i]);
    }
    CHECK_EQ_INT(bad, 0);
    /* the output is normalised: mean 0, variance 1 before the affine part */
    {
        double m = 0, v = 0;
        for (i = 0; i < N; i++) m += xh[i];
        for (i = 0; i < N; i++) v += xh[i] * xh[i];
        CHECK_NEAR(m / N, 0, 1e-12);
        CHECK_NEAR(v / N, 1, 1e-4);
    }
}

TEST(test_grad_relu)
{
    double x[4] = {-1.5, 0.3, 2.0, -0.1}, dy[4] = {0.7, -0.2, 1.1, 5}, dx[4], y[4];
    int i;
    vidur__relu_fwd(4, x, y);
    vidur__relu_bwd(4, x, dy, dx);
    for (i = 0; i < 4; i++) {
        double yp[4], ym[4], xp[4], xm[4];
        memcpy(xp, x, sizeof x); memcpy(xm, x, sizeof x);
        xp[i] += 1e-6; xm[i] -= 1e-6;
        vidur__relu_fwd(4, xp, yp); vidur__relu_fwd(4, xm, ym);
        CHECK(close_rel(dx[i], dy[i] * (yp[i] - ym[i]) / 2e-6));
    }
    CHECK_NEAR(y[0], 0, 0);
    CHECK_NEAR(y[2], 2.0, 0);
}

/* log softmax(z/T): d lp_a / dz_j = (onehot_a - softmax(z/T))_j / T, the formula the PPO loss uses */
TEST(test_grad_softmax_temperature)
{
    double z[4] = {0.3, -1.2, 2.0, 0.5}, lp[4], T = 1.7;
    int a, j, bad = 0;
    vidur__log_softmax_t(z, 4, T, lp);
    CHECK_NEAR(exp(lp[0]) + exp(lp[1]) + exp(lp[2]) + exp(lp[3]), 1, 1e-12);
    for (a = 0; a < 4; a++)
        for (j = 0; j < 4; j++) {
            double zp[4], zm[4], lpp[4], lpm[4], ana = ((a == j) - exp(lp[j])) / T;
            memcpy(zp, z, sizeof z); memcpy(zm, z, sizeof z);
            zp[j] += 1e-6; zm[j] -= 1e-6;
            vidur__log_softmax_t(zp, 4, T, lpp);
            vidur__log_softmax_t(zm, 4, T, lpm);
            bad += !close_rel(ana, (lpp[a] - lpm[a]) / 2e-6);
        }
    CHECK_EQ_INT(bad, 0);
}

/* the whole MLP (linear -> LN -> ReLU -> linear -> LN -> ReLU -> linear): every parameter */
static double mlp_loss(const double *p, const double *x, const double *c, int in, int h, int out)
{
    double cache[VIDUR__MLP_CACHE(6)], y[3], s = 0;
    int o;
    vidur__mlp_fwd(p, in, h, out, x, cache, y);
    for (o = 0; o < out; o++) s += c[o] * y[o];
    return s;
}

TEST(test_grad_mlp)
{
    enum { IN = 5, H = 6, OUT = 3 };
    vidur__mt r;
    double p[200], g[200] = {0}, x[IN], c[OUT], cache[VIDUR__MLP_CACHE(H)], y[OUT], scratch[2 * H];
    int64_t n = vidur__mlp_size(IN, H, OUT), i;
    int bad = 0;
    REQUIRE(n <= 200);
    CHECK_EQ_INT(n, H * IN + 4 * H + H * H + 4 * H + OUT * H + OUT);
    vidur__mt_seed_python(&r, 3);
    vidur__mlp_init(p, IN, H, OUT, 1.0, &r);
    for (i = 0; i < n; i++) p[i] += 0.1 * rnd(&r); /* LN gains and biases off their initial values */
    for (i = 0; i < IN; i++) x[i] = rnd(&r);
    for (i = 0; i < OUT; i++) c[i] = rnd(&r);
    vidur__mlp_fwd(p, IN, H, OUT, x, cache, y);
    vidur__mlp_bwd(p, IN, H, OUT, x, cache, c, g, scratch);
    for (i = 0; i < n; i++) {
        double s = p[i], lp, lm;
        p[i] = s + 1e-6; lp = mlp_loss(p, x, c, IN, H, OUT);
        p[i] = s - 1e-6; lm = mlp_loss(p, x, c, IN, H, OUT);
        p[i] = s;
        bad += !close_rel(g[i], (lp - lm) / 2e-6);
    }
    CHECK_EQ_INT(bad, 0);
}

/* orthogonal init: rows orthonormal x gain */
TEST(test_orthogonal_init)
{
    double W[4 * 7];
    vidur__mt r;
    int i, j, k;
    vidur__mt_seed_python(&r, 4);
    vidur__orthogonal(W, 4, 7, 2.0, &r);
    for (i = 0; i < 4; i++)
        for (j = 0; j < 4; j++) {
            double d = 0;
            for (k = 0; k < 7; k++) d += W[i * 7 + k] * W[j * 7 + k];
            CHECK_NEAR(d, i == j ? 4.0 : 0.0, 1e-9);
        }
}

/* ---- PPO loss terms, one at a time, against finite differences in z and v ---- */
enum { PB = 4, PA = 3 };
static double g_z[PB * PA], g_zr[PB * PA], g_v[PB], g_T[PB], g_lpo[PB], g_adv[PB], g_ret[PB], g_vo[PB];
static int g_a[PB];

static double ppo_total(const vidur__ppo_coef *c, int use_ref)
{
    double dz[PB * PA], dv[PB], work[4 * PB + 3 * PA];
    return vidur__ppo_loss(PB, PA, g_z, use_ref ? g_zr : NULL, g_v, g_a, g_T, g_lpo, g_adv, g_ret, g_vo, c, dz, dv, NULL, work);
}

static int check_ppo_term(const vidur__ppo_coef *c, int use_ref)
{
    double dz[PB * PA], dv[PB], work[4 * PB + 3 * PA];
    int i, bad = 0;
    vidur__ppo_loss(PB, PA, g_z, use_ref ? g_zr : NULL, g_v, g_a, g_T, g_lpo, g_adv, g_ret, g_vo, c, dz, dv, NULL, work);
    for (i = 0; i < PB * PA; i++) {
        double s = g_z[i], lp, lm;
        g_z[i] = s + 1e-6; lp = ppo_total(c, use_ref);
        g_z[i] = s - 1e-6; lm = ppo_total(c, use_ref);
        g_z[i] = s;
        if (!close_rel(dz[i], (lp - lm) / 2e-6)) { bad++; printf("  dz[%d] %.10g vs %.10g\n", i, dz[i], (lp - lm) / 2e-6); }
    }
    for (i = 0; i < PB; i++) {
        double s = g_v[i], lp, lm;
        g_v[i] = s + 1e-6; lp = ppo_total(c, use_ref);
        g_v[i] = s - 1e-6; lm = ppo_total(c, use_ref);
        g_v[i] = s;
        if (!close_rel(dv[i], (lp - lm) / 2e-6)) { bad++; printf("  dv[%d] %.10g vs %.10g\n", i, dv[i], (lp - lm) / 2e-6); }
    }
    return bad;
}

TEST(test_grad_ppo_loss_terms)
{
    vidur__ppo_coef c;
    vidur__ppo_stats st;
    double dz[PB * PA], dv[PB], work[4 * PB + 3 * PA];
    int i;
    vidur__mt r;
    vidur__mt_seed_python(&r, 5);
    for (i = 0; i < PB * PA; i++) { g_z[i] = rnd(&r); g_zr[i] = rnd(&r); }
    for (i = 0; i < PB; i++) {
        double lp[PA];
        g_a[i] = i % PA;
        g_T[i] = 1.1 + 0.4 * i;
        vidur__log_softmax_t(g_z + i * PA, PA, g_T[i], lp);
        /* ratios 0.7, 0.95, 1.05, 1.3: two inside the clip range, one clipped each side */
        g_lpo[i] = lp[g_a[i]] - log(i == 0 ? 0.7 : i == 1 ? 0.95 : i == 2 ? 1.05 : 1.3);
        g_adv[i] = i % 2 ? 0.8 : -1.1;
        g_v[i] = 0.3 * i - 0.2;
        g_vo[i] = g_v[i] + (i % 2 ? 0.05 : -0.4); /* value inside / outside the value clip */
        g_ret[i] = rnd(&r);
    }
    memset(&c, 0, sizeof c);
    c.clip = 0.15;
    /* policy (clipped surrogate, through log softmax(z/T_i)) */
    CHECK_EQ_INT(check_ppo_term(&c, 0), 0);
    /* CHAIN on the policy loss */
    c.chain = 1;
    CHECK_EQ_INT(check_ppo_term(&c, 0), 0);
    c.chain = 0;
    /* value loss with value clipping */
    c.value_coef = 0.5;
    CHECK_EQ_INT(check_ppo_term(&c, 0), 0);
    c.value_coef = 0;
    /* KL to the old policy (positive mean here, so the max(0, .) is active) */
    c.kl_coef = 0.2;
    vidur__ppo_loss(PB, PA, g_z, NULL, g_v, g_a, g_T, g_lpo, g_adv, g_ret, g_vo, &c, dz, dv, &st, work);
    CHECK(st.approx_kl != 0);
    CHECK_EQ_INT(check_ppo_term(&c, 0), 0);
    c.kl_coef = 0;
    /* entropy bonus on the untempered policy */
    c.c_ent = 0.01;
    CHECK_EQ_INT(check_ppo_term(&c, 0), 0);
    c.c_ent = 0;
    /* exact categorical KL to the reference */
    c.c_ref = 0.3;
    CHECK_EQ_INT(check_ppo_term(&c, 1), 0);
    /* everything together */
    c.value_coef = 0.5; c.kl_coef = 0.2; c.c_ent = 0.005; c.chain = 1;
    CHECK_EQ_INT(check_ppo_term(&c, 1), 0);
    vidur__ppo_loss(PB, PA, g_z, g_zr, g_v, g_a, g_T, g_lpo, g_adv, g_ret, g_vo, &c, dz, dv, &st, work);
    CHECK_NEAR(st.clipfrac, 0.5, 0); /* ratios 0.7 and 1.3 are outside 1 +- 0.15 */
    CHECK(st.entropy > 0 && st.entropy < log(3.0) + 1e-12);
    CHECK(st.kl_ref > 0);
}

/* ---- simulations ---- */
static void small_config(vidur_config *c, const char *poisson_seed)
{
    vidur_config_init(c);
    SET(c, "cluster_config_num_replicas", "2");
    SET(c, "global_scheduler_config_type", "ppo");
    SET(c, "synthetic_request_generator_config_num_requests", "160");
    SET(c, "length_generator_config_type", "fixed");
    SET(c, "fixed_request_length_generator_config_prefill_tokens", "256");
    SET(c, "fixed_request_length_generator_config_decode_tokens", "16");
    SET(c, "poisson_request_interval_generator_config_qps", "8");
    SET(c, "poisson_request_interval_generator_config_seed", poisson_seed);
    SET(c, "metrics_config_write_metrics", "false");
    SET(c, "ppo_global_scheduler_config_hidden_size", "8");
    SET(c, "ppo_global_scheduler_config_rollout_len", "16");
    SET(c, "ppo_global_scheduler_config_minibatch_size", "8");
    SET(c, "ppo_global_scheduler_config_epochs", "2");
    SET(c, "ppo_global_scheduler_config_stabilization_steps", "10");
    SET(c, "ppo_global_scheduler_config_reward_mode", "attributed");
    SET(c, "ppo_global_scheduler_config_attribution_max_lag", "8");
    SET(c, "ppo_global_scheduler_config_extended_features", "true");
}

/* runs one simulation of cfg with learner p */
static int run_with(vidur_config cfg, vidur_ppo *p)
{
    vidur_error err;
    vidur_sim *sim = NULL;
    vidur_global_scheduler_api api = vidur_ppo_scheduler_api(p);
    int ok = vidur_config_add_global_scheduler(&cfg, &api, &err) == VIDUR_OK && vidur_sim_create(&cfg, &sim, &err) == VIDUR_OK &&
             vidur_sim_run(sim) == VIDUR_OK;
    if (!ok) printf("  run: %s\n", sim ? vidur_sim_error(sim)->message : err.message);
    vidur_sim_destroy(sim);
    return ok;
}

static long file_bytes(const char *path, char *buf, long cap)
{
    FILE *f = fopen(path, "rb");
    long n;
    if (!f) return -1;
    n = (long)fread(buf, 1, (size_t)cap, f);
    fclose(f);
    return n;
}

static char g_buf1[1 << 20], g_buf2[1 << 20];

/* sim 1 then sim 2 on one learner == sim 1, checkpoint, new process-like learner, sim 2 */
TEST(test_resume_bit_identical)
{
    vidur_config c1, c2, c3;
    vidur_error err;
    vidur_ppo *a = NULL, *b = NULL;
    vidur_ppo_info ia, ib;
    long n1, n2;
    const char *ck = "/tmp/vidur_test_ppo_mid.bin", *fa = "/tmp/vidur_test_ppo_a.bin", *fb = "/tmp/vidur_test_ppo_b.bin";
    small_config(&c1, "11");
    small_config(&c2, "12");
    REQUIRE(vidur_ppo_create(&c1, &a, &err) == VIDUR_OK);
    REQUIRE(run_with(c1, a));
    REQUIRE(run_with(c2, a));
    REQUIRE(vidur_ppo_create(&c1, &b, &err) == VIDUR_OK);
    REQUIRE(run_with(c1, b));
    REQUIRE(vidur_ppo_save(b, ck, &err) == VIDUR_OK);
    vidur_ppo_destroy(b);
    b = NULL;
    c3 = c2;
    snprintf(c3.ppo.load_checkpoint, sizeof c3.ppo.load_checkpoint, "%s", ck);
    REQUIRE(vidur_ppo_create(&c3, &b, &err) == VIDUR_OK);
    REQUIRE(run_with(c2, b));
    vidur_ppo_get_info(a, &ia);
    vidur_ppo_get_info(b, &ib);
    CHECK_EQ_INT(ia.decisions, 320);
    CHECK_EQ_INT(ib.decisions, 320);
    CHECK(ia.updates >= 15);
    CHECK_EQ_INT(ia.updates, ib.updates);
    CHECK_EQ_INT(ia.minibatch_steps, ib.minibatch_steps);
    REQUIRE(vidur_ppo_save(a, fa, &err) == VIDUR_OK);
    REQUIRE(vidur_ppo_save(b, fb, &err) == VIDUR_OK);
    n1 = file_bytes(fa, g_buf1, sizeof g_buf1);
    n2 = file_bytes(fb, g_buf2, sizeof g_buf2);
    CHECK(n1 > 1000);
    CHECK_EQ_INT(n1, n2);
    CHECK(n1 == n2 && memcmp(g_buf1, g_buf2, (size_t)n1) == 0); /* every weight, moment, counter and RNG word */
    /* and the weights did move away from the checkpoint taken after sim 1 */
    n2 = file_bytes(ck, g_buf2, sizeof g_buf2);
    CHECK(n1 == n2 && memcmp(g_buf1, g_buf2, (size_t)n1) != 0);
    vidur_ppo_destroy(a);
    vidur_ppo_destroy(b);
    remove(fa);
    remove(fb);
    remove(ck);
}

static int load_error(const char *path, int replicas, char *msg, size_t cap)
{
    vidur_config c;
    vidur_error err;
    vidur_ppo *p = NULL;
    vidur_result r;
    small_config(&c, "11");
    c.num_replicas = replicas;
    snprintf(c.ppo.load_checkpoint, sizeof c.ppo.load_checkpoint, "%s", path);
    r = vidur_ppo_create(&c, &p, &err);
    vidur_ppo_destroy(p);
    snprintf(msg, cap, "%s", r ? err.message : "");
    return r != VIDUR_OK && p == NULL;
}

TEST(test_checkpoint_errors)
{
    vidur_config c;
    vidur_error err;
    vidur_ppo *p = NULL;
    vidur_sim *sim = NULL;
    char msg[512];
    const char *ck = "/tmp/vidur_test_ppo_ck.bin", *bad = "/tmp/vidur_test_ppo_bad.bin";
    long n;
    FILE *f;
    small_config(&c, "11");
    REQUIRE(vidur_ppo_create(&c, &p, &err) == VIDUR_OK);
    REQUIRE(vidur_ppo_save(p, ck, &err) == VIDUR_OK);
    /* an unwritable place: an error naming it, and nothing left behind */
    CHECK_EQ_INT(vidur_ppo_save(p, "/tmp/vidur_no_such_dir/ck.bin", &err), VIDUR_ERR_IO);
    CHECK_CONTAINS(err.message, "/tmp/vidur_no_such_dir/ck.bin");
    CHECK(fopen("/tmp/vidur_no_such_dir/ck.bin.tmp", "rb") == NULL);
    vidur_ppo_destroy(p);
    n = file_bytes(ck, g_buf1, sizeof g_buf1);
    REQUIRE(n > 100);
    /* intact: loads */
    CHECK(!load_error(ck, 2, msg, sizeof msg));
    /* one flipped bit in the weights */
    g_buf1[n / 2] ^= 0x10;
    f = fopen(bad, "wb"); fwrite(g_buf1, 1, (size_t)n, f); fclose(f);
    CHECK(load_error(bad, 2, msg, sizeof msg));
    CHECK_CONTAINS(msg, "checksum mismatch");
    CHECK_CONTAINS(msg, bad);
    g_buf1[n / 2] ^= 0x10;
    /* truncated */
    f = fopen(bad, "wb"); fwrite(g_buf1, 1, (size_t)n - 100, f); fclose(f);
    CHECK(load_error(bad, 2, msg, sizeof msg));
    CHECK_CONTAINS(msg, "truncated");
    /* trailing garbage */
    f = fopen(bad, "wb"); fwrite(g_buf1, 1, (size_t)n, f); fputc('x', f); fclose(f);
    CHECK(load_error(bad, 2, msg, sizeof msg));
    CHECK_CONTAINS(msg, "checksum mismatch");
    /* not a checkpoint */
    f = fopen(bad, "wb"); fputs("hello", f); fclose(f);
    CHECK(load_error(bad, 2, msg, sizeof msg));
    CHECK_CONTAINS(msg, "not a vidur PPO checkpoint");
    /* another version */
    g_buf1[8] = 99;
    f = fopen(bad, "wb"); fwrite(g_buf1, 1, (size_t)n, f); fclose(f);
    CHECK(load_error(bad, 2, msg, sizeof msg));
    CHECK_CONTAINS(msg, "format version 99");
    /* incompatible with the configuration (3 replicas) */
    CHECK(load_error(ck, 3, msg, sizeof msg));
    CHECK_CONTAINS(msg, "incompatible");
    /* missing */
    CHECK(load_error("/nonexistent/x.bin", 2, msg, sizeof msg));
    CHECK_CONTAINS(msg, "cannot open");
    /* through vidur_sim_create: the run does not start and the message is the loader's */
    small_config(&c, "11");
    snprintf(c.ppo.load_checkpoint, sizeof c.ppo.load_checkpoint, "%s", bad);
    CHECK(vidur_sim_create(&c, &sim, &err) != VIDUR_OK);
    CHECK(sim == NULL);
    CHECK_CONTAINS(err.message, "format version 99");
    /* eval without a checkpoint */
    small_config(&c, "11");
    SET(&c, "ppo_global_scheduler_config_mode", "eval");
    CHECK(vidur_ppo_create(&c, &p, &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "needs load_checkpoint");
    remove(ck);
    remove(bad);
}

/* writes buf with its checksum recomputed: what a hand-made or foreign file can carry */
static void write_with_checksum(const char *path, char *buf, long n)
{
    uint64_t h = vidur__fnv64(14695981039346656037ull, buf, (size_t)(n - 8));
    FILE *f = fopen(path, "wb");
    memcpy(buf + n - 8, &h, 8);
    if (f) {
        fwrite(buf, 1, (size_t)n, f);
        fclose(f);
    }
}

/* a valid checksum over hostile values: each is refused at load with the field named (before,
   ck_n = 9 overwrote the heap when the run saved, mti = -1 read before the RNG state, NaN
   weights routed silently) */
TEST(test_checkpoint_hostile_values)
{
    vidur_config c;
    vidur_error err;
    vidur_ppo *p = NULL;
    char msg[512], orig[4096];
    const char *ck = "/tmp/vidur_test_ppo_hostile_ck.bin", *bad = "/tmp/vidur_test_ppo_hostile.bin";
    long n, E;
    int k;
    /* offsets from the end of the state (E: where the checksum starts), in vidur__ppo_visit's order */
    struct { long off; int size; double d; long long i; const char *field; } cases[] = {
        {-2552, 8, 0, 9, "checkpoint history"},            /* ck_n */
        {-2552, 8, 0, -1, "checkpoint history"},           /* ck_n */
        {-2552, 8, 0, 1LL << 40, "checkpoint history"},    /* ck_n */
        {-2544, 8, 0, 1LL << 40, "checkpoint history"},    /* last_save after step */
        {-16, 4, 0, -1, "random-number state"},            /* rng.mti */
        {-16, 4, 0, 100000, "random-number state"},        /* rng.mti */
        {-12, 4, 0, 7, "random-number state"},             /* has_gauss */
        {-2520, 0, 1e300, 0, "warm-start statistics"},     /* demo_samples */
        {-2520, 0, NAN, 0, "warm-start statistics"},       /* demo_samples */
        {-2536, 0, 2.0, 0, "warm-start statistics"},       /* bc_train_acc */
        {-8, 0, INFINITY, 0, "random-number state"},       /* gauss */
    };
    small_config(&c, "11");
    REQUIRE(vidur_ppo_create(&c, &p, &err) == VIDUR_OK);
    REQUIRE(vidur_ppo_save(p, ck, &err) == VIDUR_OK);
    vidur_ppo_destroy(p);
    n = file_bytes(ck, g_buf1, sizeof g_buf1);
    REQUIRE(n > 3000);
    E = n - 8;
    memcpy(orig, g_buf1 + E - 2700, 2700);
    /* the checksum fix-up alone changes nothing: the file loads */
    write_with_checksum(bad, g_buf1, n);
    CHECK(!load_error(bad, 2, msg, sizeof msg));
    for (k = 0; k < (int)(sizeof cases / sizeof cases[0]); k++) {
        char *at = g_buf1 + E + cases[k].off;
        if (cases[k].size == 8) { int64_t v = cases[k].i; memcpy(at, &v, 8); }
        else if (cases[k].size == 4) { int32_t v = (int32_t)cases[k].i; memcpy(at, &v, 4); }
        else memcpy(at, &cases[k].d, 8);
        write_with_checksum(bad, g_buf1, n);
        CHECK(load_error(bad, 2, msg, sizeof msg));
        CHECK_CONTAINS(msg, cases[k].field);
        CHECK_CONTAINS(msg, bad);
        memcpy(g_buf1 + E - 2700, orig, 2700);
    }
    /* a NaN weight (the first actor weight follows the 56-byte header), a negative Adam second moment */
    {
        double v = NAN;
        char keep[8];
        memcpy(keep, g_buf1 + 56, 8);
        memcpy(g_buf1 + 56, &v, 8);
        write_with_checksum(bad, g_buf1, n);
        CHECK(load_error(bad, 2, msg, sizeof msg));
        CHECK_CONTAINS(msg, "actor weights");
        memcpy(g_buf1 + 56, keep, 8);
    }
    remove(ck);
    remove(bad);
}

/* warm start: demonstrations from round_robin, lor, random (+ RR at 2x and 0.5x QPS), behaviour
   cloning, the clone as the reference; then PPO trains from it, and the built-in "ppo" type writes
   its CSVs and checkpoints at vidur_ppo_finish */
TEST(test_warm_start_and_outputs)
{
    vidur_config c;
    vidur_error err;
    vidur_ppo *p = NULL;
    vidur_sim *sim = NULL;
    vidur_ppo_info info;
    char line[256];
    int rows = 0;
    FILE *f;
    small_config(&c, "11");
    SET(&c, "ppo_global_scheduler_config_warm_start", "true");
    SET(&c, "ppo_global_scheduler_config_demo_requests", "60");
    SET(&c, "ppo_global_scheduler_config_bc_epochs", "5");
    SET(&c, "ppo_global_scheduler_config_bc_batch_size", "32");
    SET(&c, "ppo_global_scheduler_config_metrics_dir", "/tmp");
    SET(&c, "ppo_global_scheduler_config_checkpoint_dir", "/tmp");
    remove("/tmp/ppo_decisions.csv");
    REQUIRE(vidur_sim_create(&c, &sim, &err) == VIDUR_OK);
    REQUIRE(vidur_sim_run(sim) == VIDUR_OK);
    p = vidur_sim_ppo(sim);
    REQUIRE(p != NULL);
    vidur_ppo_get_info(p, &info);
    CHECK_EQ_INT(info.demo_samples, 3 * 60 + 2 * 30);
    CHECK_EQ_INT(info.has_reference, 1);
    CHECK(info.bc_train_accuracy > 0.5); /* better than chance on 2 replicas */
    CHECK(info.updates > 0);
    f = fopen("/tmp/ppo_decisions.csv", "r");
    CHECK(f == NULL); /* nothing before finish */
    if (f) fclose(f);
    REQUIRE(vidur_ppo_finish(p, &err) == VIDUR_OK);
    vidur_sim_destroy(sim);
    f = fopen("/tmp/ppo_decisions.csv", "r");
    REQUIRE(f != NULL);
    while (fgets(line, sizeof line, f)) rows++;
    fclose(f);
    CHECK_EQ_INT(rows, 1 + 160);
    f = fopen("/tmp/latest.bin", "rb");
    CHECK(f != NULL);
    if (f) fclose(f);
    remove("/tmp/ppo_decisions.csv");
    remove("/tmp/ppo_updates.csv");
    remove("/tmp/latest.bin");
    snprintf(line, sizeof line, "/tmp/ckpt_%010lld.bin", (long long)info.decisions);
    CHECK(remove(line) == 0);
}

/* inference only: greedy routing is deterministic and the diagnostics are filled in */
TEST(test_eval_greedy)
{
    vidur_config c;
    vidur_error err;
    vidur_ppo *p = NULL;
    vidur_ppo_info info;
    small_config(&c, "11");
    REQUIRE(vidur_ppo_create(&c, &p, &err) == VIDUR_OK);
    REQUIRE(run_with(c, p));
    vidur_ppo_set_training(p, 0);
    p->P.inference[0] = 'g';
    REQUIRE(run_with(c, p));
    vidur_ppo_get_info(p, &info);
    CHECK_EQ_INT(info.sim_decisions, 160);
    CHECK(info.policy_entropy > 0 && info.policy_entropy <= log(2.0) + 1e-12);
    CHECK(info.frac_least_outstanding > 0 && info.frac_least_outstanding <= 1);
    vidur_ppo_destroy(p);
}

int main(void)
{
    RUN_TEST(test_grad_linear);
    RUN_TEST(test_grad_layernorm);
    RUN_TEST(test_grad_relu);
    RUN_TEST(test_grad_softmax_temperature);
    RUN_TEST(test_grad_mlp);
    RUN_TEST(test_orthogonal_init);
    RUN_TEST(test_grad_ppo_loss_terms);
    RUN_TEST(test_resume_bit_identical);
    RUN_TEST(test_checkpoint_errors);
    RUN_TEST(test_checkpoint_hostile_values);
    RUN_TEST(test_warm_start_and_outputs);
    RUN_TEST(test_eval_greedy);
    return test_finish();
}
