/*
 * notes.c: a notes API on SQLite, written with sluice's declared routes.
 *
 *     POST   /notes            create a note: 201, Location and the note
 *     GET    /notes            a page of notes: ?limit=20&offset=0&tag=a&tag=b
 *     GET    /notes/{id}       one note, or 404
 *     PUT    /notes/{id}       replace a note
 *     PATCH  /notes/{id}       change the fields given
 *     DELETE /notes/{id}       204, or 404
 *
 * Every route needs `Authorization: Bearer $NOTES_TOKEN`; the notes live in
 * the SQLite file $NOTES_DB (default notes.db), which every worker shares.
 * README has how to build, run and test it, and FastAPI's version beside it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sqlite3.h>
#include <sluice.h>

/* JSON written as it reads: JSON({"a": 1}) is the string "{\"a\": 1}". */
#define JSON(...) #__VA_ARGS__

/* ---- the models: what FastAPI would take from Pydantic classes -------- */

static const char note_in[] = JSON({
    "type": "object", "title": "NoteIn",
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 100},
        "body": {"type": "string", "maxLength": 10000, "default": ""},
        "tags": {"type": "array", "maxItems": 10, "default": [],
                 "items": {"type": "string", "minLength": 1, "maxLength": 50}}
    },
    "required": ["title"]
});

/* PATCH: the same fields, none required; those absent stay as they are. */
static const char note_patch[] = JSON({
    "type": "object", "title": "NotePatch",
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 100},
        "body": {"type": "string", "maxLength": 10000},
        "tags": {"type": "array", "maxItems": 10,
                 "items": {"type": "string", "minLength": 1, "maxLength": 50}}
    }
});

static const char note_out[] = JSON({
    "type": "object", "title": "Note",
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "body": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}}
    },
    "required": ["id", "title", "body", "tags"]
});

static const char detail_out[] = JSON({
    "type": "object", "title": "Detail",
    "properties": {"detail": {"type": "string"}}, "required": ["detail"]
});

#define REF(name) "{\"$ref\":\"#/components/schemas/" name "\"}"

/* ---- the store: one SQLite connection per worker ---------------------- */

/*
 * Handlers run on the worker's pool threads, several at once.  A
 * connection and its prepared statements may be used by one thread at a
 * time, so `lock` is held from a statement's first bind to its reset.
 * That costs little: SQLite lets one writer in at a time anyway, and in
 * WAL mode the other workers' connections read while one writes.  Across
 * workers, a writer that finds the file locked waits (busy timeout)
 * instead of failing with SQLITE_BUSY.
 */
typedef struct store {
    sqlite3 *db;
    pthread_mutex_t lock;
    sqlite3_stmt *insert, *select, *list, *update, *delete;
    char *token;
} store;

#define BUSY_TIMEOUT_MS 5000
#define COLUMNS "id, title, body, tags"

/* tags: a JSON array of strings.  A note matches a tag filter (?1, a JSON
 * array) when it has every tag of it. */
static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS notes ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT," /* a deleted id is never reused */
    " title TEXT NOT NULL, body TEXT NOT NULL, tags TEXT NOT NULL)";

static int prepare(store *s, sqlite3_stmt **st, const char *sql)
{
    return sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
}

/* Switch the file to WAL and make the table.  WAL is a property of the
 * file: the first worker switches it, the others find it switched (the
 * pragma answers the mode in force). */
static int store_setup(store *s)
{
    sqlite3_stmt *wal = NULL;
    int rc = prepare(s, &wal, "PRAGMA journal_mode = WAL");
    if (rc == SQLITE_OK && (rc = sqlite3_step(wal)) == SQLITE_ROW)
        rc = strcmp((const char *)sqlite3_column_text(wal, 0), "wal") ? SQLITE_ERROR : SQLITE_OK;
    sqlite3_finalize(wal);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL);
    return rc;
}

static int store_open(store *s, const char *path)
{
    int rc = sqlite3_open(path, &s->db);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    /* Workers starting together on a new file each want it locked to
     * switch it to WAL, and SQLite answers all but one SQLITE_BUSY at
     * once, without waiting (to wait could deadlock).  So the switch is
     * tried again, for as long as the busy timeout. */
    for (int waited = 0; rc == SQLITE_OK; waited += 10) {
        rc = store_setup(s);
        if ((rc & 0xff) != SQLITE_BUSY || waited >= BUSY_TIMEOUT_MS)
            break;
        sqlite3_sleep(10);
        rc = SQLITE_OK;
    }
    if (rc == SQLITE_OK)
        rc = prepare(s, &s->insert, "INSERT INTO notes (title, body, tags)"
                     " VALUES (?1, ?2, ?3) RETURNING " COLUMNS);
    if (rc == SQLITE_OK)
        rc = prepare(s, &s->select, "SELECT " COLUMNS " FROM notes WHERE id = ?1");
    if (rc == SQLITE_OK)
        rc = prepare(s, &s->list, "SELECT " COLUMNS " FROM notes WHERE NOT EXISTS"
                     " (SELECT 1 FROM json_each(?1) AS want WHERE want.value NOT IN"
                     "  (SELECT value FROM json_each(notes.tags)))"
                     " ORDER BY id LIMIT ?2 OFFSET ?3");
    /* PUT and PATCH: a NULL parameter keeps its column. */
    if (rc == SQLITE_OK)
        rc = prepare(s, &s->update, "UPDATE notes SET title = coalesce(?1, title),"
                     " body = coalesce(?2, body), tags = coalesce(?3, tags)"
                     " WHERE id = ?4 RETURNING " COLUMNS);
    if (rc == SQLITE_OK)
        rc = prepare(s, &s->delete, "DELETE FROM notes WHERE id = ?1");
    if (rc != SQLITE_OK)
        fprintf(stderr, "notes: %s: %s\n", path,
                s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    return rc == SQLITE_OK ? 0 : -EIO;
}

static void store_close(store *s)
{
    sqlite3_finalize(s->insert);
    sqlite3_finalize(s->select);
    sqlite3_finalize(s->list);
    sqlite3_finalize(s->update);
    sqlite3_finalize(s->delete);
    /* The last connection to close checkpoints the WAL and removes it. */
    if (sqlite3_close(s->db) != SQLITE_OK)
        fprintf(stderr, "notes: close: %s\n", sqlite3_errmsg(s->db));
    pthread_mutex_destroy(&s->lock);
    free(s->token);
    free(s);
}

/* Each worker opens its own connection once it runs (not in sluice_app(),
 * which also runs in sluice's short-lived check process). */
static int worker_start(sl_app *app)
{
    const char *token = getenv("NOTES_TOKEN"), *path = getenv("NOTES_DB");
    if (token == NULL || *token == '\0') {
        fprintf(stderr, "notes: NOTES_TOKEN (the bearer token clients send) is not set\n");
        return 1;
    }
    store *s = calloc(1, sizeof *s);
    if (s == NULL || (s->token = strdup(token)) == NULL) {
        free(s);
        return 1;
    }
    pthread_mutex_init(&s->lock, NULL);
    if (store_open(s, path != NULL && *path != '\0' ? path : "notes.db") != 0) {
        store_close(s);
        return 1;
    }
    sl_app_set_data(app, s);
    return 0;
}

static int worker_stop(sl_app *app)
{
    store_close(sl_app_data(app));
    return 0;
}

/* ---- answers ------------------------------------------------------------ */

/* An error as FastAPI's HTTPException writes it: {"detail": "..."}. */
static int detail(sl_req *req, int status, const char *text)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "detail", json_object_new_string(text));
    sl_resp_status(req, status);
    return sl_resp_json(req, o);
}

/*
 * The bearer token, checked in this one place, a dependency of every
 * route: it hands the handler the store, so no handler can reach the notes
 * without it.
 * Answers as FastAPI's HTTPBearer does (0.141: no header, no credentials
 * or another scheme are 401 "Not authenticated"), and a wrong token as
 * FastAPI's tutorial does; both with WWW-Authenticate: Bearer.
 */
static int authorized(sl_req *req, void *user)
{
    (void)user;
    store *s = sl_app_data(sl_req_app(req));
    const char *h = sl_req_header(req, "Authorization");
    const char *sp = h != NULL ? strchr(h, ' ') : NULL, *why = "Not authenticated";
    if (sp != NULL && sp - h == 6 && strncasecmp(h, "Bearer", 6) == 0) {
        while (*sp == ' ' || *sp == '\t')
            sp++;
        size_t n = strlen(sp), want = strlen(s->token);
        while (n > 0 && strchr(" \t", sp[n - 1]) != NULL)
            n--;
        /* Every byte compared, so the time taken does not tell how much
         * of a guess was right. */
        unsigned char diff = n != want;
        for (size_t i = 0; i < want && n == want; i++)
            diff |= (unsigned char)(sp[i] ^ s->token[i]);
        if (!diff)
            return sl_req_set_value(req, "store", s, NULL) < 0 ? -ENOMEM : SL_NEXT;
        if (n > 0)
            why = "Could not validate credentials";
    }
    sl_resp_header(req, "WWW-Authenticate", "Bearer");
    detail(req, 401, why);
    return SL_OK;
}

static json_object *column_string(sqlite3_stmt *st, int i)
{
    return json_object_new_string_len((const char *)sqlite3_column_text(st, i),
                                      sqlite3_column_bytes(st, i));
}

static json_object *note_json(sqlite3_stmt *st)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(sqlite3_column_int64(st, 0)));
    json_object_object_add(o, "title", column_string(st, 1));
    json_object_object_add(o, "body", column_string(st, 2));
    json_object_object_add(o, "tags", json_tokener_parse((const char *)sqlite3_column_text(st, 3)));
    return o;
}

/* Bind a validated body's title, body and tags to ?1, ?2, ?3: NULL for a
 * field absent (PATCH), tags as JSON text.  The text stays the request's. */
static void bind_note(sqlite3_stmt *st, json_object *in)
{
    static const char *const fields[] = {"title", "body", "tags"};
    for (int i = 0; i < 3; i++) {
        json_object *v;
        if (!json_object_object_get_ex(in, fields[i], &v))
            sqlite3_bind_null(st, i + 1);
        else if (json_object_is_type(v, json_type_array))
            sqlite3_bind_text(st, i + 1, json_object_to_json_string_ext(v,
                              JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                              -1, SQLITE_STATIC);
        else
            sqlite3_bind_text(st, i + 1, json_object_get_string(v),
                              json_object_get_string_len(v), SQLITE_STATIC);
    }
}

/* Run a bound statement that returns at most one note, and reset it.
 * 0 and *note, -ENOENT when there is none, -EIO (logged) on failure. */
static int fetch(store *s, sqlite3_stmt *st, json_object **note)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *note = note_json(st);
    else if (rc != SQLITE_DONE)
        fprintf(stderr, "notes: %s\n", sqlite3_errmsg(s->db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

/* The note, 404 when there was none, 500 on failure. */
static int answer(sl_req *req, int rc, json_object *note)
{
    if (rc == -ENOENT)
        return detail(req, 404, "Note not found");
    return rc < 0 ? rc : sl_resp_json(req, note);
}

/* ---- the routes ----------------------------------------------------------- */

static int create_note(sl_req *req)
{
    store *s = sl_req_value(req, "store");
    json_object *note = NULL;
    pthread_mutex_lock(&s->lock);
    bind_note(s->insert, sl_req_json(req));
    int rc = fetch(s, s->insert, &note);
    pthread_mutex_unlock(&s->lock);
    if (rc == 0) {
        char where[48];
        snprintf(where, sizeof where, "/notes/%" PRId64,
                 json_object_get_int64(json_object_object_get(note, "id")));
        sl_resp_header(req, "Location", where);
    }
    return answer(req, rc == -ENOENT ? -EIO : rc, note);
}

static int list_notes(sl_req *req)
{
    store *s = sl_req_value(req, "store");
    json_object *want = json_object_new_array(), *page = json_object_new_array();
    for (size_t i = 0; i < sl_arg_count(req, "tag"); i++)
        json_object_array_add(want, json_object_new_string(sl_arg_str_at(req, "tag", i)));
    pthread_mutex_lock(&s->lock);
    sqlite3_bind_text(s->list, 1, json_object_to_json_string_ext(want, JSON_C_TO_STRING_PLAIN),
                      -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->list, 2, sl_arg_int(req, "limit"));
    sqlite3_bind_int64(s->list, 3, sl_arg_int(req, "offset"));
    int rc;
    while ((rc = sqlite3_step(s->list)) == SQLITE_ROW)
        json_object_array_add(page, note_json(s->list));
    if (rc != SQLITE_DONE)
        fprintf(stderr, "notes: %s\n", sqlite3_errmsg(s->db));
    sqlite3_reset(s->list);
    sqlite3_clear_bindings(s->list);
    pthread_mutex_unlock(&s->lock);
    json_object_put(want);
    if (rc != SQLITE_DONE) {
        json_object_put(page);
        return -EIO;
    }
    return sl_resp_json(req, page);
}

static int get_note(sl_req *req)
{
    store *s = sl_req_value(req, "store");
    json_object *note = NULL;
    pthread_mutex_lock(&s->lock);
    sqlite3_bind_int64(s->select, 1, sl_arg_int(req, "id"));
    int rc = fetch(s, s->select, &note);
    pthread_mutex_unlock(&s->lock);
    return answer(req, rc, note);
}

/* PUT (a NoteIn, its defaults filled: every field replaced) and PATCH (a
 * NotePatch: the fields given). */
static int update_note(sl_req *req)
{
    store *s = sl_req_value(req, "store");
    json_object *note = NULL;
    pthread_mutex_lock(&s->lock);
    bind_note(s->update, sl_req_json(req));
    sqlite3_bind_int64(s->update, 4, sl_arg_int(req, "id"));
    int rc = fetch(s, s->update, &note);
    pthread_mutex_unlock(&s->lock);
    return answer(req, rc, note);
}

static int delete_note(sl_req *req)
{
    store *s = sl_req_value(req, "store");
    pthread_mutex_lock(&s->lock);
    sqlite3_bind_int64(s->delete, 1, sl_arg_int(req, "id"));
    int rc = sqlite3_step(s->delete), gone = sqlite3_changes(s->db);
    if (rc != SQLITE_DONE)
        fprintf(stderr, "notes: %s\n", sqlite3_errmsg(s->db));
    sqlite3_reset(s->delete);
    pthread_mutex_unlock(&s->lock);
    if (rc != SQLITE_DONE)
        return -EIO;
    return gone ? SL_OK : detail(req, 404, "Note not found");   /* 204 */
}

static const sl_param_def list_params[] = {
    { .name = "limit", .in = SL_IN_QUERY, .type = SL_T_INT, .dflt = "20",
      .ge = "1", .le = "100", .description = "At most this many notes" },
    { .name = "offset", .in = SL_IN_QUERY, .type = SL_T_INT, .dflt = "0",
      .ge = "0", .description = "Skip this many notes first" },
    { .name = "tag", .in = SL_IN_QUERY, .flags = SL_MULTI, .dflt = "[]",
      .description = "Only notes with every tag given (repeatable)" },
    { .name = NULL }
};

static const sl_response_def need_token[] = {
    { .status = 401, .description = "No bearer token, or a wrong one", .schema = REF("Detail") },
    { .status = 0 }
};
static const sl_response_def need_note[] = {
    { .status = 401, .description = "No bearer token, or a wrong one", .schema = REF("Detail") },
    { .status = 404, .description = "No such note", .schema = REF("Detail") },
    { .status = 0 }
};

static const char *const notes_tag[] = {"notes", NULL};
static const sl_depend bearer[] = {{ authorized, NULL }, { NULL, NULL }};

static const sl_route_def routes[] = {
    { .method = "POST", .pattern = "/notes", .handler = create_note,
      .body = REF("NoteIn"), .status = 201, .response = REF("Note"),
      .responses = need_token, .summary = "Create a note", .tags = notes_tag, .depends = bearer },
    { .method = "GET", .pattern = "/notes", .handler = list_notes, .params = list_params,
      .response = "{\"type\":\"array\",\"items\":" REF("Note") "}",
      .responses = need_token, .summary = "List notes", .tags = notes_tag, .depends = bearer },
    { .method = "GET", .pattern = "/notes/{id:int}", .handler = get_note,
      .response = REF("Note"), .responses = need_note, .summary = "Read a note",
      .tags = notes_tag, .depends = bearer },
    { .method = "PUT", .pattern = "/notes/{id:int}", .handler = update_note,
      .body = REF("NoteIn"), .response = REF("Note"), .responses = need_note,
      .summary = "Replace a note", .tags = notes_tag, .depends = bearer },
    { .method = "PATCH", .pattern = "/notes/{id:int}", .handler = update_note,
      .body = REF("NotePatch"), .response = REF("Note"), .responses = need_note,
      .summary = "Change some fields of a note", .tags = notes_tag, .depends = bearer },
    { .method = "DELETE", .pattern = "/notes/{id:int}", .handler = delete_note,
      .status = 204, .responses = need_note, .summary = "Delete a note", .tags = notes_tag,
      .depends = bearer },
    { .method = NULL }
};

int sluice_app(sl_app *app)
{
    /* {"detail": ...} for every error, as FastAPI writes them. */
    sl_app_set_error_format(app, SL_ERRORS_FASTAPI);
    sl_on_worker_start(app, worker_start);
    sl_on_worker_stop(app, worker_stop);
    int rc = sl_schema(app, "NoteIn", note_in);
    if (rc == 0)
        rc = sl_schema(app, "NotePatch", note_patch);
    if (rc == 0)
        rc = sl_schema(app, "Note", note_out);
    if (rc == 0)
        rc = sl_schema(app, "Detail", detail_out);
    return rc != 0 ? rc : sl_routes(app, routes);
}
