/* vidur_trace_out.h - output helpers of the trace tools (vidur-convgen, vidur-mooncake): the
   trace CSV's number format, and an output that is standard output or a file written
   atomically (a temporary file next to it, renamed into place only when everything was
   written, removed otherwise). POSIX (mkstemp, fchmod). Not part of the library: static
   functions, included by one tool each. */
#ifndef VIDUR_TRACE_OUT_H
#define VIDUR_TRACE_OUT_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* the shortest "%.Nf" (N = 0..17) that reads back as x; else %.17g */
static void trace_fmt_double(char *buf, size_t n, double x)
{
    int d;
    for (d = 0; d <= 17; d++) {
        snprintf(buf, n, "%.*f", d, x);
        if (strtod(buf, NULL) == x) return;
    }
    snprintf(buf, n, "%.17g", x);
}

typedef struct trace_out {
    FILE *f;
    char *tmp;        /* the temporary file's name, or NULL for standard output */
    const char *path; /* the final name */
    const char *prog; /* for messages */
} trace_out;

/* standard output for NULL or "-", else a temporary file next to path (mode 0666 & ~umask,
   as fopen would give); 0 after printing why not */
static int trace_out_open(trace_out *o, const char *prog, const char *path)
{
    size_t n;
    int fd;
    mode_t um;
    memset(o, 0, sizeof *o);
    o->prog = prog;
    o->path = path;
    if (!path || !strcmp(path, "-")) {
        o->f = stdout;
        return 1;
    }
    n = strlen(path) + 16;
    o->tmp = (char *)malloc(n);
    if (!o->tmp) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 0;
    }
    snprintf(o->tmp, n, "%s.tmp.XXXXXX", path);
    fd = mkstemp(o->tmp);
    if (fd < 0) {
        fprintf(stderr, "%s: %s: cannot create a temporary file: %s\n", prog, path, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        return 0;
    }
    um = umask(0);
    umask(um);
    if (fchmod(fd, 0666 & ~um) || !(o->f = fdopen(fd, "w"))) {
        fprintf(stderr, "%s: %s: %s\n", prog, o->tmp, strerror(errno));
        close(fd);
        remove(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
        return 0;
    }
    return 1;
}

/* ends the output: ok says whether the writer succeeded; a file is renamed into place only if
   it and every write did, and removed otherwise. 1 on success, 0 after printing why not. */
static int trace_out_close(trace_out *o, int ok)
{
    int bad;
    if (!o->tmp) {
        if (fflush(stdout) || ferror(stdout) || !ok) {
            fprintf(stderr, "%s: write error on standard output\n", o->prog);
            return 0;
        }
        return 1;
    }
    bad = ferror(o->f) || !ok;
    if (fclose(o->f) || bad) {
        fprintf(stderr, "%s: %s: write error\n", o->prog, o->path);
        ok = 0;
    } else if (rename(o->tmp, o->path)) {
        fprintf(stderr, "%s: %s: cannot rename the temporary file into place: %s\n", o->prog, o->path, strerror(errno));
        ok = 0;
    }
    if (!ok) remove(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
    o->f = NULL;
    return ok;
}

#endif
