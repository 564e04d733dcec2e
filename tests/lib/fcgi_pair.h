/*
 * fcgi_pair.h: encoding one FastCGI name-value pair, for the tests and the
 * fuzzers that build PARAMS and GET_VALUES streams.  sluice itself only
 * reads pairs (proto/fcgi.h) and writes its GET_VALUES answer its own way.
 */
#ifndef SLUICE_TEST_FCGI_PAIR_H
#define SLUICE_TEST_FCGI_PAIR_H

#include <stddef.h>
#include "util/buf.h"

/* Append one name-value pair: each length in 1 byte below 128, else 4
 * bytes with the top bit set.  0, or -ENOMEM/-E2BIG. */
int fcgi_pair_encode(sl_buf *out, const char *name, size_t nlen,
                     const char *value, size_t vlen);

#endif
