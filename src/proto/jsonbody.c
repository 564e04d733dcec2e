/* jsonbody.c: a request body as JSON (see jsonbody.h). */
#include <stdint.h>
#include "proto/jsonbody.h"

json_object *sl_json_parse(const char *data, size_t len)
{
    if (len > (size_t)INT32_MAX)
        return NULL;
    json_tokener *tok = json_tokener_new();
    if (tok == NULL)
        return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *o = json_tokener_parse_ex(tok, data ? data : "", (int)len);
    enum json_tokener_error err = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    /*
     * A number or literal that ends with the body leaves json-c waiting for
     * more ("42" could go on as "421"): the end of the body ends it.
     */
    if (o == NULL && err == json_tokener_continue && end == len) {
        o = json_tokener_parse_ex(tok, "", 1);
        err = json_tokener_get_error(tok);
        end = len;
    }
    /* Trailing bytes after the value, or an incomplete value: not JSON. */
    if (o != NULL && (err != json_tokener_success || end != len)) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}
