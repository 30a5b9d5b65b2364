/* The implementation compiled as C (C99 or C11): a default config must validate. */
#define VIDUR_IMPLEMENTATION
#include "vidur.h"
#include <stdio.h>
#include <string.h>

int main(void)
{
    vidur_config cfg;
    vidur_error err;
    vidur_config_init(&cfg);
    memset(&err, 0, sizeof err);
    if (vidur_config_validate(&cfg, &err) != VIDUR_OK) {
        fprintf(stderr, "default config does not validate: %s\n", err.message);
        return 1;
    }
    if (strcmp(vidur_version_string(), VIDUR_VERSION_STRING) != 0) {
        fprintf(stderr, "version mismatch\n");
        return 1;
    }
    return 0;
}
