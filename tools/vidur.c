/* vidur - run one LLM-serving simulation.
   usage: vidur [CONFIG.ini ...] [--<vidur flag> VALUE ...] [--plugin FILE.so] [--quiet] [--verbose] [--help] [--version]
   INI files are read in order, then flags override them. The whole program is vidur_cli.h's
   vidur_cli_main, so that programs with schedulers of their own get the same command line.
   Built by the Makefile from this file, build/libvidur.a (vidur.c, the implementation) and
   build/libvidur_tables.a (vidur_tables.c, the profiled operator tables). */
#define _POSIX_C_SOURCE 200809L
#include "../vidur.h" /* the implementation is linked: build/libvidur.a (vidur.c) */
#define VIDUR_CLI_IMPLEMENTATION
#include "../vidur_cli.h"

int main(int argc, char **argv) { return vidur_cli_main(argc, argv, NULL); }
