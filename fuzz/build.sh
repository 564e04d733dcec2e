#!/bin/sh
# Build the libFuzzer targets.  Usage: fuzz/build.sh [OUTDIR]   (default fuzz/out)
# Each target is linked with only the src/ files it needs.  CC and
# FUZZ_CFLAGS may be overridden from the environment.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
out=${1:-$here/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)

CC=${CC:-clang}
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
-std=gnu11 -Wall -Wextra ${FUZZ_CFLAGS:-}"
INC="-I$top/src -I$top/include -I$top/tests/lib $(pkg-config --cflags json-c libuv fcgi)"
JSONC_LIBS=$(pkg-config --libs json-c)

build() {   # name, then extra sources/libs
    name=$1; shift
    echo "  CC   $out/fuzz_$name"
    # shellcheck disable=SC2086
    $CC $CFLAGS $INC -o "$out/fuzz_$name" "$here/fuzz_$name.c" "$@"
}

build fcgi_decode    "$top/src/proto/fcgi.c" "$top/src/util/buf.c"
build fcgi_roundtrip "$top/src/proto/fcgi.c" "$top/src/util/buf.c"
build fcgi_pairs     "$top/src/proto/fcgi.c" "$top/src/util/buf.c" "$top/tests/lib/fcgi_pair.c"
# shellcheck disable=SC2086
build store          "$top/src/api/request.c" "$top/src/proto/fcgi.c" "$top/src/proto/url.c" \
                     "$top/src/proto/path.c" "$top/src/proto/jsonbody.c" "$top/src/util/buf.c" \
                     $(pkg-config --libs libuv) $JSONC_LIBS
build scgi           "$top/src/proto/scgi.c" "$top/src/proto/cgi.c"
build router         "$top/src/api/router.c" "$top/src/proto/path.c"
build query          "$top/src/proto/url.c"
build multipart      "$top/src/proto/multipart.c" "$top/src/proto/hparam.c" \
                     "$top/src/proto/filename.c"
build path           "$top/src/proto/path.c"
# shellcheck disable=SC2086
build json           "$top/src/proto/jsonbody.c" $JSONC_LIBS
# shellcheck disable=SC2086
build schema         $(pkg-config --cflags libpcre2-8) "$top"/src/api/schema_*.c \
                     $JSONC_LIBS $(pkg-config --libs libpcre2-8) -lm
# shellcheck disable=SC2086
build params         $(pkg-config --cflags libpcre2-8) "$top/src/api/starlette.c" \
                     "$top/src/api/declare.c" "$top/src/api/router.c" "$top"/src/api/schema_*.c \
                     $JSONC_LIBS $(pkg-config --libs libpcre2-8) -lm
# shellcheck disable=SC2086
build cookie         "$top/src/api/cookie.c" \
                     "$top/src/api/cookie_sign.c" "$top/src/util/base64url.c" "$top/src/util/hmac.c" \
                     "$top/src/api/request.c" "$top/src/api/response.c" "$top/src/api/starlette.c" \
                     "$top/src/proto/fcgi.c" "$top/src/proto/url.c" "$top/src/proto/path.c" \
                     "$top/src/proto/jsonbody.c" "$top/src/util/buf.c" \
                     $(pkg-config --libs libuv) $JSONC_LIBS
echo "fuzz targets in $out"
