/* test_fuzz_corpus.c - replays the fuzzers' regression corpus (docs/fuzzing.md).

   Every file of tests/fuzz/corpus/<harness>/ goes through that harness of tests/fuzz/ (the same
   code `make fuzz` runs under libFuzzer): the seeds, and a reproducer of every finding of issue
   14 and of every later fuzzing run. `make test` builds this program plain and under ASan +
   UBSan with gcc: an input that crashes, leaks or hits undefined behaviour stops it; each one
   that comes back is a PASS. A harness folder with no input fails (the corpus went missing).
   (fuzz/fuzz.h includes vidur.h and vidur_search.h with their implementations.) */
#define VIDUR_FUZZ_ALL
#define VIDUR_IMPLEMENTATION
#include "fuzz/fuzz.h"
#include "test.h"

#include <dirent.h>
#include <sys/stat.h>

#include "fuzz/fuzz_flags.c"
#include "fuzz/fuzz_hfconfig.c"
#include "fuzz/fuzz_ini.c"
#include "fuzz/fuzz_ppo.c"
#include "fuzz/fuzz_record.c"
#include "fuzz/fuzz_search.c"
#include "fuzz/fuzz_table.c"
#include "fuzz/fuzz_trace.c"
#include "fuzz/fuzz_yaml.c"

static const struct {
    const char *name;
    int (*fn)(const uint8_t *, size_t);
} harnesses[] = {
    {"flags", fuzz_flags}, {"hfconfig", fuzz_hfconfig}, {"ini", fuzz_ini},       {"ppo", fuzz_ppo},     {"record", fuzz_record},
    {"search", fuzz_search}, {"table", fuzz_table}, {"trace", fuzz_trace}, {"yaml", fuzz_yaml},
};

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* every input of one harness, in name order */
static void replay(const char *name, int (*fn)(const uint8_t *, size_t))
{
    char dir[256], path[512], *names[1024];
    int n = 0, i;
    DIR *d;
    struct dirent *e;
    snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", name);
    d = opendir(dir);
    if (!CHECK(d != NULL)) {
        printf("FAIL %s: no corpus folder\n", dir);
        return;
    }
    while ((e = readdir(d)) != NULL && n < 1024)
        if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], name_cmp);
    if (!CHECK(n > 0)) printf("FAIL %s: empty corpus\n", dir);
    for (i = 0; i < n; i++) {
        FILE *f;
        long size;
        uint8_t *data;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        f = fopen(path, "rb");
        if (!CHECK(f != NULL) || fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
            if (f) fclose(f);
            free(names[i]);
            continue;
        }
        data = (uint8_t *)malloc((size_t)size + 1);
        if (data && fread(data, 1, (size_t)size, f) == (size_t)size) {
            fflush(stdout);
            CHECK_EQ_INT(fn(data, (size_t)size), 0);
            printf("PASS %s\n", path);
        } else {
            CHECK(0);
        }
        fclose(f);
        free(data);
        free(names[i]);
    }
}

int main(void)
{
    size_t i;
    for (i = 0; i < sizeof harnesses / sizeof harnesses[0]; i++) replay(harnesses[i].name, harnesses[i].fn);
    fuzz_cleanup();
    return test_finish();
}
