/* fuzz_flags: a command line (the input's lines are the arguments, as vidur would get them)
   through vidur_config_parse_args, validated and run tiny. Reproducers: hex and NaN values for
   double flags (issue 14 finding 8). */
#include "fuzz.h"

static int fuzz_flags(const uint8_t *data, size_t size)
{
    vidur_config cfg;
    vidur_error err;
    char *text = fuzz_text(data, size), *argv[64], *p;
    const char *pos[16];
    int argc = 0, npos = 0;
    for (p = text; argc < 64;) {
        char *nl = strchr(p, '\n');
        argv[argc++] = p;
        if (!nl) break;
        *nl = 0;
        p = nl + 1;
    }
    vidur_config_init(&cfg);
    if (vidur_config_parse_args(&cfg, argc, argv, pos, 16, &npos, &err) == VIDUR_OK) {
        fuzz_tame(&cfg);
        fuzz_run(&cfg, 3000);
    }
    free(text);
    return 0;
}

#ifndef VIDUR_FUZZ_ALL
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_flags(data, size); }
#endif
