/*
 * fuzz_params: what a declared route does with a request's text, short of
 * the request: src/api/starlette.c (a query string split and decoded as
 * parse_qsl does, a Cookie header parsed as Starlette does, UTF-8 with
 * replacement, the JSON Content-Type test), then the declared parameters
 * of one route record (src/api/declare.c) converted and validated from
 * those values (src/api/schema*.c).
 *
 * Input: the bytes are at once a query string, a Cookie header value and a
 * Content-Type (each up to its own length), and text to make UTF-8.
 *
 * Checks: every decoded name and value is valid UTF-8, NUL-terminated, at
 * most twice the input's size, and no more pairs than pieces; a query
 * without '%' or '+' or bytes past ASCII decodes to exactly its pieces;
 * cookie names are unique; UTF-8 that is valid comes back unchanged; each
 * parameter's result is one of the documented ones, a value of the
 * declared type, or FastAPI's items located at ["query", name, ...].  No
 * crash, leak or timeout.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "api/declare.h"
#include "api/starlette.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* Valid UTF-8 (no surrogates, no overlongs, at most U+10FFFF)? */
static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            lo = c == 0xe0 ? 0xa0 : 0x80;
            hi = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            lo = c == 0xf0 ? 0x90 : 0x80;
            hi = c == 0xf4 ? 0x8f : 0xbf;
        } else {
            return 0;
        }
        if (n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            unsigned b = s[i + j];
            if (b < lo || b > hi)
                return 0;
            lo = 0x80;
            hi = 0xbf;
        }
        i += k + 1;
    }
    return 1;
}

static void check_list(const sl_kvlist *l, size_t len, size_t pieces)
{
    CHECK(l->n <= pieces);
    for (size_t i = 0; i < l->n; i++) {
        const sl_kv *kv = &l->kv[i];
        CHECK(kv->nlen <= 2 * len && kv->vlen <= 2 * len);
        CHECK(kv->name[kv->nlen] == '\0' && kv->value[kv->vlen] == '\0');
        CHECK(valid_utf8((const unsigned char *)kv->name, kv->nlen));
        CHECK(valid_utf8((const unsigned char *)kv->value, kv->vlen));
    }
}

static int h(sl_req *req)
{
    (void)req;
    return 0;
}

static const char *const colors[] = {"red", "green", NULL};

static const sl_param_def params[] = {
    { .name = "q", .in = SL_IN_QUERY, .flags = SL_REQUIRED, .min_length = 1,
      .max_length = 50, .pattern = "^[a-z ]*$" },
    { .name = "limit", .in = SL_IN_QUERY, .type = SL_T_INT, .dflt = "10", .ge = "1",
      .le = "100" },
    { .name = "price", .in = SL_IN_QUERY, .type = SL_T_NUM, .gt = "0", .lt = "1e9" },
    { .name = "on", .in = SL_IN_QUERY, .type = SL_T_BOOL, .dflt = "false" },
    { .name = "color", .in = SL_IN_QUERY, .choices = colors },
    { .name = "ids", .in = SL_IN_QUERY, .type = SL_T_INT, .flags = SL_MULTI,
      .max_items = 4, .dflt = "[]" },
    { .name = "tag", .in = SL_IN_QUERY, .flags = SL_MULTI, .min_items = 1 },
    { .name = NULL }
};

static const sl_route_def route = {
    .method = "GET", .pattern = "/f", .handler = h, .params = params,
};

static sl_schema_set *set;
static sl_decl *decl;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char why[256];
    (void)argc;
    (void)argv;
    set = sl_schema_set_new();
    CHECK(set != NULL);
    CHECK(sl_decl_build(set, &route, &decl, why, sizeof why) == 0);
    return 0;
}

static void check_value(const sl_decl_param *p, json_object *out)
{
    json_type want[] = {json_type_string, json_type_int, json_type_double,
                        json_type_boolean};
    if (out == NULL) {
        CHECK(!p->required && !p->has_default);
        return;
    }
    if (p->flags & SL_MULTI) {
        CHECK(json_object_is_type(out, json_type_array));
        for (size_t i = 0; i < json_object_array_length(out); i++)
            CHECK(json_object_is_type(json_object_array_get_idx(out, i), want[p->type]));
    } else {
        CHECK(json_object_is_type(out, want[p->type]));
    }
    CHECK(json_object_to_json_string(out) != NULL);
}

static void check_errors(json_object *errors, size_t from, const char *name)
{
    for (size_t i = from; i < json_object_array_length(errors); i++) {
        json_object *e = json_object_array_get_idx(errors, i), *loc;
        CHECK(json_object_object_get_ex(e, "loc", &loc));
        CHECK(strcmp(json_object_get_string(json_object_array_get_idx(loc, 0)), "query") == 0);
        CHECK(strcmp(json_object_get_string(json_object_array_get_idx(loc, 1)), name) == 0);
        CHECK(json_object_object_get_ex(e, "msg", NULL));
        CHECK(json_object_object_get_ex(e, "input", NULL));
    }
    CHECK(json_object_to_json_string(errors) != NULL);
}

/* The route's parameters from the query's pairs, as api/args.c does. */
static void validate(const sl_kvlist *q)
{
    json_object *errors = json_object_new_array();
    CHECK(errors != NULL);
    const char **vals = malloc((q->n + 1) * sizeof *vals);
    size_t *lens = malloc((q->n + 1) * sizeof *lens);
    CHECK(vals != NULL && lens != NULL);
    for (size_t i = 0; i < decl->nparams; i++) {
        const sl_decl_param *p = &decl->params[i];
        size_t n = 0, nlen = strlen(p->name);
        for (size_t k = 0; k < q->n; k++)
            if (q->kv[k].nlen == nlen && memcmp(q->kv[k].name, p->name, nlen) == 0) {
                vals[n] = q->kv[k].value;
                lens[n++] = q->kv[k].vlen;
            }
        json_object *out = NULL;
        size_t before = json_object_array_length(errors);
        int r = sl_schema_validate_param(p->schema, "query", p->name, vals, lens, n,
                                         p->required, &out, errors);
        CHECK(r == 0 || r == SL_SCHEMA_INVALID || r == -ENOMEM);
        if (r == 0)
            check_value(p, out);
        if (r == SL_SCHEMA_INVALID) {
            CHECK(out == NULL);
            CHECK(json_object_array_length(errors) > before);
            check_errors(errors, before, p->name);
        }
        json_object_put(out);
    }
    free(vals);
    free(lens);
    json_object_put(errors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;

    size_t amps = 1, semis = 1;
    int plain = 1;
    for (size_t i = 0; i < size; i++) {
        amps += s[i] == '&';
        semis += s[i] == ';';
        plain &= s[i] != '%' && s[i] != '+' && data[i] < 0x80;
    }

    sl_kvlist q;
    if (sl_query_pairs(s, size, &q) == 0) {
        check_list(&q, size, amps);
        if (plain) {
            /* nothing to decode: the pieces themselves */
            size_t pos = 0, k = 0;
            while (pos < size) {
                const char *amp = memchr(s + pos, '&', size - pos);
                size_t plen = amp ? (size_t)(amp - (s + pos)) : size - pos;
                if (plen > 0) {
                    const char *eq = memchr(s + pos, '=', plen);
                    size_t nlen = eq ? (size_t)(eq - (s + pos)) : plen;
                    CHECK(k < q.n && q.kv[k].nlen == nlen &&
                          memcmp(q.kv[k].name, s + pos, nlen) == 0);
                    CHECK(q.kv[k].vlen == (eq ? plen - nlen - 1 : 0));
                    k++;
                }
                pos += plen + 1;
            }
            CHECK(k == q.n);
        }
        validate(&q);
        sl_kvlist_free(&q);
    }

    sl_kvlist c;
    if (sl_cookie_pairs(s, size, &c) == 0) {
        check_list(&c, size, semis);
        for (size_t i = 0; i < c.n; i++)
            for (size_t j = 0; j < i; j++)
                CHECK(!(c.kv[i].nlen == c.kv[j].nlen &&
                        memcmp(c.kv[i].name, c.kv[j].name, c.kv[i].nlen) == 0));
        sl_kvlist_free(&c);
    }

    char *u = malloc(3 * size + 1);
    CHECK(u != NULL);
    size_t n = sl_utf8_replace(u, s, size);
    CHECK(n <= 3 * size && valid_utf8((unsigned char *)u, n));
    if (valid_utf8(data, size))
        CHECK(n == size && memcmp(u, s, size) == 0);
    n = sl_latin1_utf8(u, s, size);
    CHECK(n <= 2 * size && valid_utf8((unsigned char *)u, n));
    free(u);

    char *ct = malloc(size + 1);
    CHECK(ct != NULL);
    memcpy(ct, s, size);
    ct[size] = '\0';
    int j = sl_content_type_json(ct);
    CHECK(j >= -1 && j <= 1);
    CHECK((j == -1) == (ct[0] == '\0'));
    free(ct);
    return 0;
}
