/* no_tables.c - an empty vidur_profiled_tables() for the test programs that check the roofline:
   they link build/libvidur.a (built with VIDUR_TABLES_EXTERN) with this object instead of the
   profiled tables, and so simulate exactly as an implementation built without tables does. */
#include "vidur.h"

const vidur_table_set *vidur_profiled_tables(void)
{
    static const vidur_table_set none = {0, 0, NULL, NULL, "none (built without VIDUR_TABLES_EXTERN or VIDUR_TABLES)"};
    return &none;
}
