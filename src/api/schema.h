/*
 * schema.h: JSON Schema (the 2020-12 subset OpenAPI 3.1 uses), compiled
 * once, and a validator that behaves as Pydantic v2 does in lax mode behind
 * FastAPI: it converts ("5" to an integer field is 5), fills defaults,
 * keeps declared property order, and reports every failing field as the
 * items of FastAPI's 422 body:
 *
 *   {"type":"string_too_short","loc":["body","title"],
 *    "msg":"String should have at least 1 character","input":"",
 *    "ctx":{"min_length":1}}
 *
 * Behaviour followed: pydantic 2.13 (pydantic-core 2.46) as FastAPI 0.141
 * calls it (TypeAdapter.validate_python(value, from_attributes=True), errors
 * prefixed with the location, "missing" with input null for an absent
 * parameter or body; fastapi/dependencies/utils.py, fastapi/routing.py).
 * tests/unit/schema_cases.json holds what the real Pydantic answers for a
 * battery of schemas and inputs (tests/unit/gen_schema_cases.py).
 *
 * How a schema maps to what Pydantic would validate:
 *   type string/integer/number/boolean/null   str, int, float, bool, None
 *   type array                                list[items]
 *   type array + uniqueItems: true            set[items]: duplicates (after
 *       conversion) are dropped, first occurrence kept, set_type and "Set"
 *       in errors; items must be scalars
 *   type object with properties (or additionalProperties: false)
 *       a model: missing / extra fields as Pydantic reports them;
 *       additionalProperties absent: extra fields ignored (dropped from the
 *       output, Pydantic's default); false: extra_forbidden; true or a
 *       schema: kept (validated against the schema)
 *   type object without properties            dict[str, additionalProperties]
 *   type: [..., "null"], anyOf with {"type":"null"}   Optional[...]
 *   several types, anyOf, oneOf               a union in smart mode: the
 *       most exact member wins, its errors carry the member's label in loc
 *       (["body","x","int"]).  oneOf is validated as anyOf: Pydantic emits
 *       oneOf only for tagged unions, and with lax conversion "exactly one"
 *       is ill-defined ("5" is a valid integer and a valid string)
 *   enum, const                               Literal[...]: literal_error
 *   enum with a title (how Pydantic writes an Enum class)   an Enum:
 *       "enum" errors; "type" string, integer or number is its str, int or
 *       float mixin ("1" is member 1 of an int Enum), none a plain Enum
 *   allOf                                     every member validates the
 *       input; errors of all members; objects' outputs are merged, else the
 *       first member's output is kept
 *   $ref                                      the named schema
 *   {}                                        Any
 * A property is required if listed in "required"; otherwise its "default"
 * fills it when absent, and with no default it is absent from the output.
 *
 * Refused when compiled (Pydantic could not express it, or it would not be
 * enforced): any keyword outside the subset; constraints without a "type"
 * they apply to; non-integral bounds on an integer; required names that
 * are not properties; a property both required and with a default; a
 * default that fails its own schema; enum values that fail the schema's
 * other keywords; a $ref cycle that consumes no input.  Annotations are
 * kept for OpenAPI: title, description, examples, format (not enforced),
 * deprecated, readOnly, writeOnly, $comment.
 *
 * Known differences from Pydantic, all in rare input:
 *   - integers beyond int64 (Pydantic: Python's big int) fail an integer
 *     field with int_parsing_size;
 *   - patterns run on PCRE2 (UTF, UCP, DOLLAR_ENDONLY: like Pydantic's Rust
 *     regex, unanchored); a match that exceeds PCRE2's match limit counts
 *     as a mismatch;
 *   - at most SL_SCHEMA_MAX_ERRORS errors are listed (Pydantic: all);
 *   - nesting past SL_SCHEMA_MAX_DEPTH or work past SL_SCHEMA_MAX_STEPS
 *     gives one recursion_loop error (Pydantic: its recursion guard);
 *   - object keys containing U+0000 are cut there (json-c's keys are C
 *     strings); a lone surrogate in a string becomes U+FFFD;
 *   - a body nested past SL_SCHEMA_MAX_DEPTH, or in UTF-16 or UTF-32, is
 *     SL_SCHEMA_UNREADABLE (Python reads it);
 *   - json_invalid follows Python 3.11's messages (see
 *     sl_schema_parse_json).
 *
 * Pure: json-c, PCRE2 and libc.  Compiling is not thread-safe; a compiled
 * schema is immutable and may be used by any number of threads at once.
 */
#ifndef SLUICE_SCHEMA_H
#define SLUICE_SCHEMA_H

#include <stddef.h>
#include <json-c/json.h>

#define SL_SCHEMA_MAX_ERRORS 100    /* items in one error array */
#define SL_SCHEMA_MAX_DEPTH 64      /* nesting of a document, of a schema */
#define SL_SCHEMA_MAX_NODES 10000   /* compiled nodes in one set */
#define SL_SCHEMA_MAX_STEPS 200000  /* validator steps for one value (or 16
                                       per JSON value in it, if more) */

/* Results of the validating functions besides 0 and -ENOMEM. */
#define SL_SCHEMA_INVALID 1         /* 422: items appended to errors */
#define SL_SCHEMA_UNREADABLE 2      /* 400: FastAPI's "There was an error
                                       parsing the body" (not UTF-8, nested
                                       past SL_SCHEMA_MAX_DEPTH, an integer
                                       of more than 4300 digits) */

typedef struct sl_schema_set sl_schema_set;
/* A compiled schema (the public sl_schema() names one in an app). */
typedef struct sl_schema sl_jschema;

/* A set of named schemas and of everything compiled against it.  NULL if
 * out of memory. */
sl_schema_set *sl_schema_set_new(void);

/* Frees the set and every schema compiled in it (and their patterns).
 * Values that validation produced are the caller's and stay valid. */
void sl_schema_set_free(sl_schema_set *set);

/*
 * Names a schema, for "$ref": "#/components/schemas/NAME".  The set keeps
 * a reference to schema; it is compiled when something refers to it (or by
 * sl_schema_get).  Returns 0, -EEXIST for a name already added, -EINVAL
 * for a name that is empty, longer than 255 bytes or holds '/' or '~', or
 * -ENOMEM; err (errlen bytes, may be NULL) says why.
 */
int sl_schema_set_add(sl_schema_set *set, const char *name, json_object *schema,
                      char *err, size_t errlen);

/* The named schemas as added, {"NAME": schema, ...} in the order added:
 * OpenAPI's components/schemas.  Borrowed; valid until the set is freed. */
json_object *sl_schema_set_components(const sl_schema_set *set);

/*
 * Compiles schema (a json-c object; the set keeps a reference) together
 * with every named schema it refers to.  *out is valid until the set is
 * freed.  Returns 0, -EINVAL with err naming the JSON Pointer of the
 * offending keyword and why ("/properties/price/minimum: not a number"),
 * or -ENOMEM.
 */
int sl_schema_compile(sl_schema_set *set, json_object *schema,
                      const sl_jschema **out, char *err, size_t errlen);

/* The same from JSON text (len bytes, need not be NUL-terminated). */
int sl_schema_compile_text(sl_schema_set *set, const char *text, size_t len,
                           const sl_jschema **out, char *err, size_t errlen);

/* The named schema NAME, compiled.  -ENOENT if there is none. */
int sl_schema_get(sl_schema_set *set, const char *name,
                  const sl_jschema **out, char *err, size_t errlen);

/* The JSON the schema was compiled from (borrowed), for OpenAPI. */
json_object *sl_schema_source(const sl_jschema *schema);

/* The schema's "default" (borrowed), or NULL with *has (if not NULL) 0
 * when it has none.  A default of null is NULL with *has 1. */
json_object *sl_schema_default(const sl_jschema *schema, int *has);

/*
 * Validates input (borrowed; NULL is JSON null) against schema.
 * loc_prefix (a json-c array of strings and integers, or NULL for none)
 * starts every error's "loc".
 *
 * Returns 0 with *out the validated value (a new reference; NULL for
 * null); the value may share unconverted parts of input, so treat it as
 * read-only or copy it.  Returns SL_SCHEMA_INVALID with FastAPI's error
 * items appended to errors (a json-c array; never more than
 * SL_SCHEMA_MAX_ERRORS items in it) and *out NULL; or -ENOMEM.
 */
int sl_schema_validate(const sl_jschema *schema, json_object *input,
                       json_object *loc_prefix, json_object **out,
                       json_object *errors);

/*
 * A parameter that arrived as text (query, header, cookie or path), as
 * FastAPI validates it: values[0..n) (lens[i] bytes each; lens NULL for
 * NUL-terminated strings).  An array schema gets every value as an array
 * of strings (a repeated query parameter); any other gets the last one, so
 * pass the one Starlette would use (the first for a header).  No values
 * (n == 0) is absent: "missing" at [where, name] with input null when
 * required, else the schema's default (a copy), else *out NULL.  Results
 * as sl_schema_validate.
 */
int sl_schema_validate_param(const sl_jschema *schema, const char *where,
                             const char *name, const char *const *values,
                             const size_t *lens, size_t n, int required,
                             json_object **out, json_object *errors);

/*
 * A JSON request body, as FastAPI reads and validates it: data[0..len).
 * An empty body or the JSON text null is absent (as in FastAPI): "missing"
 * at ["body"] with input null when required, else the default, else *out
 * NULL.  Text that is not JSON gives FastAPI's json_invalid item (see
 * sl_schema_parse_json).  Results as sl_schema_validate, plus
 * SL_SCHEMA_UNREADABLE.  The caller checks the Content-Type.
 */
int sl_schema_validate_body(const sl_jschema *schema, const char *data,
                            size_t len, int required, json_object **out,
                            json_object *errors);

/*
 * Parses data[0..len) as Python's json.loads does on the bytes (UTF-8,
 * an optional BOM; NaN, Infinity and -Infinity accepted; duplicate keys:
 * the last value, at the first key's place).  Returns 0 with *out (NULL
 * for null); SL_SCHEMA_INVALID with FastAPI's item appended to errors:
 *   {"type":"json_invalid","loc":["body",POS],"msg":"JSON decode error",
 *    "input":{},"ctx":{"error":"Expecting ',' delimiter"}}
 * where POS and the message are Python's (3.11: a trailing comma is
 * "Expecting property name enclosed in double quotes" or "Expecting
 * value"; 3.13 words it "Illegal trailing comma before end of object"), POS
 * counting characters; SL_SCHEMA_UNREADABLE; or -ENOMEM.  Bytes Python would
 * decode as UTF-16 or UTF-32 are SL_SCHEMA_UNREADABLE here, and so is
 * nesting past SL_SCHEMA_MAX_DEPTH (Python's RecursionError comes near
 * 1000).  A lone surrogate (\ud800, or its UTF-8 bytes) becomes U+FFFD:
 * strings are always UTF-8.  Floating point numbers serialize as Python's
 * repr prints them (1e+20, 0.1).
 */
int sl_schema_parse_json(const char *data, size_t len, json_object **out,
                         json_object *errors);

#endif
