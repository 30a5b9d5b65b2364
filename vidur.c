/* vidur.c - vidur.h's implementation as a translation unit of its own, for builds that compile
   it once and link it (the Makefile's build/libvidur.a, installed by `make install`), as
   miniaudio ships miniaudio.c. The Makefile compiles it with -DVIDUR_TABLES_EXTERN and links
   vidur_tables.c (the profiled operator tables) beside it. */
#if !defined(_POSIX_C_SOURCE) && !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L /* localtime_r: simulations in several threads name their folders */
#endif
#define VIDUR_IMPLEMENTATION
#include "vidur.h"
