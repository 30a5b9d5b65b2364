/* test.h - a tiny test framework for the vidur.h test suite.

   Usage (the Makefile links build/libvidur.a, the implementation compiled once; a test that
   calls private vidur__ functions or needs its own allocation hooks defines
   VIDUR_IMPLEMENTATION before including vidur.h instead, and the Makefile then links only
   the tables):
       #include "vidur.h"
       #include "test.h"

       TEST(test_something) { CHECK(1 + 1 == 2); CHECK_EQ_INT(2 * 3, 6); }

       int main(void) {
           RUN_TEST(test_something);
           return test_finish();
       }

   Every CHECK counts as one pass or one failure. A failure prints
       FAIL file:line expr (values) [test name]
   and the test goes on (checks are not fatal; use REQUIRE to stop the current test).
   test_finish() prints "N passed, N failed" as the binary's last line and returns the exit
   code (1 if anything failed). tests/run.sh sums those lines over all binaries. */
#ifndef VIDUR_TEST_H
#define VIDUR_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define TEST_UNUSED_ __attribute__((unused))
#else
#define TEST_UNUSED_
#endif

static int test_passed_;
static int test_failed_;
static const char *test_name_ = "";

TEST_UNUSED_ static int test_report_(int ok, const char *file, int line, const char *expr, const char *values)
{
    if (ok) {
        test_passed_++;
    } else {
        test_failed_++;
        printf("FAIL %s:%d %s (%s) [%s]\n", file, line, expr, values, test_name_);
        fflush(stdout);
    }
    return ok;
}

TEST_UNUSED_ static int test_eq_int_(long long a, long long b, const char *file, int line, const char *expr)
{
    char v[128];
    snprintf(v, sizeof v, "%lld vs %lld", a, b);
    return test_report_(a == b, file, line, expr, v);
}

TEST_UNUSED_ static int test_near_(double a, double b, double tol, const char *file, int line, const char *expr)
{
    char v[160];
    snprintf(v, sizeof v, "%.17g vs %.17g, tol %g", a, b, tol);
    /* written so that NaN fails */
    return test_report_(fabs(a - b) <= tol, file, line, expr, v);
}

TEST_UNUSED_ static int test_str_eq_(const char *a, const char *b, const char *file, int line, const char *expr)
{
    char v[600];
    int ok = a && b && strcmp(a, b) == 0;
    snprintf(v, sizeof v, "\"%.280s\" vs \"%.280s\"", a ? a : "(null)", b ? b : "(null)");
    return test_report_(ok, file, line, expr, v);
}

TEST_UNUSED_ static int test_contains_(const char *hay, const char *needle, const char *file, int line, const char *expr)
{
    char v[700];
    int ok = hay && needle && strstr(hay, needle) != NULL;
    snprintf(v, sizeof v, "\"%.520s\" does not contain \"%.120s\"", hay ? hay : "(null)",
             needle ? needle : "(null)");
    return test_report_(ok, file, line, expr, ok ? "" : v);
}

#define CHECK(cond) test_report_((cond) ? 1 : 0, __FILE__, __LINE__, #cond, "false")
#define CHECK_EQ_INT(a, b) test_eq_int_((long long)(a), (long long)(b), __FILE__, __LINE__, #a " == " #b)
#define CHECK_NEAR(a, b, tol) test_near_((double)(a), (double)(b), (double)(tol), __FILE__, __LINE__, \
                                         "|" #a " - " #b "| <= " #tol)
#define CHECK_STR_EQ(a, b) test_str_eq_((a), (b), __FILE__, __LINE__, #a " == " #b)
#define CHECK_CONTAINS(hay, needle) test_contains_((hay), (needle), __FILE__, __LINE__, #hay " contains " #needle)
/* stops the current test function (which must return void) when cond is false */
#define REQUIRE(cond) do { if (!CHECK(cond)) return; } while (0)

#define TEST(name) static void name(void)
#define RUN_TEST(name) do { test_name_ = #name; name(); test_name_ = ""; } while (0)

TEST_UNUSED_ static int test_finish(void)
{
    printf("%d passed, %d failed\n", test_passed_, test_failed_);
    fflush(stdout);
    return test_failed_ ? 1 : 0;
}

/* Reads the whole content of a FILE* written by the library (e.g. via tmpfile()) into a
   malloc'd, NUL-terminated string. */
TEST_UNUSED_ static char *test_slurp_(FILE *f)
{
    long n;
    char *s;
    if (!f || fflush(f) != 0 || fseek(f, 0, SEEK_END) != 0) return NULL;
    n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) return NULL;
    s = (char *)malloc((size_t)n + 1);
    if (!s) return NULL;
    if (fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); return NULL; }
    s[n] = '\0';
    return s;
}

/* The whole file dir/name (name NULL: the file dir) as a malloc'd string, or NULL. */
TEST_UNUSED_ static char *test_slurp_file_(const char *dir, const char *name)
{
    char p[1024];
    FILE *f;
    char *s;
    if (name) snprintf(p, sizeof p, "%s/%s", dir, name);
    else snprintf(p, sizeof p, "%s", dir);
    f = fopen(p, "rb");
    if (!f) return NULL;
    s = test_slurp_(f);
    fclose(f);
    return s;
}

/* Writes a multi-turn conversation trace (what the prefix-caching tests replay): `sessions`
   sessions x `turns` turns, one request every `gap` seconds, turn by turn. Turn t's prompt is
   3 + 2t full 16-token blocks plus 7 tokens, and its hash list (one id per prompt block, plus one)
   extends the previous turn's, so a session's turns share their prefix; sessions s with
   s % 3 == 0 also share ids with each other. Returns 1 when written. */
TEST_UNUSED_ static int test_write_conv_trace_(const char *path, int sessions, int turns, double gap)
{
    FILE *f = fopen(path, "w");
    int i, b;
    if (!f) return 0;
    fputs("arrived_at,num_prefill_tokens,num_decode_tokens,session_id,block_hash_ids\n", f);
    for (i = 0; i < sessions * turns; i++) {
        int s = i % sessions, blocks = 3 + 2 * (i / sessions);
        fprintf(f, "%.3f,%d,%d,%d,\"[", gap * i, blocks * 16 + 7, 10 + (i * 7) % 40, s);
        for (b = 0; b < blocks + 1; b++) fprintf(f, "%s%d", b ? ", " : "", s % 3 == 0 ? b : 1000 * s + b);
        fputs("]\"\n", f);
    }
    return fclose(f) == 0;
}

#ifdef VIDUR_H
/* SET(cfg, key, value): vidur_config_set that counts a failure, with the library's message, at
   the caller's line (a mistyped key must fail the test, not leave a default in place); returns
   1 when the value was taken. */
#define SET(cfg, key, value) test_set_((cfg), (key), (value), __FILE__, __LINE__)
TEST_UNUSED_ static int test_set_(vidur_config *cfg, const char *key, const char *value, const char *file, int line)
{
    vidur_error err;
    char what[700];
    memset(&err, 0, sizeof err);
    if (vidur_config_set(cfg, key, value, &err) == VIDUR_OK) return 1;
    snprintf(what, sizeof what, "vidur_config_set(%s, %s): %s", key, value, err.message);
    return test_report_(0, file, line, what, "config");
}

/* The ideal roofline of a model on a GPU and node at TP tp (PP 1): every efficiency 1, no launch
   overhead, no calibration, so each operator's time is max(FLOPs / peak, bytes / bandwidth), the
   form the tests' hand computations take. */
TEST_UNUSED_ static vidur_roofline test_ideal_roofline_(const vidur_model_spec *m, const char *device, const char *node, int tp)
{
    vidur_roofline r;
    vidur_config c;
    vidur_config_init(&c);
    memset(&r, 0, sizeof r);
    r.model = *m;
    r.device = *vidur_find_device(NULL, device);
    r.node = *vidur_find_node(NULL, node);
    r.tp = tp;
    r.pp = 1;
    r.p = c.roofline;
    r.p.compute_efficiency = r.p.attention_efficiency = r.p.memory_efficiency = r.p.network_efficiency = 1;
    r.p.kernel_launch_overhead_ms = 0;
    return r;
}
#endif

#endif /* VIDUR_TEST_H */
