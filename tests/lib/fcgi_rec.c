/* fcgi_rec.c: FastCGI records in the tests (see fcgi_rec.h). */
#include <string.h>
#include <fastcgi.h>
#include "fcgi_rec.h"

int fcgi_rec_next(const char *p, size_t len, fcgi_rec *rec, size_t *used)
{
    const unsigned char *u = (const unsigned char *)p;
    if (len < FCGI_HEADER_LEN)
        return 0;
    rec->version = u[0];
    rec->type = u[1];
    rec->id = (uint16_t)(u[2] << 8 | u[3]);
    rec->clen = (size_t)(u[4] << 8 | u[5]);
    rec->plen = u[6];
    if (len < FCGI_HEADER_LEN + rec->clen + rec->plen)
        return 0;
    rec->content = p + FCGI_HEADER_LEN;
    *used = FCGI_HEADER_LEN + rec->clen + rec->plen;
    return 1;
}

void fcgi_rec_put(sl_buf *out, uint8_t type, uint16_t id, const void *content,
                  size_t clen)
{
    static const char zeros[8];
    size_t plen = (8 - clen % 8) % 8;
    unsigned char h[8] = {
        FCGI_VERSION_1, type, (unsigned char)(id >> 8), (unsigned char)id,
        (unsigned char)(clen >> 8), (unsigned char)clen, (unsigned char)plen, 0,
    };
    sl_buf_append(out, h, sizeof h);
    sl_buf_append(out, content, clen);
    sl_buf_append(out, zeros, plen);
}

void fcgi_rec_begin(sl_buf *out, uint16_t id, int keep)
{
    unsigned char b[8] = {0, FCGI_RESPONDER, keep ? FCGI_KEEP_CONN : 0, 0, 0, 0, 0, 0};
    fcgi_rec_put(out, FCGI_BEGIN_REQUEST, id, b, sizeof b);
}

void fcgi_rec_stream(sl_buf *out, uint8_t type, uint16_t id, const void *data,
                     size_t len, size_t chunk)
{
    const char *p = data;
    while (len > 0) {
        size_t n = len < chunk ? len : chunk;
        fcgi_rec_put(out, type, id, p, n);
        p += n;
        len -= n;
    }
    fcgi_rec_put(out, type, id, NULL, 0);
}

int fcgi_rec_answer(const char *p, size_t len, uint16_t id, sl_buf *stdout_bytes,
                    int *pstatus, size_t *used)
{
    fcgi_rec r;
    size_t n;
    *used = 0;
    while (fcgi_rec_next(p + *used, len - *used, &r, &n) == 1) {
        *used += n;
        if (r.version != FCGI_VERSION_1 || r.id != id || r.plen > 7 ||
            (r.clen + r.plen) % 8 != 0)
            return -1;
        if (r.type == FCGI_STDOUT) {
            sl_buf_append(stdout_bytes, r.content, r.clen);
        } else if (r.type == FCGI_END_REQUEST && r.clen == 8) {
            *pstatus = (unsigned char)r.content[4];
            return 1;
        } else {
            return -1;
        }
    }
    return 0;
}
