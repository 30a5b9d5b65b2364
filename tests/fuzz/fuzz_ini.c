/* fuzz_ini: a simulation INI file (vidur_config_load_ini_string), validated and run tiny.
   Seeds: data/default.ini, the golden scenarios' INIs; reproducers of issue 14's findings 2, 8
   and 11 ([model.X] num_layers = 1e300, NaN bandwidths, num_devices_per_node = 0, invalid UTF-8
   names). The configuration is also written as JSON (it must stay writable whatever it holds). */
#include "fuzz.h"

static int fuzz_ini(const uint8_t *data, size_t size)
{
    vidur_config cfg;
    vidur_error err;
    char *text = fuzz_text(data, size);
    FILE *f;
    vidur_config_init(&cfg);
    if (vidur_config_load_ini_string(&cfg, text, "fuzz.ini", &err) == VIDUR_OK) {
        fuzz_tame(&cfg);
        if ((f = fopen("/dev/null", "wb")) != NULL) {
            vidur_config_write_json(&cfg, f);
            fclose(f);
        }
        fuzz_run(&cfg, 3000);
    }
    free(text);
    return 0;
}

#ifndef VIDUR_FUZZ_ALL
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_ini(data, size); }
#endif
