/* apidocs.c: the OpenAPI document and the docs page (see apidocs.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "api/openapi.h"
#include "util/buf.h"
#include "util/log.h"
#include "worker/apidocs.h"

int sl_apidocs_path_off(const char *path)
{
    return path == NULL || path[0] == '\0' || strcmp(path, "off") == 0;
}

/* s with &, <, >, " and ' as HTML's entities: a title or URL inside an
 * element or a double-quoted attribute. */
static int append_html(sl_buf *b, const char *s)
{
    int rc = 0;
    for (; *s != '\0' && rc == 0; s++) {
        switch (*s) {
        case '&': rc = sl_buf_append_str(b, "&amp;"); break;
        case '<': rc = sl_buf_append_str(b, "&lt;"); break;
        case '>': rc = sl_buf_append_str(b, "&gt;"); break;
        case '"': rc = sl_buf_append_str(b, "&quot;"); break;
        case '\'': rc = sl_buf_append_str(b, "&#39;"); break;
        default: rc = sl_buf_append(b, s, 1);
        }
    }
    return rc;
}

/* s as a JSON string, which is a JavaScript string too; json-c writes '/'
 * as "\/", so it never closes the <script> element. */
static int append_js_string(sl_buf *b, const char *s)
{
    json_object *o = json_object_new_string(s);
    if (o == NULL)
        return -ENOMEM;
    int rc = sl_buf_append_str(b, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return rc;
}

/*
 * FastAPI's get_swagger_ui_html() with its default parameters, the
 * script, CSS and favicon from `assets` (swagger-ui-dist's directory: the
 * favicon is the one it ships, so a page served offline asks nothing of
 * the outside), and no oauth2RedirectUrl: sluice serves no redirect page.
 */
static int docs_page(sl_buf *b, const char *title, const char *openapi_url, const char *assets)
{
    size_t n = strlen(assets);
    while (n > 0 && assets[n - 1] == '/')
        n--;
    char *base = strndup(assets, n);
    if (base == NULL)
        return -ENOMEM;
    int rc = 0;
    rc |= sl_buf_append_str(b,
        "<!DOCTYPE html>\n<html>\n<head>\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\n"
        "<link type=\"text/css\" rel=\"stylesheet\" href=\"");
    rc |= append_html(b, base);
    rc |= sl_buf_append_str(b, "/swagger-ui.css\">\n<link rel=\"shortcut icon\" href=\"");
    rc |= append_html(b, base);
    rc |= sl_buf_append_str(b, "/favicon-32x32.png\">\n<title>");
    rc |= append_html(b, title);
    rc |= sl_buf_append_str(b, " - Swagger UI</title>\n</head>\n<body>\n"
        "<div id=\"swagger-ui\">\n</div>\n<script src=\"");
    rc |= append_html(b, base);
    rc |= sl_buf_append_str(b, "/swagger-ui-bundle.js\"></script>\n"
        "<!-- `SwaggerUIBundle` is now available on the page -->\n"
        "<script>\nconst ui = SwaggerUIBundle({\n    url: ");
    rc |= append_js_string(b, openapi_url);
    rc |= sl_buf_append_str(b, ",\n"
        "\"dom_id\": \"#swagger-ui\",\n"
        "\"layout\": \"BaseLayout\",\n"
        "\"deepLinking\": true,\n"
        "\"showExtensions\": true,\n"
        "\"showCommonExtensions\": true,\n"
        "    presets: [\n"
        "        SwaggerUIBundle.presets.apis,\n"
        "        SwaggerUIBundle.SwaggerUIStandalonePreset\n"
        "        ],\n"
        "    })\n"
        "</script>\n</body>\n</html>\n");
    free(base);
    return rc < 0 ? -ENOMEM : 0;
}

int sl_apidocs_build(sl_apidocs *d, const sl_app *app, const sl_config *cfg, int warn_level)
{
    memset(d, 0, sizeof *d);
    /* No document, no page: the page shows nothing but the document. */
    if (sl_apidocs_path_off(cfg->openapi_path))
        return 0;
    /* root_path: the prefix the app is mounted at, once there is an option
     * for it (the document's servers; the page's URL gains it too). */
    sl_openapi_opts opts = {.root_path = NULL, .warn_level = warn_level};
    json_object *doc;
    int rc = sl_openapi_build(app, &opts, &doc);
    if (rc < 0)
        return rc;
    size_t len;
    const char *text = json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN, &len);
    d->json = text ? malloc(len) : NULL;
    if (d->json != NULL) {
        memcpy(d->json, text, len);
        d->json_len = len;
        d->openapi_path = cfg->openapi_path;
    }
    json_object_put(doc);
    if (d->json == NULL)
        return -ENOMEM;
    if (sl_apidocs_path_off(cfg->docs_path))
        return 0;
    sl_buf b;
    sl_buf_init(&b);
    if (docs_page(&b, sl_openapi_title(app), cfg->openapi_path, cfg->docs_assets) < 0) {
        sl_buf_free(&b);
        sl_apidocs_free(d);
        return -ENOMEM;
    }
    d->html = b.data;
    d->html_len = b.len;
    d->docs_path = cfg->docs_path;
    return 0;
}

void sl_apidocs_free(sl_apidocs *d)
{
    free(d->json);
    free(d->html);
    memset(d, 0, sizeof *d);
}
