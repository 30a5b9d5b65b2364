/* fuzz_yaml: the config explorer's YAML (tools/vidur_search_yaml.h, read with libyaml) turned
   into the search INI and loaded (vidur_search_spec_load_string); an accepted spec is expanded
   when the space is small. Seed: a small explorer file in the published guide's layout. */
#include "fuzz.h"
#include "../../tools/vidur_search_yaml.h"

static int fuzz_yaml(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path("spec.yaml");
    vidur_search_spec *spec = NULL;
    vidur_error err;
    char *ini;
    fuzz_write(path, data, size);
    memset(&err, 0, sizeof err);
    ini = vsy_yaml_to_ini(path, &err); /* owned by the reader (freed at its next call) */
    if (ini && vidur_search_spec_load_string(ini, path, &spec, &err) == VIDUR_OK) {
        vidur_search_job *jobs = NULL;
        int64_t count = 0, valid = 0;
        if (vidur_search_expand(spec, 1, &jobs, &count, &valid, &err) == VIDUR_OK) VIDUR_FREE(jobs);
        vidur_search_spec_free(spec);
    } else if (ini) {
        vsy_map_error(&err, path);
    }
    return 0;
}

#ifndef VIDUR_FUZZ_ALL
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_yaml(data, size); }
#endif
