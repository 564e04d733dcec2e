/*
 * session.c: a JSON object in a signed cookie (sl_session, sl_session_save
 * in sluice.h), as Starlette's SessionMiddleware keeps request.session.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "api/app.h"
#include "api/cookie.h"
#include "api/request.h"

/* SessionMiddleware's max_age: 14 days. */
#define SESSION_MAX_AGE (14 * 24 * 3600)

/*
 * The cookie's object when it verifies and is an object.  json-c's parser
 * is given the text the signature vouches for only, so a peer cannot feed
 * it anything; its nesting depth is json-c's default (32).
 */
static json_object *load(sl_req *req, const char *name)
{
    const char *text;
    int rc = sl_req_signed_cookie(req, name, &text);
    req->session_had = rc != -ENOENT && rc != -ENOKEY;
    if (rc == 0) {
        json_object *o = json_tokener_parse(text);
        if (o != NULL && json_object_is_type(o, json_type_object))
            return o;
        json_object_put(o);
    }
    return json_object_new_object();
}

json_object *sl_session(sl_req *req, const char *name)
{
    if (name == NULL || !sl_cookie_name_ok(name))
        return NULL;
    if (req->session != NULL)
        return strcmp(req->session_name, name) == 0 ? req->session : NULL;
    if (req->app == NULL || req->app->secret_len == 0)
        return NULL;
    char *copy = strdup(name);
    json_object *o = copy != NULL ? load(req, name) : NULL;
    if (o == NULL) {
        free(copy);
        return NULL;
    }
    req->session = o;
    req->session_name = copy;
    return o;
}

int sl_session_save(sl_req *req, const sl_cookie *opts)
{
    static const sl_cookie defaults = {
        .max_age = SESSION_MAX_AGE, .httponly = true, .samesite = SL_SAMESITE_LAX,
    };
    if (req->session == NULL)
        return -EINVAL;
    if (opts == NULL)
        opts = &defaults;
    if (json_object_object_length(req->session) == 0)
        return req->session_had ? sl_resp_delete_cookie(req, req->session_name, opts) : 0;
    const char *text = json_object_to_json_string_ext(req->session, JSON_C_TO_STRING_PLAIN);
    if (text == NULL)
        return -ENOMEM;
    return sl_resp_set_signed_cookie(req, req->session_name, text, opts);
}
