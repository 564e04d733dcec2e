/*
 * apidocs.h: the app's OpenAPI document and its Swagger UI page
 * (--openapi-path, --docs-path, --docs-assets), made once when a worker
 * starts (api/openapi.h builds the document) and answered from memory
 * by the operator endpoints (endpoints.c): on the loop, GET and HEAD
 * only, before routing.  An app route of the same path is therefore
 * shadowed, as --health-path shadows one: the operator chose the path.
 */
#ifndef SLUICE_APIDOCS_H
#define SLUICE_APIDOCS_H

#include <stddef.h>
#include "api/app.h"
#include "config/config.h"

typedef struct sl_apidocs {
    char *json;             /* the document, or NULL: --openapi-path off */
    size_t json_len;
    char *html;             /* the page, or NULL: --docs-path off */
    size_t html_len;
    const char *openapi_path, *docs_path;  /* the config's, or NULL: off */
} sl_apidocs;

/* Whether an --openapi-path or --docs-path value turns it off ("off",
 * or empty). */
int sl_apidocs_path_off(const char *path);

/*
 * Build the document of `app` and the page, as cfg asks, into *d (zeroed
 * first).  The document's oddities (a route left out, an id declared
 * twice) are logged at `warn_level`.  Returns 0, or -ENOMEM (*d is then
 * empty and may be freed).  *d refers to cfg's strings.
 */
int sl_apidocs_build(sl_apidocs *d, const sl_app *app, const sl_config *cfg, int warn_level);

void sl_apidocs_free(sl_apidocs *d);

#endif
