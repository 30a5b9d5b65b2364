// The implementation compiled as C++ (C++11 / C++17): a default config must validate.
#define VIDUR_IMPLEMENTATION
#include "vidur.h"
#include <cstdio>
#include <cstring>

int main()
{
    vidur_config cfg;
    vidur_error err;
    vidur_config_init(&cfg);
    std::memset(&err, 0, sizeof err);
    if (vidur_config_validate(&cfg, &err) != VIDUR_OK) {
        std::fprintf(stderr, "default config does not validate: %s\n", err.message);
        return 1;
    }
    const vidur_model_spec *m = vidur_find_model(&cfg, cfg.model_name);
    if (!m || m->num_layers != 32) {
        std::fprintf(stderr, "model table lookup failed\n");
        return 1;
    }
    return 0;
}
