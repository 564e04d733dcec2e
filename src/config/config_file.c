/*
 * config_file.c: the INI config file (see config_file.h).  Keys are the
 * long option names, section-less or under [sluice], as in uWSGI's --ini
 * and PHP-FPM's pool files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ini.h>
#include "config/config_file.h"
#include "config/values.h"

/* A config file is a few hundred bytes; this is far past any real one. */
#define MAX_CONFIG_BYTES (1024 * 1024)

/*
 * State for one file.  inih as packaged by Debian does not pass line
 * numbers to the handler (INI_HANDLER_LINENO is 0), so our own reader counts
 * lines and the handler reads the count.
 */
struct ini_ctx {
    sl_config_key_fn set_key;
    void *arg;
    FILE *fp;
    int lineno;      /* line the reader handed out last */
    int err_line;    /* line of the first handler error, 0 if none */
    int long_line;   /* line that did not fit inih's buffer, 0 if none */
    int max_line;    /* longest line inih can take, for the message */
    long nread;      /* bytes handed to inih so far */
    int too_big;     /* the file grew past MAX_CONFIG_BYTES while read */
    char msg[640];   /* the handler error, without "FILE:LINE: " */
    char first_msg[640];
    const char *file;
    int nerrors;     /* every error, for --check-config */
    char all[4096];
};

/* Remember "FILE:LINE: msg" for --check-config, which reports them all. */
static void note_error(struct ini_ctx *x, int line, const char *msg)
{
    size_t n = strlen(x->all);

    x->nerrors++;
    if (n < sizeof(x->all) - 1)
        snprintf(x->all + n, sizeof(x->all) - n, "%s%s:%d: %s",
                 n ? "\n" : "", x->file, line, msg);
}

/*
 * fgets for inih.  inih's line buffer is fixed (200 bytes); a longer line
 * would come back in pieces and be parsed as several lines, so such a line
 * stops the parse with an error instead.
 */
static char *file_reader(char *str, int num, void *stream)
{
    struct ini_ctx *x = stream;
    size_t n;
    int ch;

    if (fgets(str, num, x->fp) == NULL)
        return NULL;
    x->lineno++;
    n = strlen(str);
    /* Checked at open too; this holds if the file grows meanwhile. */
    x->nread += (long)n;
    if (x->nread > MAX_CONFIG_BYTES) {
        x->too_big = 1;
        return NULL;
    }
    if (n == 0 || str[n - 1] == '\n' || n < (size_t)num - 1)
        return str;
    /* The buffer is full; fine only if the line ends right here. */
    ch = getc(x->fp);
    if (ch == '\r')
        ch = getc(x->fp);
    if (ch == '\n' || ch == EOF)
        return str;
    x->long_line = x->lineno;
    x->max_line = num - 1;
    return NULL;
}

static int file_handler(void *user, const char *section, const char *name,
                        const char *value)
{
    struct ini_ctx *x = user;
    int r;

    if (*section != '\0' && strcmp(section, "sluice") != 0) {
        snprintf(x->msg, sizeof(x->msg), "unknown key '%s' in section [%s] "
                 "(use [sluice] or no section)", name, section);
        r = -EINVAL;
    } else {
        r = x->set_key(x->arg, name, value, x->msg, sizeof(x->msg));
    }
    if (r < 0) {
        note_error(x, x->lineno, x->msg);
        /* The first error is the one reported; later ones are collected. */
        if (x->err_line == 0) {
            x->err_line = x->lineno;
            memcpy(x->first_msg, x->msg, sizeof(x->msg));
        }
    }
    return 1;   /* go on, so --check-config sees every error */
}

int sl_config_read_file(const char *file, int all_errors, sl_config_key_fn set_key,
                        void *arg, char *err, size_t errlen)
{
    struct ini_ctx x;
    int r;

    memset(&x, 0, sizeof(x));
    x.set_key = set_key;
    x.arg = arg;
    x.file = file;
    /*
     * Opened here rather than by ini_parse() so that errno is ours.  Only a
     * regular file of bounded size: -c /dev/zero would never end, and a
     * FIFO would block the open (hence O_NONBLOCK, cleared once checked).
     */
    int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return sl_config_fail(err, errlen, "%s: cannot open: %s", file,
                    strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sl_config_fail(err, errlen, "%s: not a regular file", file);
    }
    if (st.st_size > MAX_CONFIG_BYTES) {
        close(fd);
        return sl_config_fail(err, errlen, "%s: %lld bytes, more than a config file "
                    "may have (%d)", file, (long long)st.st_size, MAX_CONFIG_BYTES);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    x.fp = fdopen(fd, "r");
    if (x.fp == NULL) {
        close(fd);
        return sl_config_fail(err, errlen, "%s: cannot open: %s", file,
                    strerror(errno));
    }
    r = ini_parse_stream(file_reader, &x, file_handler, &x);
    if (ferror(x.fp)) {
        fclose(x.fp);
        return sl_config_fail(err, errlen, "%s: cannot read: %s", file,
                    strerror(errno));
    }
    fclose(x.fp);
    if (x.too_big)
        return sl_config_fail(err, errlen, "%s: more than %d bytes, more than a "
                    "config file may have", file, MAX_CONFIG_BYTES);
    if (r < 0) {
        sl_config_fail(err, errlen, "%s: cannot parse (out of memory)", file);
        return -ENOMEM;
    }
    /* inih returns the first syntax error's line; handlers never fail. */
    if (r > 0 && (x.err_line == 0 || r < x.err_line)) {
        x.err_line = r;
        snprintf(x.first_msg, sizeof(x.first_msg), "syntax error (expected "
                 "'key = value' or '[sluice]')");
        note_error(&x, r, x.first_msg);
    }
    if (x.long_line != 0 && x.err_line == 0) {
        x.err_line = x.long_line;
        snprintf(x.first_msg, sizeof(x.first_msg), "line longer than %d "
                 "characters", x.max_line);
        note_error(&x, x.long_line, x.first_msg);
    }
    if (x.err_line == 0)
        return 0;
    /* --check-config lists every error, one per line. */
    if (all_errors && x.nerrors > 1) {
        snprintf(err, errlen, "%s", x.all);
        return -EINVAL;
    }
    return sl_config_fail(err, errlen, "%s:%d: %s", file, x.err_line, x.first_msg);
}

