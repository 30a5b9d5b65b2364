/* vidur_search_yaml.h - the fork's config-explorer YAML (Vidur's docs/config_explorer.md, as
   published) read with libyaml (Debian: libyaml-dev) and turned into vidur-search's INI text, so
   that one parser (vidur_search_spec_load_string) checks and expands both forms.

   Every YAML list becomes one INI section per entry, in the YAML's order, exactly as
   data/search/example.ini writes the guide's example by hand: clusters -> [cluster.LABEL],
   global_schedulers -> [global_scheduler.LABEL], request_queues -> [request_queue.NAME],
   replica_schedulers -> [replica_scheduler.LABEL], slo_configs -> [slo_config.NAME] (each
   `slos` entry one `slo = METRIC VALUE` line), traces -> [trace.NAME], models -> [model.NAME],
   search_configs -> [search.LABEL]; batch_sizes, tp_dimensions, pp_dimensions (and ours:
   ep_dimensions, weight_dtypes, kv_cache_dtypes) and the explorer's scalar settings go into
   [explorer]. Labels are only names (the fork's job keys and hashes do not contain them).
   Errors name the YAML file and line; the INI loader's errors are mapped back to the YAML line
   their value came from.

   static char *vsy_yaml_to_ini(const char *path, vidur_error *err)  -> malloc'd INI text or NULL
   static void vsy_map_error(vidur_error *err, const char *path)        INI line -> YAML line
   (one search at a time: the line map is kept in a static array by the tool) */
#ifndef VIDUR_SEARCH_YAML_H
#define VIDUR_SEARCH_YAML_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct vsy_buf {
    char *s;
    size_t len, cap;
    int *line_of;  /* YAML line of each INI line (1-based index) */
    int nlines, cap_lines;
    int oom;
} vsy_buf;

static vsy_buf vsy__map; /* the last conversion's INI -> YAML line map */

/* appends one INI line that came from YAML line yline */
static void vsy__line(vsy_buf *b, int yline, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof tmp) n = (int)sizeof tmp - 1;
    if (b->len + (size_t)n + 2 > b->cap) {
        size_t nc = b->cap ? 2 * b->cap + (size_t)n : 4096;
        char *s = (char *)realloc(b->s, nc);
        if (!s) { b->oom = 1; return; }
        b->s = s;
        b->cap = nc;
    }
    if (b->nlines + 2 > b->cap_lines) {
        int nc = b->cap_lines ? 2 * b->cap_lines : 256;
        int *l = (int *)realloc(b->line_of, sizeof(int) * (size_t)nc);
        if (!l) { b->oom = 1; return; }
        b->line_of = l;
        b->cap_lines = nc;
    }
    memcpy(b->s + b->len, tmp, (size_t)n);
    b->len += (size_t)n;
    b->s[b->len++] = '\n';
    b->s[b->len] = 0;
    b->line_of[++b->nlines] = yline;
}

static int vsy__line_no(const yaml_node_t *n) { return n ? (int)n->start_mark.line + 1 : 0; }

static int vsy__fail(vidur_error *err, const char *path, const yaml_node_t *n, const char *fmt, const char *what)
{
    char msg[400];
    snprintf(msg, sizeof msg, fmt, what ? what : "");
    snprintf(err->message, sizeof err->message, "%s:%d: %s", path, vsy__line_no(n), msg);
    err->code = VIDUR_ERR_PARSE;
    return 0;
}

static const char *vsy__scalar(const yaml_node_t *n) { return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL; }

/* a flow or block list of scalars as "a, b, c" */
static int vsy__list_text(yaml_document_t *d, const yaml_node_t *n, char *out, size_t outn, const char *path, const char *key, vidur_error *err)
{
    yaml_node_item_t *it;
    size_t len = 0;
    out[0] = 0;
    if (n->type == YAML_SCALAR_NODE) { /* a single value for a list */
        snprintf(out, outn, "%s", vsy__scalar(n));
        return 1;
    }
    if (n->type != YAML_SEQUENCE_NODE) return vsy__fail(err, path, n, "'%s': expected a list of values", key);
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        const yaml_node_t *v = yaml_document_get_node(d, *it);
        if (!vsy__scalar(v)) return vsy__fail(err, path, v, "'%s': expected a list of values", key);
        len += (size_t)snprintf(out + len, len < outn ? outn - len : 0, "%s%s", len ? ", " : "", vsy__scalar(v));
    }
    if (len >= outn) return vsy__fail(err, path, n, "'%s': the list is too long", key);
    return 1;
}

/* a section name that is unique within its kind: base, base_2, base_3, ... */
static void vsy__label(char (*seen)[128], int *nseen, const char *base, char *out, size_t outn)
{
    int k, i, taken;
    for (k = 1;; k++) {
        char num[16];
        snprintf(num, sizeof num, "_%d", k);
        if (k == 1) num[0] = 0;
        /* the base shortened so that the number always fits */
        snprintf(out, outn, "%.*s%s", (int)(outn > 20 ? outn - 20 : 1), base, num);
        for (i = 0, taken = 0; i < *nseen; i++) taken |= !strcmp(seen[i], out);
        if (!taken) break;
    }
    if (*nseen < 256) snprintf(seen[(*nseen)++], sizeof seen[0], "%s", out);
}

/* one list of mappings -> one INI section per entry; name_key: the entry field that names the
   section (NULL: a label from label_key's value); each scalar field becomes key = value; the
   slo_configs' `slos` list becomes slo = METRIC VALUE lines, a list field "a, b" */
static int vsy__entries(yaml_document_t *d, const yaml_node_t *list, const char *kind, const char *name_key, const char *label_key,
                        vsy_buf *b, const char *path, const char *yaml_key, vidur_error *err)
{
    yaml_node_item_t *it;
    char seen[256][128];
    int nseen = 0;
    if (list->type != YAML_SEQUENCE_NODE) return vsy__fail(err, path, list, "'%s': expected a list of entries (- key: value)", yaml_key);
    for (it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
        yaml_node_t *e = yaml_document_get_node(d, *it);
        yaml_node_pair_t *pr;
        const char *nm = NULL, *lab = NULL;
        char label[128], safe[128];
        size_t i;
        if (!e || e->type != YAML_MAPPING_NODE) return vsy__fail(err, path, e, "'%s': each entry must be a mapping (key: value)", yaml_key);
        for (pr = e->data.mapping.pairs.start; pr < e->data.mapping.pairs.top; pr++) {
            const char *k = vsy__scalar(yaml_document_get_node(d, pr->key));
            const char *v = vsy__scalar(yaml_document_get_node(d, pr->value));
            if (k && name_key && !strcmp(k, name_key)) nm = v;
            if (k && label_key && !strcmp(k, label_key)) lab = v;
        }
        if (name_key && !nm) {
            char m[200];
            snprintf(m, sizeof m, "'%s': an entry without its '%s'", yaml_key, name_key);
            return vsy__fail(err, path, e, "%s", m);
        }
        snprintf(safe, sizeof safe, "%s", nm ? nm : lab ? lab : kind);
        for (i = 0; safe[i]; i++) /* a section name: no brackets or spaces */
            if (safe[i] == ']' || safe[i] == '[' || safe[i] == ' ' || safe[i] == ';' || safe[i] == '#') safe[i] = '_';
        if (nm) snprintf(label, sizeof label, "%s", safe);
        else vsy__label(seen, &nseen, safe, label, sizeof label);
        vsy__line(b, vsy__line_no(e), "[%s.%s]", kind, label);
        for (pr = e->data.mapping.pairs.start; pr < e->data.mapping.pairs.top; pr++) {
            yaml_node_t *kn = yaml_document_get_node(d, pr->key), *vn = yaml_document_get_node(d, pr->value);
            const char *k = vsy__scalar(kn);
            if (!k) return vsy__fail(err, path, kn, "'%s': keys must be plain names", yaml_key);
            if (name_key && !strcmp(k, name_key)) continue; /* it is the section's name */
            if (!strcmp(k, "slos") && !strcmp(kind, "slo_config")) {
                yaml_node_item_t *si;
                if (vn->type != YAML_SEQUENCE_NODE) return vsy__fail(err, path, vn, "'slos': expected a list of {metric, value}", NULL);
                for (si = vn->data.sequence.items.start; si < vn->data.sequence.items.top; si++) {
                    yaml_node_t *sn = yaml_document_get_node(d, *si);
                    yaml_node_pair_t *sp;
                    const char *metric = NULL, *value = NULL;
                    if (!sn || sn->type != YAML_MAPPING_NODE) return vsy__fail(err, path, sn, "'slos': each entry needs metric and value", NULL);
                    for (sp = sn->data.mapping.pairs.start; sp < sn->data.mapping.pairs.top; sp++) {
                        const char *sk = vsy__scalar(yaml_document_get_node(d, sp->key));
                        const char *sv = vsy__scalar(yaml_document_get_node(d, sp->value));
                        if (sk && !strcmp(sk, "metric")) metric = sv;
                        else if (sk && !strcmp(sk, "value")) value = sv;
                        else return vsy__fail(err, path, yaml_document_get_node(d, sp->key), "'slos': unknown field '%s' (expected metric, value)", sk);
                    }
                    if (!metric || !value) return vsy__fail(err, path, sn, "'slos': each entry needs metric and value", NULL);
                    vsy__line(b, vsy__line_no(sn), "slo = %s %s", metric, value);
                }
                continue;
            }
            if (vn->type == YAML_SCALAR_NODE) {
                vsy__line(b, vsy__line_no(vn), "%s = %s", k, vsy__scalar(vn));
            } else {
                char list[900];
                if (!vsy__list_text(d, vn, list, sizeof list, path, k, err)) return 0;
                vsy__line(b, vsy__line_no(vn), "%s = %s", k, list);
            }
        }
        vsy__line(b, vsy__line_no(e), "%s", "");
    }
    return 1;
}

static char *vsy_yaml_to_ini(const char *path, vidur_error *err)
{
    static const struct { const char *yaml, *kind, *name_key, *label_key; } lists[] = {
        {"clusters", "cluster", NULL, "device"},
        {"global_schedulers", "global_scheduler", NULL, "scheduler"},
        {"request_queues", "request_queue", "name", NULL},
        {"replica_schedulers", "replica_scheduler", NULL, "scheduler"},
        {"slo_configs", "slo_config", "name", NULL},
        {"traces", "trace", "name", NULL},
        {"models", "model", "name", NULL},
        {"search_configs", "search", NULL, "model"},
    };
    /* [explorer] keys: the plain lists, and the explorer's settings where a YAML names them;
       ours: the EP and precision axes (docs/models.md) */
    static const char *const explorer_keys[] = {"batch_sizes", "tp_dimensions", "pp_dimensions", "min_search_granularity",
                                                "max_iterations", "time_limit", "min_qps", "base_config",
                                                "ep_dimensions", "weight_dtypes", "kv_cache_dtypes"};
    FILE *f;
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_node_t *root;
    yaml_node_pair_t *pr;
    vsy_buf *b = &vsy__map;
    size_t i;
    int ok = 1;
    free(b->s);
    free(b->line_of);
    memset(b, 0, sizeof *b);
    /* a regular file of at most 16 MiB, like an INI spec (libyaml would read /dev/zero forever) */
    if (!(f = vidur_open_input(path, err))) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || ftell(f) > (16L << 20) || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        snprintf(err->message, sizeof err->message, "%s: larger than 16 MiB", path);
        err->code = VIDUR_ERR_RANGE;
        return NULL;
    }
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        snprintf(err->message, sizeof err->message, "%s: out of memory (YAML parser)", path);
        err->code = VIDUR_ERR_MEMORY;
        return NULL;
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err->message, sizeof err->message, "%s:%d: YAML: %s%s%s", path, (int)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "syntax error", parser.context ? " " : "", parser.context ? parser.context : "");
        err->code = VIDUR_ERR_PARSE;
        yaml_parser_delete(&parser);
        fclose(f);
        return NULL;
    }
    root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        ok = vsy__fail(err, path, root, "%sthe file must be a mapping (clusters:, traces:, models:, search_configs:, ...)", "");
        goto done;
    }
    /* [explorer] first (as example.ini), then each list in the fork's order */
    vsy__line(b, 1, "[explorer]");
    for (pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top && ok; pr++) {
        yaml_node_t *kn = yaml_document_get_node(&doc, pr->key), *vn = yaml_document_get_node(&doc, pr->value);
        const char *k = vsy__scalar(kn);
        int known = 0;
        if (!k) { ok = vsy__fail(err, path, kn, "%skeys must be plain names", ""); break; }
        for (i = 0; i < sizeof lists / sizeof lists[0]; i++) known |= !strcmp(k, lists[i].yaml);
        for (i = 0; i < sizeof explorer_keys / sizeof explorer_keys[0]; i++)
            if (!strcmp(k, explorer_keys[i])) {
                char list[900];
                known = 1;
                if (!vsy__list_text(&doc, vn, list, sizeof list, path, k, err)) { ok = 0; break; }
                vsy__line(b, vsy__line_no(vn), "%s = %s", k, list);
            }
        if (ok && !known)
            ok = vsy__fail(err, path, kn, "unknown key '%s' (expected clusters, global_schedulers, request_queues, replica_schedulers, slo_configs, traces, models, search_configs, batch_sizes, tp_dimensions, pp_dimensions; ours: ep_dimensions, weight_dtypes, kv_cache_dtypes)", k);
    }
    vsy__line(b, 1, "%s", "");
    for (i = 0; i < sizeof lists / sizeof lists[0] && ok; i++)
        for (pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top && ok; pr++)
            if (!strcmp(vsy__scalar(yaml_document_get_node(&doc, pr->key)), lists[i].yaml))
                ok = vsy__entries(&doc, yaml_document_get_node(&doc, pr->value), lists[i].kind, lists[i].name_key, lists[i].label_key, b,
                                  path, lists[i].yaml, err);
    if (ok && b->oom) {
        snprintf(err->message, sizeof err->message, "%s: out of memory", path);
        err->code = VIDUR_ERR_MEMORY;
        ok = 0;
    }
done:
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    if (!ok) return NULL;
    return b->s;
}

/* "PATH:N: message" from the INI loader (N an INI line) -> the YAML line N came from */
static void vsy_map_error(vidur_error *err, const char *path)
{
    size_t pl = strlen(path);
    char rest[290];
    int n = 0, used = 0;
    if (strncmp(err->message, path, pl) || err->message[pl] != ':') return;
    if (sscanf(err->message + pl + 1, "%d:%n", &n, &used) != 1 || n < 1 || n > vsy__map.nlines) return;
    snprintf(rest, sizeof rest, "%s", err->message + pl + 1 + used);
    snprintf(err->message, sizeof err->message, "%.200s:%d:%s", path, vsy__map.line_of[n], rest);
}

#endif /* VIDUR_SEARCH_YAML_H */
