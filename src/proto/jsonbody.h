/*
 * jsonbody.h: a request body as JSON.  Pure: bytes in, a json-c object out.
 */
#ifndef SLUICE_JSONBODY_H
#define SLUICE_JSONBODY_H

#include <stddef.h>
#include <json-c/json.h>

/*
 * Parse data[0..len) (need not be NUL-terminated) as one JSON text, in
 * json-c's strict mode (no comments, no trailing commas; json-c 0.16 still
 * reads NaN, Infinity and single-quoted strings), with nothing but
 * whitespace after it.  A bare number,
 * true, false or null is a JSON text too.  Returns a new object (one
 * reference for the caller), or NULL when the bytes are not JSON.  Note
 * that the JSON text "null" is also returned as NULL.
 */
json_object *sl_json_parse(const char *data, size_t len);

#endif
