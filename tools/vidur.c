/* vidur - run one LLM-serving simulation.
   usage: vidur [CONFIG.ini ...] [--<vidur flag> VALUE ...] [--plugin FILE.so] [--quiet] [--verbose] [--help] [--version]
   INI files are read in order, then flags override them. The whole program is vidur_cli.h's
   vidur_cli_main, so that programs with schedulers of their own get the same command line. */
#define _POSIX_C_SOURCE 200809L
#define VIDUR_IMPLEMENTATION
#include "../vidur.h"
#define VIDUR_CLI_IMPLEMENTATION
#include "../vidur_cli.h"

int main(int argc, char **argv) { return vidur_cli_main(argc, argv, NULL); }
