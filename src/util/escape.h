/*
 * escape.h: bytes a peer sent, made safe for a log line, a JSON string or
 * a metrics label.  Every byte that could break a line or its quoting is
 * written as \xHH: control bytes, DEL, '"', '\' and bytes past ASCII.
 * The access log, the error log, crash reports and the scoreboard's route
 * names all use this one convention.
 */
#ifndef SLUICE_ESCAPE_H
#define SLUICE_ESCAPE_H

#include <stddef.h>
#include "util/buf.h"

/*
 * Append the NUL-terminated `s` to `b`, escaped.  With `utf8`, only bytes
 * that are not valid UTF-8 are escaped and everything else is kept as is
 * (for JSON strings, which json-c quotes itself but which must be UTF-8).
 * The data is NUL-terminated after it (the NUL not counted in len).
 * 0, or -ENOMEM.
 */
int sl_escape_append(sl_buf *b, const char *s, int utf8);

/*
 * `s` escaped (not the utf8 way) into dst[size], cut before an escape or
 * byte that does not fit, NUL-terminated (size > 0).  Returns its length.
 */
size_t sl_escape_cut(char *dst, size_t size, const char *s);

#endif
