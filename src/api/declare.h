/*
 * declare.h: a route record (sluice.h's sl_route_def) compiled into what
 * serving it needs: every parameter with its JSON Schema compiled, the
 * body's schema, and the record's documentation, all copied.  The route
 * table keeps one per declared route (sl_route_target.decl), so everything
 * the OpenAPI document says about a route is read from here:
 *
 *   for (size_t i = 0; (t = sl_router_target_at(app->router, i)); i++)
 *       t->decl: NULL for a route registered with sl_route()
 *
 * A parameter's schema is what FastAPI would publish for it: e.g.
 * {"type":"integer","minimum":1,"maximum":100,"default":10}, or for a
 * repeated query parameter {"type":"array","items":{"type":"string"},
 * "default":[]}; sl_schema_source() returns it.  Choices are a string
 * Enum ({"type":"string","enum":[...],"title":NAME}), as Pydantic writes a
 * str Enum class.
 *
 * Not thread-safe while building; a built decl is read-only.
 */
#ifndef SLUICE_DECLARE_H
#define SLUICE_DECLARE_H

#include <stddef.h>
#include <sluice.h>
#include "api/schema.h"

/* Bounds on one record, so that a table is never an unbounded loop. */
#define SL_DECL_MAX_PARAMS 64
#define SL_DECL_MAX_RESPONSES 64
#define SL_DECL_MAX_TAGS 64
#define SL_DECL_MAX_CHOICES 256
#define SL_DECL_MAX_DEPENDS 64

/* One parameter, declared or (path parameters) implied by the pattern. */
typedef struct sl_decl_param {
    char *name;             /* as declared (a header's HTTP name as given) */
    sl_in in;
    sl_type type;
    unsigned flags;         /* SL_MULTI, SL_DEPRECATED; SL_REQUIRED as
                               declared (path parameters: always set) */
    int required;           /* absent is a "missing" error */
    int implicit;           /* a path parameter the table does not declare */
    int has_default;        /* the schema's "default" fills it when absent */
    const char *where;      /* "path", "query", "header", "cookie" */
    char *description;      /* or NULL */
    const sl_jschema *schema;    /* compiled in the app's set; its source
                                   (sl_schema_source) is the JSON Schema */
    char *cgi;              /* a header: its CGI name ("HTTP_X_TOKEN",
                               "CONTENT_TYPE"); else NULL */
    int path_index;         /* a path parameter: its place among the
                               pattern's parameters (sl_match.params) */
} sl_decl_param;

/* A documented response besides the success one. */
typedef struct sl_decl_response {
    int status;
    char *description;      /* or NULL */
    const sl_jschema *schema;    /* or NULL */
} sl_decl_response;

typedef struct sl_decl {
    char *method;
    char *pattern;
    unsigned flags;         /* SL_LOOP, SL_ENCODED_SLASH, SL_BODY_OPTIONAL */
    /* In the order they are validated, FastAPI's: path (as declared, then
     * those only the pattern names), query, header, cookie (each group in
     * the order of the table). */
    sl_decl_param *params;
    size_t nparams;
    int has_query, has_cookie;      /* whether to parse those at all */
    const sl_jschema *body;  /* or NULL */
    int body_required;
    json_object *body_loc;  /* ["body"], the prefix of its errors' loc */
    int status;             /* the success status, 200 unless declared */
    const sl_jschema *response;      /* or NULL */
    sl_decl_response *responses;
    size_t nresponses;
    char *summary, *description, *operation_id;     /* or NULL */
    char **tags;            /* ntags strings */
    size_t ntags;
    int deprecated;
    void *user;
    sl_depend *depends;     /* run before the handler (api/middleware.h) */
    size_t ndepends;
} sl_decl;

/*
 * Compile the record `def` against the schema set `set` (named schemas
 * its body and responses refer to must be in it already).  Returns 0 with
 * *out (free with sl_decl_free()); -EINVAL with why[0..whylen) saying what
 * is wrong in one line ("query parameter 'limit': default '0' is refused by
 * its own rules: Input should be greater than or equal to 1"); -ENOMEM.
 * Checks the pattern as the router would and the path parameters against
 * it, but does not add the route anywhere.
 */
int sl_decl_build(sl_schema_set *set, const sl_route_def *def, sl_decl **out,
                  char *why, size_t whylen);

void sl_decl_free(sl_decl *d);

/* The declared parameter `name` of d, or NULL. */
const sl_decl_param *sl_decl_find(const sl_decl *d, const char *name);

/* Whether the route answers `method` (as the router decides: its own
 * method, HEAD for GET, anything for "*"). */
int sl_decl_method_matches(const sl_decl *d, const char *method);

#endif
