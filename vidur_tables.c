/* vidur_tables.c - the profiled operator tables (data/vidur_tables.h, 14 MB of generated C) as a
   translation unit of their own: compile it once with -Idata, and link it beside an
   implementation built with -DVIDUR_TABLES_EXTERN (build/libvidur_tables.a; installed by
   `make install`, linked by `pkg-config --libs vidur`). */
#define VIDUR_TABLES_IMPLEMENTATION
#include "vidur.h"
