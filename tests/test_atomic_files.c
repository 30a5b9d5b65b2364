/* test_atomic_files.c - the output files' portable fallback (VIDUR_NO_POSIX: what a strict ISO C
   build gets). tests/test_safe_outputs.sh checks the POSIX path through the CLI; here the same
   properties hold without it: a symlink planted at the old fixed temporary name or at the final
   name is never followed, two writers of one file never share a temporary file, each temporary
   name is fresh, and non-regular inputs are refused. */
#define _POSIX_C_SOURCE 200809L /* for symlink() in the test itself; the library ignores it here */
#define VIDUR_NO_POSIX
#define VIDUR_IMPLEMENTATION
#include "../vidur.h"
#include "test.h"

#include <unistd.h>

static char g_dir[256];

static const char *path_in(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *s;
    if (!f) return NULL;
    s = test_slurp_(f);
    fclose(f);
    return s;
}

TEST(test_fallback_is_compiled)
{
#ifdef VIDUR__POSIX
    CHECK(0); /* VIDUR_NO_POSIX must select the ISO C fallback */
#else
    CHECK(1);
#endif
}

TEST(test_planted_symlinks)
{
    vidur_atomic_file a;
    vidur_error err;
    char *v;
    FILE *f = fopen(path_in("victim"), "wb");
    REQUIRE(f != NULL);
    fputs("victim", f);
    fclose(f);
    REQUIRE(symlink(path_in("victim"), path_in("out.json.tmp")) == 0);
    REQUIRE(symlink(path_in("victim"), path_in("out.json")) == 0);
    REQUIRE(vidur_atomic_open(&a, path_in("out.json"), &err));
    CHECK(strcmp(a.tmp, path_in("out.json.tmp")) != 0);
    fputs("{}\n", a.f);
    CHECK(vidur_atomic_close(&a, 1, &err));
    v = slurp(path_in("victim"));
    CHECK_STR_EQ(v, "victim");
    free(v);
    v = slurp(path_in("out.json"));
    CHECK_STR_EQ(v, "{}\n");
    free(v);
    {
        /* out.json is now a regular file, not the symlink */
        FILE *g = fopen(path_in("out.json"), "ab");
        if (g) { fputs("x", g); fclose(g); }
        v = slurp(path_in("victim"));
        CHECK_STR_EQ(v, "victim");
        free(v);
    }
    remove(path_in("out.json.tmp"));
    remove(path_in("out.json"));
    remove(path_in("victim"));
}

TEST(test_two_writers_one_file)
{
    vidur_atomic_file a, b;
    vidur_error err;
    char *v;
    /* both open before either closes: two temporary files, both renamed, the last one wins whole */
    REQUIRE(vidur_atomic_open(&a, path_in("same.csv"), &err));
    REQUIRE(vidur_atomic_open(&b, path_in("same.csv"), &err));
    CHECK(strcmp(a.tmp, b.tmp) != 0);
    fputs("first\n", a.f);
    fputs("second\n", b.f);
    fputs("first again\n", a.f);
    CHECK(vidur_atomic_close(&a, 1, &err));
    CHECK(vidur_atomic_close(&b, 1, &err));
    v = slurp(path_in("same.csv"));
    CHECK_STR_EQ(v, "second\n");
    free(v);
    /* an abandoned file leaves nothing */
    REQUIRE(vidur_atomic_open(&a, path_in("gone.csv"), &err));
    fputs("partial", a.f);
    CHECK(!vidur_atomic_close(&a, 0, NULL));
    CHECK(fopen(a.tmp, "rb") == NULL);
    CHECK(fopen(path_in("gone.csv"), "rb") == NULL);
    remove(path_in("same.csv"));
}

TEST(test_fallback_regular_files)
{
    vidur_error err;
    vidur_config c;
    vidur_config_init(&c);
    CHECK(vidur_config_load_ini(&c, g_dir, &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "not a regular file (a folder)");
    CHECK(vidur_config_load_ini(&c, "/dev/zero", &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "not a regular file");
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/vidur_test_atomic_%ld", (long)getpid());
    vidur__mkdir(g_dir);
    RUN_TEST(test_fallback_is_compiled);
    RUN_TEST(test_planted_symlinks);
    RUN_TEST(test_two_writers_one_file);
    RUN_TEST(test_fallback_regular_files);
    rmdir(g_dir);
    return test_finish();
}
