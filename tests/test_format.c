/* test_format.c - the output writers' number formatting against printf, byte for byte.
   vidur__fmt_double (shortest of %.15g / %.17g that reads back, what every CSV and JSON file
   holds), vidur__fmt_g17 (%.17g), vidur__fmt_fixed3 (%.3f, the Chrome trace's ts and dur) and the
   integer writers are compared with the C library on millions of values: random bit patterns
   (every exponent: subnormals, infinities, NaNs), random values in the magnitudes simulations
   write, short decimals (where %.15g reads back), exact ties at the 15th, 17th and 3rd-decimal
   digit, integers, powers of ten and their neighbours, negative zero.
   VIDUR_FORMAT_TEST_COUNT sets the number of values per family (default 250,000, three
   functions each: about 5 million comparisons; 30,000 under the sanitizers). */
#define VIDUR_IMPLEMENTATION
#include "vidur.h"
#include "test.h"

#include <float.h>
#include <limits.h>
#include <stdint.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED_ 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED_ 1
#endif
#endif
#ifndef SANITIZED_
#define SANITIZED_ 0
#endif

static uint64_t rng_ = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) /* xorshift64* */
{
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return rng_ * 2685821657736338717ull;
}
static double unit(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }
static double from_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

/* what the writers did before: printf twice and strtod */
static void ref_double(char *buf, double v)
{
    snprintf(buf, 40, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, 40, "%.17g", v);
}

typedef struct {
    long long n, bad;
    char first[800];
} tally;

static void cmp(tally *t, const char *what, double v, const char *got, const char *want)
{
    t->n++;
    if (strcmp(got, want) == 0) return;
    if (!t->bad++) snprintf(t->first, sizeof t->first, "%s(%a): got %.320s, printf %.320s", what, v, got, want);
}

static void one(tally *t, double v)
{
    char a[40], b[40], c[VIDUR__FIXED3_BUF], d[VIDUR__FIXED3_BUF];
    int n;
    ref_double(b, v);
    n = vidur__fmt_double(a, sizeof a, v);
    if (n != (int)strlen(a)) cmp(t, "length of fmt_double", v, "?", a);
    cmp(t, "fmt_double", v, a, b);
    vidur__fmt_g17(a, v);
    snprintf(b, sizeof b, "%.17g", v);
    cmp(t, "%.17g", v, a, b);
    n = vidur__fmt_fixed3(c, v);
    snprintf(d, sizeof d, "%.3f", v);
    if (n != (int)strlen(c)) cmp(t, "length of fixed3", v, "?", c);
    cmp(t, "%.3f", v, c, d);
}

static void report(tally *t, const char *family)
{
    char msg[1000];
    snprintf(msg, sizeof msg, "%s: %lld comparisons, %lld differ%s%s", family, t->n, t->bad, t->bad ? "; first: " : "", t->bad ? t->first : "");
    test_report_(t->bad == 0, __FILE__, __LINE__, "formatted as printf", msg);
    printf("  %s\n", msg);
}

static long long count_ = 250000;

TEST(random_bit_patterns)
{
    tally t = {0, 0, ""};
    long long i;
    for (i = 0; i < count_; i++) one(&t, from_bits(rnd()));
    report(&t, "random bit patterns");
}

TEST(simulation_magnitudes)
{
    /* every binary exponent the fast path takes (about 1e-15 to 2^64) and both signs */
    tally t = {0, 0, ""};
    long long i;
    for (i = 0; i < count_; i++) {
        int e = (int)(rnd() % 120) - 52;
        double v = ldexp(1.0 + unit(), e);
        one(&t, rnd() & 1 ? -v : v);
    }
    report(&t, "random values from 2^-52 to 2^67");
}

TEST(simulated_times)
{
    /* what the trace and the metrics hold: times in seconds, their differences, microseconds, ratios */
    tally t = {0, 0, ""};
    long long i;
    for (i = 0; i < count_; i++) {
        double a = unit() * 1e4, b = a + unit() * 0.05, v;
        switch (i % 6) {
        case 0: v = b - a; break;
        case 1: v = (b - (b - a)) * 1e6; break;
        case 2: v = (b - a) * 1e6; break;
        case 3: v = (b - a) / (double)(1 + rnd() % 4096); break;
        case 4: v = b; break;
        default: v = (double)(rnd() % 100000) * (b - a) * 1e3; break;
        }
        one(&t, v);
    }
    report(&t, "simulated times");
}

TEST(short_decimals)
{
    /* 1 to 17 significant digits at exponents -20..25: %.15g reads back for up to 15 */
    tally t = {0, 0, ""};
    long long i;
    for (i = 0; i < count_; i++) {
        char s[64];
        int nd = 1 + (int)(rnd() % 17), ex = (int)(rnd() % 46) - 20;
        uint64_t mant = rnd() % vidur__pow10_u64[nd];
        snprintf(s, sizeof s, "%llue%d", (unsigned long long)mant, ex - nd);
        one(&t, strtod(s, NULL));
    }
    report(&t, "short decimals");
}

TEST(ties)
{
    /* exact binary values halfway between two 15-, 17-digit or 3-decimal neighbours */
    tally t = {0, 0, ""};
    long long i;
    for (i = 0; i < count_; i++) {
        uint64_t m = (rnd() >> 11) | 1; /* odd, up to 2^53 */
        double v;
        switch (i % 7) {
        case 5: v = (double)(rnd() % 1000000000000000ull) + 0.5; break; /* 16 digits ending in 5: ties at 15 */
        case 6: v = (double)(rnd() % 100000000000000ull) + 0.25 * (double)(1 + 2 * (rnd() % 2)); break;
        case 0: v = ldexp((double)m, -(int)(1 + rnd() % 3)); break;   /* m/2, m/4, m/8 near 2^50: 17-18 digits ending in 5 */
        case 1: v = (double)(m >> (rnd() % 40)) / 16.0; break;        /* k/16: 4 decimals ending in 5 */
        case 2: v = (double)(m >> (rnd() % 50)) / 1024.0; break;      /* k/1024 */
        case 3: v = (double)(rnd() % 1000000) + 0.0005 * (double)(1 + 2 * (rnd() % 1000)); break;
        default: v = ldexp((double)(m % 100000000000000000ull), (int)(rnd() % 12)); break; /* integers past 2^53 */
        }
        one(&t, v);
        one(&t, -v);
    }
    report(&t, "ties");
}

TEST(edge_values)
{
    static const double fixed[] = {0.0, 1.0, -1.0, 0.1, 0.5, 1.5, 2.5, 0.0005, 0.0015, 0.0025, 1e-5, 1e-4, 9.9999999999999995e-5, 1e15, 1e16, 1e17,
                                   9007199254740992.0, 9007199254740993.0, 18446744073709551615.0, 18446744073709549568.0,
                                   1.8446744073709552e19, 123456789012345678.0, 2251799813685247.75, 0.30000000000000004,
                                   100, 1000, 12345, 3.14159, 1e-15, 1e-16, 1e-300, 1e300, 1e308};
    tally t = {0, 0, ""};
    int i, k;
    for (i = 0; i < (int)(sizeof fixed / sizeof fixed[0]); i++) {
        one(&t, fixed[i]);
        one(&t, -fixed[i]);
        one(&t, nextafter(fixed[i], 0));
        one(&t, nextafter(fixed[i], DBL_MAX));
    }
    one(&t, -0.0);
    one(&t, DBL_MIN);
    one(&t, DBL_MAX);
    one(&t, -DBL_MAX);
    one(&t, DBL_MIN / 4); /* subnormal */
    one(&t, 4.9406564584124654e-324);
    one(&t, HUGE_VAL);
    one(&t, -HUGE_VAL);
    one(&t, nan(""));
    for (k = -30; k <= 30; k++) { /* powers of ten, their neighbours, and powers of two */
        double p = pow(10.0, k), q = ldexp(1.0, 2 * k);
        one(&t, p);
        one(&t, nextafter(p, 0));
        one(&t, nextafter(p, HUGE_VAL));
        one(&t, q);
        one(&t, nextafter(q, 0));
        one(&t, nextafter(q, HUGE_VAL));
        one(&t, 5 * p);
        one(&t, -p);
    }
    for (k = -1074; k <= 1023; k++) { /* every power of two: the gap below is half the gap above */
        double q = ldexp(1.0, k);
        one(&t, q);
        one(&t, nextafter(q, 0));
        one(&t, 3 * q);
    }
    for (k = 0; k < 100000; k++) { /* every small integer and a few halves */
        one(&t, (double)k);
        one(&t, k + 0.5);
    }
    report(&t, "edge values");
}

TEST(integers)
{
    static const long long edges[] = {0, 1, -1, 9, 10, 99, 100, 999999999, 1000000000, 2147483647, -2147483647 - 1, 4294967295LL,
                                      9223372036854775807LL, -9223372036854775807LL - 1};
    long long i, bad = 0;
    char a[32], b[32];
    for (i = 0; i < (long long)(sizeof edges / sizeof edges[0]) + count_; i++) {
        long long v = i < (long long)(sizeof edges / sizeof edges[0]) ? edges[i] : (long long)(rnd() >> (rnd() % 64)), w;
        int n;
        w = (i & 1) && v != LLONG_MIN ? -v : v;
        n = vidur__put_i64(a, (int64_t)w);
        a[n] = 0;
        snprintf(b, sizeof b, "%lld", w);
        if (strcmp(a, b)) {
            if (!bad) printf("  put_i64: got %s, printf %s\n", a, b);
            bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
}

int main(void)
{
    const char *env = getenv("VIDUR_FORMAT_TEST_COUNT");
    count_ = env && *env ? atoll(env) : (SANITIZED_ ? 30000 : 250000);
    RUN_TEST(random_bit_patterns);
    RUN_TEST(simulation_magnitudes);
    RUN_TEST(simulated_times);
    RUN_TEST(short_decimals);
    RUN_TEST(ties);
    RUN_TEST(edge_values);
    RUN_TEST(integers);
    return test_finish();
}
