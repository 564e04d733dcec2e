/*
 * multipart.c: the multipart/form-data parser (see multipart.h).
 *
 * The body is a state machine over bytes:
 *
 *   PREAMBLE -> (delimiter) -> AFTER -> CR -> LF: a boundary line
 *                                    -> PAD* -> CR -> LF: a boundary line
 *                                    -> '-' -> '-': the close delimiter
 *   boundary line -> HEADERS -> (empty line) -> DATA -> (delimiter) -> AFTER
 *   close delimiter -> END -> EPILOGUE
 *
 * Content is handed out as slices of the input, never copied.  The only
 * bytes carried from one call to the next are a partly matched delimiter,
 * and those are known without keeping them: they are the first `held`
 * bytes of p->delim (plus, after a whole delimiter, the one byte that
 * followed, kept in delim[dlen]).  When the match fails they are content,
 * and are handed out from p->delim.  A delimiter can only start at a CR,
 * and a boundary holds no CR, so a failed match never hides the start of
 * another one inside the bytes matched so far.
 *
 * Split invariance: every event depends only on the bytes consumed before
 * it, and a call consumes no byte past the point where an event becomes
 * known.  The limits are checked where that keeps them deterministic:
 * max_total when the byte after the last allowed one is offered, a part's
 * size by handing out exactly the allowed bytes and then failing, the
 * header block before storing each byte.
 *
 * Against Starlette (python-multipart's MultipartParser underneath), on
 * the same RFCs, this parser differs in:
 *  - the preamble: any bytes before the first delimiter are ignored, as
 *    RFC 2046 says; python-multipart skips leading CR and LF only and
 *    refuses anything else;
 *  - transport padding (spaces, tabs) after a delimiter is accepted;
 *    python-multipart wants the CRLF at once;
 *  - filename* (RFC 8187) is decoded and wins over filename (RFC 6266's
 *    rule); python-multipart ignores every parameter with a '*', as RFC
 *    7578 section 4.2 says senders must not use it;
 *  - a full Windows path in filename ("C:\dir\f.txt") is reported as sent,
 *    and sl_filename_sanitise() keeps "f.txt"; python-multipart cuts it
 *    while parsing;
 *  - stricter: a repeated name, filename or filename* parameter, a
 *    repeated Content-Disposition or Content-Type, a disposition type other
 *    than form-data, a control byte in the headers, and a boundary over
 *    70 characters (python-multipart allows 256) are errors, where
 *    python-multipart keeps the last one or lets them through; two values
 *    for one field would mean different things to different parsers;
 *  - an unterminated body (no close delimiter) is an error from
 *    sl_mp_finish(); python-multipart's finalize() accepts it;
 *  - one limit each for the content of fields and of files (Starlette
 *    bounds fields only, at 1 MiB), one on the part count (Starlette
 *    counts files and fields apart, 1000 each), and one on a part's whole
 *    header block (python-multipart: 8 headers of 4224 bytes each).
 * Alike: a delimiter followed by something else is content; the epilogue
 * is ignored; Content-Transfer-Encoding is not applied; header names are
 * tokens and any case; lines end in CRLF exactly; \" and \\ are the only
 * escapes in a quoted parameter.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "proto/hparam.h"
#include "proto/multipart.h"

enum {
    ST_PREAMBLE = 0,        /* before the first delimiter: bytes dropped */
    ST_DATA,                /* a part's content */
    ST_AFTER,               /* a whole delimiter: what follows decides */
    ST_DASH,                /* ... and '-': a second one closes the body */
    ST_CR,                  /* ... and CR: LF ends the boundary line */
    ST_PAD,                 /* ... and transport padding: more, or CR */
    ST_PAD_CR,              /* ... padding and CR: LF must follow */
    ST_HEADERS,             /* a part's header block */
    ST_END,                 /* the close delimiter was read: END is due */
    ST_EPILOGUE,            /* after END: bytes dropped */
    ST_ERROR
};

/* RFC 2046 bchars, space included (the caller checks it is not last). */
static int is_bchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z'))
        return 1;
    return c != '\0' && strchr("'()+_,-./:=? ", c) != NULL;
}

static int is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* ---- the boundary ----------------------------------------------------- */

/* A boundary as RFC 2046 has it: 1 to 70 bchars, not ending in a space. */
static int boundary_ok(const char *b, size_t n)
{
    size_t i;

    if (n == 0 || n > SL_MP_BOUNDARY_MAX || b[n - 1] == ' ')
        return 0;
    for (i = 0; i < n; i++)
        if (!is_bchar((unsigned char)b[i]))
            return 0;
    return 1;
}

int sl_mp_boundary(const char *ctype, size_t len, const char **b,
                   size_t *blen, const char **reason)
{
    size_t pos = 0, ms;
    sl_hspan name, val, found = { 0, 0, 0 };
    int rc, have = 0;

    if (ctype == NULL) {
        *reason = "no Content-Type";
        return -EINVAL;
    }
    while (pos < len && is_ows((unsigned char)ctype[pos]))
        pos++;
    ms = pos;
    while (pos < len && ctype[pos] != ';' && !is_ows((unsigned char)ctype[pos]))
        pos++;
    if (!sl_hparam_ieq(ctype + ms, pos - ms, "multipart/form-data")) {
        *reason = "Content-Type is not multipart/form-data";
        return -EINVAL;
    }
    while ((rc = sl_hparam_next(ctype, len, &pos, &name, &val, reason)) == 1) {
        if (!sl_hparam_ieq(ctype + name.off, name.len, "boundary"))
            continue;
        if (have) {
            *reason = "more than one boundary parameter";
            return -EINVAL;
        }
        have = 1;
        found = val;
    }
    if (rc < 0)
        return rc;
    if (!have) {
        *reason = "multipart/form-data without a boundary";
        return -EINVAL;
    }
    if (found.len > SL_MP_BOUNDARY_MAX) {
        *reason = "boundary longer than 70 characters";
        return -EINVAL;
    }
    if (!boundary_ok(ctype + found.off, found.len) ||
        (!found.quoted && memchr(ctype + found.off, ' ', found.len))) {
        *reason = "boundary empty or with characters RFC 2046 does not allow";
        return -EINVAL;
    }
    *b = ctype + found.off;
    *blen = found.len;
    return 0;
}

/* ---- the parser --------------------------------------------------------- */

int sl_mp_init(sl_mp_parser *p, const char *b, size_t blen,
               const sl_mp_limits *lim)
{
    memset(p, 0, sizeof(*p));
    if (b == NULL || !boundary_ok(b, blen) || lim == NULL ||
        lim->max_parts == 0 || lim->max_header_bytes < 4 ||
        lim->max_header_bytes > SL_MP_HEADER_LIMIT_MAX)
        return -EINVAL;
    p->hdr = malloc(lim->max_header_bytes);
    if (p->hdr == NULL)
        return -ENOMEM;
    p->lim = *lim;
    memcpy(p->delim, "\r\n--", 4);
    memcpy(p->delim + 4, b, blen);
    p->dlen = 4 + blen;
    /*
     * The first delimiter may start the body: as if a CRLF came before
     * it.  Were the first bytes something else, those two are dropped with
     * the rest of the preamble.
     */
    p->held = 2;
    p->state = ST_PREAMBLE;
    return 0;
}

void sl_mp_free(sl_mp_parser *p)
{
    free(p->hdr);
    p->hdr = NULL;
    p->state = ST_ERROR;
    p->error = SL_MP_EMALFORMED;
    p->reason = "parser freed";
}

static void fail(sl_mp_parser *p, sl_mp_event *ev, enum sl_mp_error e,
                 const char *reason)
{
    p->state = ST_ERROR;
    p->error = e;
    p->reason = reason;
    memset(ev, 0, sizeof(*ev));
    ev->type = SL_MP_ERROR;
    ev->error = e;
    ev->reason = reason;
}

/*
 * An error to report on the next call, after the event this one yields:
 * the end of the part before a part too many, or the content up to a
 * part's limit.
 */
static void fail_next(sl_mp_parser *p, enum sl_mp_error e, const char *reason)
{
    p->pending = e;
    p->pending_reason = reason;
}

/*
 * Hand out d[0..n) as content, or as much of it as the part's limit still
 * allows, the error following on the next call.  Returns the bytes handed
 * out (0 with the error when none are).
 */
static size_t emit(sl_mp_parser *p, sl_mp_event *ev, const char *d, size_t n)
{
    if (p->part_max != 0 && n > p->part_max - p->part_size) {
        uint64_t room = p->part_max - p->part_size;
        const char *why = p->part_is_file ? "a file larger than the limit"
                                          : "a field larger than the limit";
        if (room == 0) {
            fail(p, ev, SL_MP_EPART_SIZE, why);
            return 0;
        }
        n = (size_t)room;
        fail_next(p, SL_MP_EPART_SIZE, why);
    }
    p->part_size += n;
    ev->type = SL_MP_DATA;
    ev->data = d;
    ev->len = n;
    return n;
}

/*
 * The bytes matched so far were not a delimiter: content in a part (from
 * p->delim, which holds the same bytes), dropped in the preamble.  The
 * byte that broke the match is looked at again, as it may start one.
 */
static size_t near_miss(sl_mp_parser *p, sl_mp_event *ev)
{
    size_t n = p->held;

    p->held = 0;
    p->state = p->in_part ? ST_DATA : ST_PREAMBLE;
    if (p->in_part)
        emit(p, ev, p->delim, n);
    return 0;
}

/* A boundary line is complete (its LF consumed): the next part's headers. */
static size_t boundary_line(sl_mp_parser *p, sl_mp_event *ev)
{
    p->held = 0;
    if (p->in_part) {
        ev->type = SL_MP_PART_END;
        p->in_part = 0;
    }
    if (p->parts >= p->lim.max_parts) {
        if (ev->type == SL_MP_PART_END)
            fail_next(p, SL_MP_EPARTS, "more parts than the limit");
        else
            fail(p, ev, SL_MP_EPARTS, "more parts than the limit");
        return 1;
    }
    p->parts++;
    p->state = ST_HEADERS;
    p->hlen = 0;
    p->line = 0;
    p->colon = 0;
    return 1;
}

/* The close delimiter is complete (its second '-' consumed). */
static size_t close_delim(sl_mp_parser *p, sl_mp_event *ev)
{
    p->held = 0;
    if (p->in_part) {
        ev->type = SL_MP_PART_END;
        p->in_part = 0;
        p->state = ST_END;
    } else {
        ev->type = SL_MP_END;
        p->state = ST_EPILOGUE;
    }
    return 1;
}

/*
 * The header block hdr[0..hlen) is complete and its lines well formed
 * (header_bytes() checked them): find the headers we use, fill ev->part.
 */
static int headers_done(sl_mp_parser *p, sl_mp_event *ev, const char **reason)
{
    char *h = p->hdr;
    size_t s = 0, end = p->hlen - 2;     /* without the empty line */
    size_t disp = 0, disp_len = 0, ct = 0, ct_len = 0;
    int have_disp = 0, have_ct = 0;
    sl_form_disposition d;

    while (s < end) {
        char *cr = memchr(h + s, '\r', end - s);   /* every line has one */
        char *colon = memchr(h + s, ':', (size_t)(cr - (h + s)));
        size_t nlen = (size_t)(colon - (h + s));
        size_t vs = (size_t)(colon + 1 - h), ve = (size_t)(cr - h);

        while (vs < ve && is_ows((unsigned char)h[vs]))
            vs++;
        while (ve > vs && is_ows((unsigned char)h[ve - 1]))
            ve--;
        if (sl_hparam_ieq(h + s, nlen, "content-disposition")) {
            if (have_disp++) {
                *reason = "a part with two Content-Disposition headers";
                return -EINVAL;
            }
            disp = vs;
            disp_len = ve - vs;
        } else if (sl_hparam_ieq(h + s, nlen, "content-type")) {
            if (have_ct++) {
                *reason = "a part with two Content-Type headers";
                return -EINVAL;
            }
            ct = vs;
            ct_len = ve - vs;
        }
        s = (size_t)(cr - h) + 2;
    }
    if (!have_disp) {
        *reason = "a part without Content-Disposition";
        return -EINVAL;
    }
    /* Each value is followed by white space or its line's CR. */
    if (sl_form_disposition_parse(h, disp, disp_len, &d, reason) < 0)
        return -EINVAL;
    memset(&ev->part, 0, sizeof(ev->part));
    ev->part.name = d.name;
    ev->part.name_len = d.name_len;
    ev->part.filename = d.filename;
    ev->part.filename_len = d.filename_len;
    if (have_ct) {
        h[ct + ct_len] = '\0';
        ev->part.content_type = h + ct;
        ev->part.content_type_len = ct_len;
    }
    ev->type = SL_MP_PART;
    return 0;
}

/*
 * Header block bytes: each is checked as it comes, so that a malformed
 * block fails where it goes wrong rather than at the size limit.
 */
static size_t header_bytes(sl_mp_parser *p, const char *in, size_t len,
                           sl_mp_event *ev)
{
    size_t i;
    const char *reason = NULL;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        size_t at = p->hlen;

        if (at == p->lim.max_header_bytes) {
            fail(p, ev, SL_MP_EHEADERS, "part headers larger than the limit");
            return i;
        }
        p->hdr[p->hlen++] = (char)c;
        if (at > p->line && p->hdr[at - 1] == '\r') {
            if (c != '\n')
                reason = "a CR without LF in part headers";
            else if (at - 1 == p->line) {
                /* The empty line: the block is complete. */
                if (headers_done(p, ev, &reason) < 0) {
                    fail(p, ev, SL_MP_EMALFORMED, reason);
                    return i + 1;
                }
                p->state = ST_DATA;
                p->in_part = 1;
                p->part_size = 0;
                p->part_is_file = ev->part.filename != NULL;
                p->part_max = p->part_is_file ? p->lim.max_file
                                              : p->lim.max_field;
                return i + 1;
            } else if (!p->colon)
                reason = "a part header line without ':'";
            p->line = p->hlen;
            p->colon = 0;
        } else if (c == '\r') {
            continue;
        } else if (c == '\n') {
            reason = "a LF without CR in part headers";
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            reason = "a control character in part headers";
        } else if (at == p->line && is_ows(c)) {
            reason = "a folded part header line";
        } else if (!p->colon) {
            if (c == ':' && at == p->line)
                reason = "a part header with an empty name";
            else if (c == ':')
                p->colon = 1;
            else if (!sl_is_tchar(c))
                reason = "a part header name with a character not allowed";
        }
        if (reason != NULL) {
            fail(p, ev, SL_MP_EMALFORMED, reason);
            return i + 1;
        }
    }
    return len;
}

/* One step: consumes bytes, or yields an event, or changes state. */
static size_t step(sl_mp_parser *p, const char *in, size_t len,
                   sl_mp_event *ev)
{
    unsigned char c = (unsigned char)in[0];
    const char *cr;
    size_t n;

    switch (p->state) {
    case ST_PREAMBLE:
    case ST_DATA:
        if (p->held == 0) {
            cr = memchr(in, '\r', len);
            n = cr ? (size_t)(cr - in) : len;
            if (n > 0)
                return p->state == ST_DATA ? emit(p, ev, in, n) : n;
            p->held = 1;
            return 1;
        }
        if (c != (unsigned char)p->delim[p->held])
            return near_miss(p, ev);
        if (++p->held == p->dlen)
            p->state = ST_AFTER;
        return 1;
    case ST_AFTER:
        if (c == '-' || c == '\r') {
            p->delim[p->dlen] = (char)c;
            p->state = c == '-' ? ST_DASH : ST_CR;
            return 1;
        }
        if (is_ows(c)) {
            p->state = ST_PAD;
            return 1;
        }
        return near_miss(p, ev);
    case ST_DASH:
        if (c == '-')
            return close_delim(p, ev);
        p->held = p->dlen + 1;
        return near_miss(p, ev);
    case ST_CR:
        if (c == '\n')
            return boundary_line(p, ev);
        p->held = p->dlen + 1;
        return near_miss(p, ev);
    case ST_PAD:
        for (n = 0; n < len && is_ows((unsigned char)in[n]); n++)
            ;
        if (n > 0)
            return n;
        if (c == '\r') {
            p->state = ST_PAD_CR;
            return 1;
        }
        fail(p, ev, SL_MP_EMALFORMED, "bytes after a boundary delimiter");
        return 0;
    case ST_PAD_CR:
        if (c == '\n')
            return boundary_line(p, ev);
        fail(p, ev, SL_MP_EMALFORMED, "a CR without LF after a boundary");
        return 0;
    case ST_HEADERS:
        return header_bytes(p, in, len, ev);
    default:
        fail(p, ev, SL_MP_EMALFORMED, "parser in a bad state");
        return 0;
    }
}

size_t sl_mp_parse(sl_mp_parser *p, const char *in, size_t len,
                   sl_mp_event *ev)
{
    size_t off = 0;

    memset(ev, 0, sizeof(*ev));
    if (p->state == ST_ERROR) {
        ev->type = SL_MP_ERROR;
        ev->error = p->error;
        ev->reason = p->reason;
        return 0;
    }
    if (p->pending != SL_MP_OK) {
        fail(p, ev, p->pending, p->pending_reason);
        return 0;
    }
    if (p->state == ST_END) {
        ev->type = SL_MP_END;
        p->state = ST_EPILOGUE;
        return 0;
    }
    if (p->state == ST_EPILOGUE)
        return len;
    if (p->lim.max_total != 0 && len > p->lim.max_total - p->total) {
        len = (size_t)(p->lim.max_total - p->total);
        if (len == 0) {
            fail(p, ev, SL_MP_ETOTAL, "a body larger than the limit");
            return 0;
        }
    }
    while (ev->type == SL_MP_NONE && off < len)
        off += step(p, in + off, len - off, ev);
    p->total += off;
    return off;
}

int sl_mp_finish(sl_mp_parser *p, sl_mp_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    if (p->state == ST_END || p->state == ST_EPILOGUE) {
        ev->type = SL_MP_END;
        p->state = ST_EPILOGUE;
        return 0;
    }
    if (p->state == ST_ERROR) {
        ev->type = SL_MP_ERROR;
        ev->error = p->error;
        ev->reason = p->reason;
        return -EINVAL;
    }
    if (p->pending != SL_MP_OK)
        fail(p, ev, p->pending, p->pending_reason);
    else
        fail(p, ev, SL_MP_EMALFORMED, "a body that ends before its close "
                                      "delimiter");
    return -EINVAL;
}
