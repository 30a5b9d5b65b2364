/* VIDUR_STATIC: two translation units each carry a private copy of the implementation
   (static_a.c and static_b.c are linked into one program). */
#define VIDUR_STATIC
#define VIDUR_IMPLEMENTATION
#include "vidur.h"
#include <stdio.h>
#include <string.h>

int static_b_model_count(void);
int static_b_validate_default(void);

static int static_a_validate_default(void)
{
    vidur_config cfg;
    vidur_error err;
    vidur_config_init(&cfg);
    return vidur_config_validate(&cfg, &err) == VIDUR_OK;
}

int main(void)
{
    int a = vidur_builtin_model_count(), b = static_b_model_count();
    if (a <= 0 || a != b) {
        fprintf(stderr, "model counts differ: %d vs %d\n", a, b);
        return 1;
    }
    if (!static_a_validate_default() || !static_b_validate_default()) {
        fprintf(stderr, "default config does not validate\n");
        return 1;
    }
    return strcmp(vidur_version_string(), VIDUR_VERSION_STRING) != 0;
}
