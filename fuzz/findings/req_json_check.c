/*
 * req_json_check: run src/request.c's sl_req_json logic on a file's exact
 * bytes and print what a handler would get back (and what sl_resp_json
 * would send when echoing it).  With a second argument, also show the
 * json-c "flush" idiom (json_tokener_parse_ex(tok, "", 1) after
 * json_tokener_continue), which accepts bare top-level scalars.
 *
 * Build: cc -I/usr/include/json-c -o req_json_check req_json_check.c -ljson-c
 * Run:   ./req_json_check json-bare-scalar flush
 *        ./req_json_check json-lenient
 */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>

#define FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

int main(int argc, char **argv)
{
    static char body[1 << 20];
    FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
    if (f == NULL)
        return 2;
    size_t len = fread(body, 1, sizeof(body), f);
    fclose(f);

    /* sl_req_json */
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error err = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (o != NULL && (err != json_tokener_success || end != len)) {
        json_object_put(o);
        o = NULL;
    }
    printf("len=%zu err=%s parse_end=%zu -> %s\n", len,
           json_tokener_error_desc(err), end,
           o ? json_object_to_json_string_ext(o, FLAGS) : "NULL (not JSON)");
    json_object_put(o);

    if (argc > 2) {
        json_tokener_reset(tok);
        o = json_tokener_parse_ex(tok, body, (int)len);
        if (o == NULL && json_tokener_get_error(tok) == json_tokener_continue)
            o = json_tokener_parse_ex(tok, "", 1);
        printf("with flush: %s\n",
               o ? json_object_to_json_string_ext(o, FLAGS) : "NULL");
        json_object_put(o);
    }
    json_tokener_free(tok);
    return 0;
}
