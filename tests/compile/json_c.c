/* VIDUR_JSON compiles (C and C++, built by tests/compile/check.sh with -DVIDUR_JSON -ljansson) and
   reads a committed config.json. */
#define VIDUR_IMPLEMENTATION
#include "vidur.h"

int main(void)
{
    vidur_model_spec m;
    vidur_error e;
    if (vidur_model_spec_from_hf_config("data/models/mistralai/Mixtral-8x7B-Instruct-v0.1/config.json", "mixtral", &m, &e)) {
        printf("%s\n", e.message);
        return 1;
    }
    return m.num_experts == 8 && m.num_experts_per_tok == 2 ? 0 : 1;
}
