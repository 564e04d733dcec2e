/*
 * schema_input.c: the entry points: a value, a parameter that arrived as
 * text, a JSON body, validated as FastAPI calls Pydantic on them
 * (fastapi/dependencies/utils.py request_params_to_args,
 * request_body_to_args, _validate_value_with_model_field).  See schema.h.
 */
#include <errno.h>
#include <string.h>
#include "api/schema_int.h"

static size_t room(json_object *errors)
{
    size_t n = json_object_array_length(errors);
    return n >= SL_SCHEMA_MAX_ERRORS ? 0 : SL_SCHEMA_MAX_ERRORS - n;
}

/* Validates input; errors' locs start with prefix, then names. */
static int validate_at(const sl_jschema *schema, json_object *input,
                       json_object *prefix, const char *const *names,
                       size_t nnames, json_object **out, json_object *errors)
{
    struct sl_errlist l;
    sl_errlist_init(&l, room(errors));
    int r = sl_schema_check(schema->root, input, &l, out);
    if (r == SL_SCHEMA_INVALID &&
        sl_errlist_emit(&l, prefix, names, nnames, errors))
        r = -ENOMEM;
    sl_errlist_free(&l);
    return r;
}

int sl_schema_validate(const sl_jschema *schema, json_object *input,
                       json_object *loc_prefix, json_object **out,
                       json_object *errors)
{
    return validate_at(schema, input, loc_prefix, NULL, 0, out, errors);
}

/* An absent parameter or body: FastAPI's get_missing_field_error (input
 * null) at names, or the default, or nothing. */
static int absent(const sl_jschema *schema, const char *const *names,
                  size_t nnames, int required, json_object **out,
                  json_object *errors)
{
    *out = NULL;
    if (required) {
        struct sl_errlist l;
        sl_errlist_init(&l, room(errors));
        struct sl_verr *e = sl_errlist_add(&l, SE_MISSING, schema->root, NULL);
        if (e)
            e->input_null = 1;
        int r = l.oom || sl_errlist_emit(&l, NULL, names, nnames, errors)
                    ? -ENOMEM : SL_SCHEMA_INVALID;
        sl_errlist_free(&l);
        return r;
    }
    int has;
    json_object *d = sl_schema_default(schema, &has);
    if (has && d && json_object_deep_copy(d, out, NULL))
        return -ENOMEM;
    return 0;
}

/* FastAPI's field_annotation_is_sequence: the parameter takes every value. */
static int takes_list(const struct sl_node *n, int depth)
{
    if (depth > SL_SCHEMA_MAX_DEPTH)
        return 0;
    switch (n->kind) {
    case SK_LIST:
    case SK_SET:
        return 1;
    case SK_REF:
        return takes_list(n->u.ref.target, depth + 1);
    case SK_NULLABLE:
        return takes_list(n->u.nul.inner, depth + 1);
    case SK_UNION:
        for (size_t i = 0; i < n->u.alt.n; i++)
            if (takes_list(n->u.alt.c[i], depth + 1))
                return 1;
        return 0;
    default:
        return 0;
    }
}

int sl_schema_validate_param(const sl_jschema *schema, const char *where,
                             const char *name, const char *const *values,
                             const size_t *lens, size_t n, int required,
                             json_object **out, json_object *errors)
{
    const char *names[2] = {where, name};
    json_object *in = NULL;
    *out = NULL;
    if (n == 0)
        return absent(schema, names, 2, required, out, errors);
#define TEXT(i) json_object_new_string_len(values[i], \
        (int)(lens ? lens[i] : strlen(values[i])))
    if (takes_list(schema->root, 0)) {
        if ((in = json_object_new_array_ext((int)n)) == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
            json_object *s = TEXT(i);
            if (s == NULL || json_object_array_add(in, s)) {
                json_object_put(s);
                json_object_put(in);
                return -ENOMEM;
            }
        }
    } else if ((in = TEXT(n - 1)) == NULL) {
        return -ENOMEM;
    }
#undef TEXT
    int r = validate_at(schema, in, NULL, names, 2, out, errors);
    json_object_put(in);
    return r;
}

int sl_schema_validate_body(const sl_jschema *schema, const char *data,
                            size_t len, int required, json_object **out,
                            json_object *errors)
{
    static const char *const body[1] = {"body"};
    json_object *in = NULL;
    *out = NULL;
    if (len == 0)
        return absent(schema, body, 1, required, out, errors);
    int r = sl_schema_parse_json(data, len, &in, errors);
    if (r != 0)
        return r;
    /* FastAPI: a value of None is an absent body */
    r = in == NULL ? absent(schema, body, 1, required, out, errors)
                   : validate_at(schema, in, NULL, body, 1, out, errors);
    json_object_put(in);
    return r;
}
