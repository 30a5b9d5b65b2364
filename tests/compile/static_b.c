/* Second translation unit of the VIDUR_STATIC check (see static_a.c). */
#define VIDUR_STATIC
#define VIDUR_IMPLEMENTATION
#include "vidur.h"

int static_b_model_count(void);
int static_b_validate_default(void);

int static_b_model_count(void)
{
    return vidur_builtin_model_count();
}

int static_b_validate_default(void)
{
    vidur_config cfg;
    vidur_error err;
    vidur_config_init(&cfg);
    return vidur_config_validate(&cfg, &err) == VIDUR_OK;
}
