/*
 * test_config.c: unit tests for src/config/config.c (command line, config
 * file, listener addresses).
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

#define MAXARGS 64

/* Static so that a 15 KiB struct is not on every test's stack. */
static sl_config cfg;
static char err[512];

/* Run sl_config_parse on "sluice" followed by the NULL-terminated args. */
static int parse(const char *first, ...)
{
    char *argv[MAXARGS + 1];
    int argc = 0;
    const char *a;
    va_list ap;
    int r;

    argv[argc++] = (char *)"sluice";
    va_start(ap, first);
    for (a = first; a != NULL; a = va_arg(ap, const char *)) {
        ck_assert_int_lt(argc, MAXARGS);
        argv[argc++] = (char *)a;
    }
    va_end(ap);
    argv[argc] = NULL;
    memset(err, 'X', sizeof(err));
    err[sizeof(err) - 1] = '\0';
    r = sl_config_parse(&cfg, argc, argv, err, sizeof(err));
    if (r == 0)
        return 0;
    /* Every failure is exactly one non-empty line. */
    ck_assert_int_eq(r, -EINVAL);
    ck_assert_msg(err[0] != '\0', "empty error");
    ck_assert_msg(strchr(err, '\n') == NULL, "multi-line error: %s", err);
    return r;
}

#define ck_assert_err(substr) \
    ck_assert_msg(strstr(err, (substr)) != NULL, \
                  "error '%s' does not contain '%s'", err, (substr))

#define PARSE_OK(...) \
    ck_assert_msg(parse(__VA_ARGS__, NULL) == 0, "unexpected error: %s", err)
#define PARSE_FAIL(...) \
    ck_assert_int_eq(parse(__VA_ARGS__, NULL), -EINVAL)

static long ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 1024 ? 1024 : n;
}

/* A temporary config file; the caller unlinks it. */
static char tmp_path[64];

static const char *write_file(const char *text)
{
    int fd;

    strcpy(tmp_path, "/tmp/sluice-test-XXXXXX");
    fd = mkstemp(tmp_path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return tmp_path;
}

/* Expect "PATH:LINE: rest" exactly. */
static void assert_file_err(const char *path, int line, const char *rest)
{
    char want[512];

    snprintf(want, sizeof(want), "%s:%d: %s", path, line, rest);
    ck_assert_str_eq(err, want);
}

/* ---- defaults and plain options ----------------------------------------- */

START_TEST(test_defaults)
{
    PARSE_OK("app.so");
    ck_assert_str_eq(cfg.app_path, "app.so");
    ck_assert_int_eq(cfg.workers, ncpu());
    ck_assert_int_eq(cfg.threads, 4);
    ck_assert_int_eq(cfg.graceful_timeout, 30);
    ck_assert_int_eq(cfg.log_level, SL_LOG_INFO);
    ck_assert_str_eq(cfg.config_file, "");
    ck_assert_int_eq(cfg.show_help, 0);
    ck_assert_int_eq(cfg.show_version, 0);
    ck_assert_int_eq(cfg.nlisteners, 1);
    ck_assert_int_eq(cfg.listeners[0].proto, SL_PROTO_FASTCGI);
    ck_assert_int_eq(cfg.listeners[0].kind, SL_ADDR_UNIX);
    ck_assert_str_eq(cfg.listeners[0].path, "sluice.sock");
}
END_TEST

START_TEST(test_config_defaults_fn)
{
    sl_config c;

    sl_config_defaults(&c);
    ck_assert_int_eq(c.workers, ncpu());
    ck_assert_int_eq(c.threads, 4);
    ck_assert_int_eq(c.graceful_timeout, 30);
    ck_assert_int_eq(c.log_level, SL_LOG_INFO);
    ck_assert_int_eq(c.nlisteners, 0);
}
END_TEST

START_TEST(test_long_options)
{
    PARSE_OK("--workers", "3", "--threads", "7", "--graceful-timeout", "5",
             "--log-level", "debug", "app.so");
    ck_assert_int_eq(cfg.workers, 3);
    ck_assert_int_eq(cfg.threads, 7);
    ck_assert_int_eq(cfg.graceful_timeout, 5);
    ck_assert_int_eq(cfg.log_level, SL_LOG_DEBUG);
}
END_TEST

START_TEST(test_short_options)
{
    PARSE_OK("-w", "2", "-t", "9", "app.so");
    ck_assert_int_eq(cfg.workers, 2);
    ck_assert_int_eq(cfg.threads, 9);
    PARSE_OK("-w5", "-t6", "app.so");
    ck_assert_int_eq(cfg.workers, 5);
    ck_assert_int_eq(cfg.threads, 6);
}
END_TEST

START_TEST(test_equals_form)
{
    PARSE_OK("--workers=3", "--threads=8", "--graceful-timeout=0",
             "--log-level=warn", "--fastcgi=127.0.0.1:9000", "app.so");
    ck_assert_int_eq(cfg.workers, 3);
    ck_assert_int_eq(cfg.threads, 8);
    ck_assert_int_eq(cfg.graceful_timeout, 0);
    ck_assert_int_eq(cfg.log_level, SL_LOG_WARN);
    ck_assert_int_eq(cfg.nlisteners, 1);
    ck_assert_int_eq(cfg.listeners[0].port, 9000);
}
END_TEST

START_TEST(test_options_after_app)
{
    PARSE_OK("app.so", "-w", "2");
    ck_assert_str_eq(cfg.app_path, "app.so");
    ck_assert_int_eq(cfg.workers, 2);
}
END_TEST

START_TEST(test_double_dash)
{
    PARSE_OK("-w", "2", "--", "-weird.so");
    ck_assert_str_eq(cfg.app_path, "-weird.so");
}
END_TEST

START_TEST(test_last_value_wins)
{
    PARSE_OK("-w", "2", "--workers", "3", "app.so");
    ck_assert_int_eq(cfg.workers, 3);
}
END_TEST

START_TEST(test_log_levels)
{
    PARSE_OK("--log-level", "error", "a.so");
    ck_assert_int_eq(cfg.log_level, SL_LOG_ERROR);
    PARSE_OK("--log-level", "warn", "a.so");
    ck_assert_int_eq(cfg.log_level, SL_LOG_WARN);
    PARSE_OK("--log-level", "info", "a.so");
    ck_assert_int_eq(cfg.log_level, SL_LOG_INFO);
    PARSE_OK("--log-level", "debug", "a.so");
    ck_assert_int_eq(cfg.log_level, SL_LOG_DEBUG);
    PARSE_FAIL("--log-level", "loud", "a.so");
    ck_assert_str_eq(err, "--log-level: 'loud' is not one of error, warn, "
                     "info, debug");
    PARSE_FAIL("--log-level", "INFO", "a.so");
    PARSE_FAIL("--log-level", "", "a.so");
}
END_TEST

/* ---- numbers and ranges ------------------------------------------------- */

START_TEST(test_workers_range)
{
    PARSE_OK("-w", "1", "a.so");
    ck_assert_int_eq(cfg.workers, 1);
    PARSE_OK("-w", "1024", "a.so");
    ck_assert_int_eq(cfg.workers, 1024);
    PARSE_FAIL("-w", "0", "a.so");
    ck_assert_str_eq(err, "--workers: '0' is not a number between 1 and "
                     "1024");
    PARSE_FAIL("--workers", "1025", "a.so");
    ck_assert_str_eq(err, "--workers: '1025' is not a number between 1 and "
                     "1024");
    PARSE_FAIL("--workers", "abc", "a.so");
    ck_assert_str_eq(err, "--workers: 'abc' is not a number between 1 and "
                     "1024");
}
END_TEST

START_TEST(test_number_syntax)
{
    static const char *const bad[] = {
        "", " 3", "3 ", "+3", "-1", "3x", "0x10", "1e2", "3.0",
        "99999999999999999999", "-99999999999999999999", "2147483648",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(parse("--threads", bad[i], "a.so", NULL) == -EINVAL,
                      "'%s' accepted", bad[i]);
        ck_assert_err("--threads: '");
    }
    PARSE_OK("-t", "010", "a.so");      /* decimal, not octal */
    ck_assert_int_eq(cfg.threads, 10);
}
END_TEST

START_TEST(test_threads_range)
{
    PARSE_OK("-t", "1", "a.so");
    ck_assert_int_eq(cfg.threads, 1);
    PARSE_OK("--threads", "1024", "a.so");
    ck_assert_int_eq(cfg.threads, 1024);
    PARSE_FAIL("-t", "0", "a.so");
    ck_assert_str_eq(err, "--threads: '0' is not a number between 1 and "
                     "1024");
    PARSE_FAIL("-t", "1025", "a.so");
    ck_assert_err("'1025'");
}
END_TEST

START_TEST(test_graceful_range)
{
    PARSE_OK("--graceful-timeout", "0", "a.so");
    ck_assert_int_eq(cfg.graceful_timeout, 0);
    PARSE_OK("--graceful-timeout", "86400", "a.so");
    ck_assert_int_eq(cfg.graceful_timeout, 86400);
    PARSE_FAIL("--graceful-timeout", "86401", "a.so");
    ck_assert_err("--graceful-timeout: '86401'");
    ck_assert_err("0 and 86400");
    PARSE_FAIL("--graceful-timeout", "-1", "a.so");
    ck_assert_err("--graceful-timeout: '-1'");
}
END_TEST

/* ---- getopt errors ------------------------------------------------------ */

START_TEST(test_unknown_option)
{
    PARSE_FAIL("--frob", "a.so");
    ck_assert_str_eq(err, "unrecognized option '--frob'");
    PARSE_FAIL("--frob=3", "a.so");
    ck_assert_str_eq(err, "unrecognized option '--frob'");
    PARSE_FAIL("-x", "a.so");
    ck_assert_str_eq(err, "unrecognized option '-x'");
    PARSE_FAIL("-h", "a.so");
    ck_assert_str_eq(err, "unrecognized option '-h'");
}
END_TEST

START_TEST(test_missing_value)
{
    PARSE_FAIL("a.so", "--workers");
    ck_assert_str_eq(err, "option '--workers' requires a value");
    PARSE_FAIL("a.so", "-w");
    ck_assert_str_eq(err, "option '-w' requires a value");
    PARSE_FAIL("a.so", "--fastcgi");
    ck_assert_str_eq(err, "option '--fastcgi' requires a value");
    PARSE_FAIL("a.so", "-c");
    ck_assert_str_eq(err, "option '-c' requires a value");
    PARSE_FAIL("a.so", "--graceful-timeout");
    ck_assert_str_eq(err, "option '--graceful-timeout' requires a value");
}
END_TEST

START_TEST(test_flag_with_value)
{
    PARSE_FAIL("--help=yes");
    ck_assert_str_eq(err, "option '--help' doesn't take a value");
}
END_TEST

START_TEST(test_error_one_line)
{
    /* A newline in a value must not split the message. */
    PARSE_FAIL("--workers", "1\n2", "a.so");
    ck_assert_str_eq(err, "--workers: '1?2' is not a number between 1 and "
                     "1024");
}
END_TEST

START_TEST(test_small_err_buffer)
{
    char *argv[] = { "sluice", "--workers", "abc", "a.so", NULL };
    char small[8];

    ck_assert_int_eq(sl_config_parse(&cfg, 4, argv, small, sizeof(small)),
                     -EINVAL);
    ck_assert_str_eq(small, "--worke");
    ck_assert_int_eq(sl_config_parse(&cfg, 4, argv, NULL, 0), -EINVAL);
}
END_TEST

/* ---- APP, --help, --version --------------------------------------------- */

START_TEST(test_help_version)
{
    PARSE_OK("--help");
    ck_assert_int_eq(cfg.show_help, 1);
    ck_assert_int_eq(cfg.show_version, 0);
    PARSE_OK("--version");
    ck_assert_int_eq(cfg.show_version, 1);
    ck_assert_int_eq(cfg.show_help, 0);
    /* A broken or missing config file must not hide the help. */
    PARSE_OK("-c", "/nonexistent/sluice.ini", "--help");
    ck_assert_int_eq(cfg.show_help, 1);
}
END_TEST

START_TEST(test_missing_app)
{
    PARSE_FAIL("-w", "2");
    ck_assert_str_eq(err, "missing APP.so argument (see --help)");
}
END_TEST

START_TEST(test_two_apps)
{
    PARSE_FAIL("a.so", "b.so");
    ck_assert_err("'b.so'");
    PARSE_FAIL("a.so", "-w", "2", "b.so");
    ck_assert_err("'b.so'");
}
END_TEST

START_TEST(test_empty_app)
{
    PARSE_FAIL("");
    ck_assert_err("empty APP.so");
}
END_TEST

START_TEST(test_usage)
{
    const char *u = sl_config_usage();

    ck_assert_ptr_nonnull(u);
    ck_assert_ptr_nonnull(strstr(u, "sluice [OPTIONS] APP.so"));
    ck_assert_ptr_nonnull(strstr(u, "--fastcgi ADDR"));
    ck_assert_ptr_nonnull(strstr(u, "--graceful-timeout"));
    ck_assert_ptr_nonnull(strstr(u, "-c, --config FILE"));
}
END_TEST

/* ---- listener addresses ------------------------------------------------- */

static sl_listen_spec ls;

static int addr(const char *text)
{
    err[0] = '\0';
    return sl_listen_parse(&ls, SL_PROTO_FASTCGI, text, err, sizeof(err));
}

START_TEST(test_addr_unix)
{
    ck_assert_int_eq(addr("unix:/run/sluice/app.sock"), 0);
    ck_assert_int_eq(ls.kind, SL_ADDR_UNIX);
    ck_assert_int_eq(ls.proto, SL_PROTO_FASTCGI);
    ck_assert_str_eq(ls.path, "/run/sluice/app.sock");
    ck_assert_str_eq(ls.text, "fastcgi unix:/run/sluice/app.sock");
    ck_assert_int_eq(addr("unix:rel.sock"), 0);
    ck_assert_str_eq(ls.path, "rel.sock");
    ck_assert_int_eq(addr("unix:"), -EINVAL);
    ck_assert_str_eq(err, "'unix:': empty socket path");
}
END_TEST

START_TEST(test_addr_unix_length)
{
    char buf[200] = "unix:";

    memset(buf + 5, 'a', 107);          /* 107 + NUL fills 108 */
    buf[5 + 107] = '\0';
    ck_assert_int_eq(addr(buf), 0);
    ck_assert_uint_eq(strlen(ls.path), 107);
    memset(buf + 5, 'a', 108);
    buf[5 + 108] = '\0';
    ck_assert_int_eq(addr(buf), -EINVAL);
    ck_assert_err("longer than 107 bytes");
}
END_TEST

START_TEST(test_addr_tcp)
{
    ck_assert_int_eq(addr("127.0.0.1:9000"), 0);
    ck_assert_int_eq(ls.kind, SL_ADDR_TCP);
    ck_assert_str_eq(ls.host, "127.0.0.1");
    ck_assert_int_eq(ls.port, 9000);
    ck_assert_str_eq(ls.text, "fastcgi 127.0.0.1:9000");
    ck_assert_int_eq(addr("localhost:1"), 0);
    ck_assert_str_eq(ls.host, "localhost");
    ck_assert_int_eq(ls.port, 1);
    ck_assert_int_eq(addr("0.0.0.0:65535"), 0);
    ck_assert_int_eq(ls.port, 65535);
}
END_TEST

START_TEST(test_addr_tcp_bad)
{
    static const char *const bad[] = {
        "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:abc", "127.0.0.1:",
        ":80", "localhost", "::1:80", "a b:80", "127.0.0.1:80x",
        "127.0.0.1:-80", "127.0.0.1: 80", "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(addr(bad[i]) == -EINVAL, "'%s' accepted", bad[i]);
        ck_assert_msg(strchr(err, '\n') == NULL, "multi-line: %s", err);
    }
    addr("127.0.0.1:0");
    ck_assert_err("'127.0.0.1:0'");
    ck_assert_err("1 and 65535");
    addr("localhost");
    ck_assert_str_eq(err, "'localhost' is not an address; use unix:/path, "
                     "HOST:PORT, [IPv6]:PORT or fd:N");
}
END_TEST

START_TEST(test_addr_tcp_host_length)
{
    char buf[100];

    memset(buf, 'h', 63);
    strcpy(buf + 63, ":80");
    ck_assert_int_eq(addr(buf), 0);
    memset(buf, 'h', 64);
    strcpy(buf + 64, ":80");
    ck_assert_int_eq(addr(buf), -EINVAL);
    ck_assert_err("host longer than 63 bytes");
}
END_TEST

START_TEST(test_addr_ipv6)
{
    ck_assert_int_eq(addr("[::1]:80"), 0);
    ck_assert_int_eq(ls.kind, SL_ADDR_TCP);
    ck_assert_str_eq(ls.host, "::1");
    ck_assert_int_eq(ls.port, 80);
    ck_assert_str_eq(ls.text, "fastcgi [::1]:80");
    ck_assert_int_eq(addr("[fe80::1%eth0]:9000"), 0);
    ck_assert_str_eq(ls.host, "fe80::1%eth0");
    ck_assert_int_eq(addr("[::]:443"), 0);
    ck_assert_str_eq(ls.host, "::");

    ck_assert_int_eq(addr("[::1]"), -EINVAL);
    ck_assert_err("'[::1]'");
    ck_assert_int_eq(addr("[::1]:"), -EINVAL);
    ck_assert_int_eq(addr("[::1]80"), -EINVAL);
    ck_assert_int_eq(addr("[]:80"), -EINVAL);
    ck_assert_int_eq(addr("[::1:80"), -EINVAL);
    ck_assert_int_eq(addr("[localhost]:80"), -EINVAL);
    ck_assert_int_eq(addr("[::1]:0"), -EINVAL);
    ck_assert_int_eq(addr("[::1]:65536"), -EINVAL);
}
END_TEST

START_TEST(test_addr_fd)
{
    ck_assert_int_eq(addr("fd:3"), 0);
    ck_assert_int_eq(ls.kind, SL_ADDR_FD);
    ck_assert_int_eq(ls.fd, 3);
    ck_assert_str_eq(ls.text, "fastcgi fd:3");
    ck_assert_int_eq(addr("fd:0"), 0);
    ck_assert_int_eq(ls.fd, 0);
    ck_assert_int_eq(addr("fd:65535"), 0);
    ck_assert_int_eq(addr("fd:65536"), -EINVAL);
    ck_assert_int_eq(addr("fd:-1"), -EINVAL);
    ck_assert_err("'fd:-1'");
    ck_assert_int_eq(addr("fd:"), -EINVAL);
    ck_assert_int_eq(addr("fd:abc"), -EINVAL);
    ck_assert_int_eq(addr("fd:3x"), -EINVAL);
}
END_TEST

START_TEST(test_addr_scgi_text)
{
    ck_assert_int_eq(sl_listen_parse(&ls, SL_PROTO_SCGI, "unix:s.sock", err,
                                     sizeof(err)), 0);
    ck_assert_int_eq(ls.proto, SL_PROTO_SCGI);
    ck_assert_str_eq(ls.text, "scgi unix:s.sock");
}
END_TEST

START_TEST(test_cli_listeners)
{
    PARSE_OK("--fastcgi", "unix:/tmp/a.sock", "--scgi", "127.0.0.1:4000",
             "--fastcgi", "fd:3", "a.so");
    ck_assert_int_eq(cfg.nlisteners, 3);
    ck_assert_int_eq(cfg.listeners[0].proto, SL_PROTO_FASTCGI);
    ck_assert_str_eq(cfg.listeners[0].path, "/tmp/a.sock");
    ck_assert_int_eq(cfg.listeners[1].proto, SL_PROTO_SCGI);
    ck_assert_int_eq(cfg.listeners[1].port, 4000);
    ck_assert_int_eq(cfg.listeners[2].kind, SL_ADDR_FD);

    /* --scgi alone replaces the default FastCGI socket. */
    PARSE_OK("--scgi", "unix:s.sock", "a.so");
    ck_assert_int_eq(cfg.nlisteners, 1);
    ck_assert_int_eq(cfg.listeners[0].proto, SL_PROTO_SCGI);

    PARSE_FAIL("--fastcgi", "nonsense", "a.so");
    ck_assert_str_eq(err, "--fastcgi: 'nonsense' is not an address; use "
                     "unix:/path, HOST:PORT, [IPv6]:PORT or fd:N");
    PARSE_FAIL("--scgi", "unix:", "a.so");
    ck_assert_str_eq(err, "--scgi: 'unix:': empty socket path");
}
END_TEST

START_TEST(test_too_many_listeners)
{
    char *argv[2 * SL_MAX_LISTENERS + 8];
    int argc = 0;

    argv[argc++] = "sluice";
    for (int i = 0; i <= SL_MAX_LISTENERS; i++) {
        argv[argc++] = "--fastcgi";
        argv[argc++] = "fd:3";
    }
    argv[argc++] = "a.so";
    argv[argc] = NULL;
    ck_assert_int_eq(sl_config_parse(&cfg, argc, argv, err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "--fastcgi: too many listeners (at most 16)");
    /* Exactly the maximum is fine. */
    argv[argc - 3] = "a.so";
    argv[argc - 2] = NULL;
    ck_assert_int_eq(sl_config_parse(&cfg, argc - 2, argv, err, sizeof(err)),
                     0);
    ck_assert_int_eq(cfg.nlisteners, SL_MAX_LISTENERS);
}
END_TEST

/* ---- config file -------------------------------------------------------- */

START_TEST(test_file_all_keys)
{
    const char *p = write_file(
        "; comment\n"
        "# another\n"
        "fastcgi = unix:/tmp/f.sock\n"
        "scgi = 127.0.0.1:4000\n"
        "workers = 3\n"
        "threads = 5\n"
        "graceful-timeout = 12\n"
        "log-level = warn\n"
        "app = /srv/app.so\n");

    PARSE_OK("-c", p);
    unlink(p);
    ck_assert_str_eq(cfg.config_file, p);
    ck_assert_int_eq(cfg.nlisteners, 2);
    ck_assert_str_eq(cfg.listeners[0].path, "/tmp/f.sock");
    ck_assert_int_eq(cfg.listeners[1].proto, SL_PROTO_SCGI);
    ck_assert_int_eq(cfg.workers, 3);
    ck_assert_int_eq(cfg.threads, 5);
    ck_assert_int_eq(cfg.graceful_timeout, 12);
    ck_assert_int_eq(cfg.log_level, SL_LOG_WARN);
    ck_assert_str_eq(cfg.app_path, "/srv/app.so");
}
END_TEST

START_TEST(test_file_section)
{
    const char *p = write_file("[sluice]\nworkers = 2\n"
                               "threads = 3 ; inline comment\n");

    PARSE_OK("--config", p, "a.so");
    unlink(p);
    ck_assert_int_eq(cfg.workers, 2);
    ck_assert_int_eq(cfg.threads, 3);
}
END_TEST

/* The signing secret: a file key only, never echoed nor printed. */
START_TEST(test_file_secret)
{
    const char *p = write_file("secret = s3cr3t-0123456789abcdef\n");
    PARSE_OK("-c", p, "a.so");
    ck_assert_str_eq(cfg.secret, "s3cr3t-0123456789abcdef");
    ck_assert_int_eq(cfg.secret_random, 0);
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    sl_config_print(&cfg, f);
    fclose(f);
    ck_assert_msg(strstr(out, "s3cr3t") == NULL, "--check-config shows the secret: %s", out);
    ck_assert_msg(strstr(out, "; secret: set in the config file (not shown)") != NULL, "%s", out);
    free(out);
    /* filled: kept as it is */
    ck_assert_int_eq(sl_config_fill_secret(&cfg, NULL), 0);
    ck_assert_str_eq(cfg.secret, "s3cr3t-0123456789abcdef");
    unlink(p);

    /* too short: the message does not quote it */
    p = write_file("secret = tiny-secret\n");
    PARSE_FAIL("-c", p, "a.so");
    unlink(p);
    ck_assert_err("secret: shorter than 16 bytes");
    ck_assert_msg(strstr(err, "tiny") == NULL, "the error shows the secret: %s", err);
    /* not an option: a command line shows in every process list */
    PARSE_FAIL("--secret", "0123456789abcdef0123", "a.so");
    ck_assert_err("unrecognized option '--secret'");
}
END_TEST

/* None set: one random secret per start, kept by a reload. */
START_TEST(test_random_secret)
{
    PARSE_OK("a.so");
    ck_assert_str_eq(cfg.secret, "");
    ck_assert_int_eq(sl_config_fill_secret(&cfg, NULL), 0);
    ck_assert_uint_eq(strlen(cfg.secret), 64);
    ck_assert_int_eq(cfg.secret_random, 1);
    static sl_config first, other;
    first = cfg;
    PARSE_OK("a.so");
    ck_assert_int_eq(sl_config_fill_secret(&cfg, NULL), 0);
    ck_assert_str_ne(cfg.secret, first.secret);     /* a new start */
    other = cfg;
    PARSE_OK("a.so");
    ck_assert_int_eq(sl_config_fill_secret(&cfg, &first), 0);
    ck_assert_str_eq(cfg.secret, first.secret);     /* a reload */
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    sl_config_print(&first, f);
    fclose(f);
    ck_assert_msg(strstr(out, first.secret) == NULL, "printed: %s", out);
    free(out);
    /* a reload to a config that sets one takes it */
    const char *p = write_file("secret = 0123456789abcdef0123\n");
    PARSE_OK("-c", p, "a.so");
    unlink(p);
    ck_assert_int_eq(sl_config_fill_secret(&cfg, &other), 0);
    ck_assert_str_eq(cfg.secret, "0123456789abcdef0123");
}
END_TEST

START_TEST(test_file_unknown_key)
{
    const char *p = write_file("workers = 2\n\nfrob = 1\n");

    PARSE_FAIL("-c", p, "a.so");
    unlink(p);
    assert_file_err(p, 3, "unknown key 'frob'");
}
END_TEST

START_TEST(test_file_unknown_section)
{
    const char *p = write_file("workers = 2\n[other]\nworkers = 3\n");

    PARSE_FAIL("-c", p, "a.so");
    unlink(p);
    assert_file_err(p, 3, "unknown key 'workers' in section [other] "
                    "(use [sluice] or no section)");
}
END_TEST

START_TEST(test_file_bad_value)
{
    const char *p = write_file("threads = 4\nworkers = abc\n");

    PARSE_FAIL("-c", p, "a.so");
    unlink(p);
    assert_file_err(p, 2, "workers: 'abc' is not a number between 1 and "
                    "1024");

    p = write_file("fastcgi = [::1]\n");
    PARSE_FAIL("-c", p, "a.so");
    unlink(p);
    ck_assert_err(":1: fastcgi: '[::1]'");
}
END_TEST

START_TEST(test_file_first_error_wins)
{
    const char *p = write_file("workers = 0\nthreads = 0\n");

    PARSE_FAIL("-c", p, "a.so");
    unlink(p);
    ck_assert_err(":1: workers:");
}
END_TEST

START_TEST(test_file_forbidden_keys)
{
    const char *p = write_file("config = other.ini\n");

    PARSE_FAIL("-c", p, "a.so");
    unlink(p);
    assert_file_err(p, 1, "'config' cannot be set inside a config file");

    p = write_file("help = 1\n");
    PARSE_FAIL("-c", p, "a.so");
    unlink(p);
    assert_file_err(p, 1, "unknown key 'help'");
}
END_TEST

START_TEST(test_file_syntax_error)
{
    const char *p = write_file("workers = 2\njust some words\n");

    PARSE_FAIL("-c", p, "a.so");
    unlink(p);
    ck_assert_err(":2: syntax error");
}
END_TEST

START_TEST(test_file_long_line)
{
    char text[600];
    const char *p;

    snprintf(text, sizeof(text), "workers = 2\napp = /%0400d.so\n", 0);
    p = write_file(text);
    PARSE_FAIL("-c", p);
    unlink(p);
    ck_assert_err(":2: line longer than 199 characters");

    /* inih's buffer holds 199 characters plus the newline. */
    snprintf(text, sizeof(text), "app = /%0192d\n", 0);
    ck_assert_uint_eq(strlen(text), 200);
    p = write_file(text);
    PARSE_OK("-c", p);
    unlink(p);
    ck_assert_uint_eq(strlen(cfg.app_path), 193);
}
END_TEST

START_TEST(test_file_unreadable)
{
    PARSE_FAIL("-c", "/nonexistent/sluice.ini", "a.so");
    ck_assert_str_eq(err, "/nonexistent/sluice.ini: cannot open: No such "
                     "file or directory");
}
END_TEST

START_TEST(test_file_no_trailing_newline)
{
    const char *p = write_file("workers = 7");

    PARSE_OK("-c", p, "a.so");
    unlink(p);
    ck_assert_int_eq(cfg.workers, 7);
}
END_TEST

START_TEST(test_cli_overrides_file)
{
    const char *p = write_file("workers = 3\nthreads = 5\napp = /f/app.so\n"
                               "log-level = debug\n");

    /* -c after the options it is overridden by: order does not matter. */
    PARSE_OK("-w", "8", "--log-level", "error", "-c", p, "/cli/app.so");
    unlink(p);
    ck_assert_int_eq(cfg.workers, 8);
    ck_assert_int_eq(cfg.threads, 5);
    ck_assert_int_eq(cfg.log_level, SL_LOG_ERROR);
    ck_assert_str_eq(cfg.app_path, "/cli/app.so");
}
END_TEST

START_TEST(test_cli_listeners_replace_file)
{
    const char *p = write_file("fastcgi = unix:/tmp/a.sock\n"
                               "fastcgi = unix:/tmp/b.sock\n"
                               "scgi = 127.0.0.1:4000\n");

    PARSE_OK("-c", p, "a.so");
    ck_assert_int_eq(cfg.nlisteners, 3);    /* repeated keys add up */
    ck_assert_str_eq(cfg.listeners[1].path, "/tmp/b.sock");

    PARSE_OK("-c", p, "--scgi", "fd:5", "a.so");
    unlink(p);
    ck_assert_int_eq(cfg.nlisteners, 1);
    ck_assert_int_eq(cfg.listeners[0].proto, SL_PROTO_SCGI);
    ck_assert_int_eq(cfg.listeners[0].kind, SL_ADDR_FD);
    ck_assert_int_eq(cfg.listeners[0].fd, 5);
}
END_TEST

START_TEST(test_file_missing_app)
{
    const char *p = write_file("workers = 2\n");

    PARSE_FAIL("-c", p);
    unlink(p);
    ck_assert_str_eq(err, "missing APP.so argument (see --help)");
}
END_TEST

START_TEST(test_repeated_parse)
{
    /* getopt state must be reset between calls. */
    for (int i = 0; i < 3; i++) {
        PARSE_OK("-w", "2", "a.so");
        ck_assert_int_eq(cfg.workers, 2);
        PARSE_FAIL("--frob", "a.so");
        PARSE_OK("b.so");
        ck_assert_int_eq(cfg.workers, ncpu());
        ck_assert_str_eq(cfg.app_path, "b.so");
    }
}
END_TEST

/* ---- limits and access -------------------------------------------------- */

START_TEST(test_limit_defaults)
{
    PARSE_OK("app.so");
    ck_assert_int_eq(cfg.max_params_size, 128 * 1024);
    ck_assert_int_eq(cfg.max_body_size, 32 * 1024 * 1024);
    ck_assert_int_eq(cfg.max_conn_requests, 128);
    ck_assert_int_eq(cfg.max_connections, 4096);
    ck_assert_int_eq(cfg.read_timeout, 30);
    ck_assert_int_eq(cfg.keepalive_timeout, 75);
    ck_assert_int_eq(cfg.backlog, 1024);
    ck_assert_int_eq(cfg.socket_mode, 0660);
    ck_assert_str_eq(cfg.socket_group, "");
    ck_assert_int_eq(cfg.nallow, 0);
}
END_TEST

START_TEST(test_sizes)
{
    PARSE_OK("--max-body-size", "1k", "--max-params-size", "2M", "app.so");
    ck_assert_int_eq(cfg.max_body_size, 1024);
    ck_assert_int_eq(cfg.max_params_size, 2 * 1024 * 1024);
    PARSE_OK("--max-body-size", "1g", "app.so");
    ck_assert_int_eq(cfg.max_body_size, 1024 * 1024 * 1024);
    PARSE_OK("--max-body-size", "0", "app.so");
    ck_assert_int_eq(cfg.max_body_size, 0);
    PARSE_FAIL("--max-body-size", "2g", "app.so");
    ck_assert_err("--max-body-size: '2g' is not a size");
    PARSE_FAIL("--max-body-size", "1kb", "app.so");
    PARSE_FAIL("--max-body-size", "-1", "app.so");
    PARSE_FAIL("--max-body-size", "k", "app.so");
    PARSE_FAIL("--max-body-size", "99999999999999999999", "app.so");
    PARSE_FAIL("--max-params-size", "100", "app.so");
}
END_TEST

START_TEST(test_limit_counts)
{
    PARSE_OK("--max-conn-requests", "7", "--max-connections", "9", "--read-timeout", "3",
             "--keepalive-timeout", "4", "--backlog", "16", "app.so");
    ck_assert_int_eq(cfg.max_conn_requests, 7);
    ck_assert_int_eq(cfg.max_connections, 9);
    ck_assert_int_eq(cfg.read_timeout, 3);
    ck_assert_int_eq(cfg.keepalive_timeout, 4);
    ck_assert_int_eq(cfg.backlog, 16);
    PARSE_FAIL("--read-timeout", "0", "app.so");
    ck_assert_err("--read-timeout: '0' is not a number of seconds");
    PARSE_FAIL("--max-connections", "0", "app.so");
    PARSE_FAIL("--max-conn-requests", "65536", "app.so");
}
END_TEST

START_TEST(test_socket_access)
{
    PARSE_OK("--socket-mode", "0600", "--socket-group", "www-data", "app.so");
    ck_assert_int_eq(cfg.socket_mode, 0600);
    ck_assert_str_eq(cfg.socket_group, "www-data");
    PARSE_OK("--socket-mode", "666", "app.so");
    ck_assert_int_eq(cfg.socket_mode, 0666);
    PARSE_FAIL("--socket-mode", "0800", "app.so");
    ck_assert_err("not an octal mode");
    PARSE_FAIL("--socket-mode", "1777", "app.so");
    PARSE_FAIL("--socket-group", "", "app.so");
}
END_TEST

START_TEST(test_allow_from)
{
    PARSE_OK("--allow-from", "10.0.0.0/8, 192.0.2.7", "--allow-from", "::1,2001:db8::/32",
             "app.so");
    ck_assert_int_eq(cfg.nallow, 4);
    ck_assert_int_eq(cfg.allow[0].bits, 8);
    ck_assert_int_eq(cfg.allow[0].addr[0], 10);
    ck_assert_int_eq(cfg.allow[1].bits, 32);
    ck_assert_int_eq(cfg.allow[2].bits, 128);
    ck_assert_int_eq(cfg.allow[3].bits, 32);
    PARSE_FAIL("--allow-from", "10.0.0.0/33", "app.so");
    ck_assert_err("'10.0.0.0/33' is not an IP address or CIDR range");
    PARSE_FAIL("--allow-from", "example.com", "app.so");
    PARSE_FAIL("--allow-from", "10.0.0.1/", "app.so");
}
END_TEST

START_TEST(test_exposure)
{
    PARSE_OK("--fastcgi", "127.0.0.1:9000", "app.so");
    PARSE_OK("--fastcgi", "[::1]:9000", "app.so");
    PARSE_OK("--fastcgi", "localhost:9000", "app.so");
    PARSE_FAIL("--fastcgi", "0.0.0.0:9000", "app.so");
    ck_assert_err("needs --allow-from");
    PARSE_FAIL("--scgi", "[::]:9000", "app.so");
    PARSE_OK("--fastcgi", "0.0.0.0:9000", "--allow-from", "192.0.2.1", "app.so");
    setenv("FCGI_WEB_SERVER_ADDRS", "192.0.2.1,192.0.2.2", 1);
    PARSE_OK("--fastcgi", "0.0.0.0:9000", "app.so");
    ck_assert_int_eq(cfg.nallow, 2);
    setenv("FCGI_WEB_SERVER_ADDRS", "nonsense", 1);
    PARSE_FAIL("app.so");
    ck_assert_err("FCGI_WEB_SERVER_ADDRS");
    unsetenv("FCGI_WEB_SERVER_ADDRS");
}
END_TEST

START_TEST(test_file_limits)
{
    const char *path = write_file("max-body-size = 2m\nsocket-mode = 0640\n"
                                  "allow-from = 127.0.0.1\nread-timeout = 5\n");
    PARSE_OK("-c", path, "--read-timeout", "7", "app.so");
    unlink(path);
    ck_assert_int_eq(cfg.max_body_size, 2 * 1024 * 1024);
    ck_assert_int_eq(cfg.socket_mode, 0640);
    ck_assert_int_eq(cfg.nallow, 1);
    ck_assert_int_eq(cfg.read_timeout, 7);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc;

    tc = tcase_create("options");
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_config_defaults_fn);
    tcase_add_test(tc, test_long_options);
    tcase_add_test(tc, test_short_options);
    tcase_add_test(tc, test_equals_form);
    tcase_add_test(tc, test_options_after_app);
    tcase_add_test(tc, test_double_dash);
    tcase_add_test(tc, test_last_value_wins);
    tcase_add_test(tc, test_log_levels);
    tcase_add_test(tc, test_workers_range);
    tcase_add_test(tc, test_number_syntax);
    tcase_add_test(tc, test_threads_range);
    tcase_add_test(tc, test_graceful_range);
    tcase_add_test(tc, test_unknown_option);
    tcase_add_test(tc, test_missing_value);
    tcase_add_test(tc, test_flag_with_value);
    tcase_add_test(tc, test_error_one_line);
    tcase_add_test(tc, test_small_err_buffer);
    tcase_add_test(tc, test_help_version);
    tcase_add_test(tc, test_missing_app);
    tcase_add_test(tc, test_two_apps);
    tcase_add_test(tc, test_empty_app);
    tcase_add_test(tc, test_usage);
    tcase_add_test(tc, test_repeated_parse);
    suite_add_tcase(s, tc);

    tc = tcase_create("addresses");
    tcase_add_test(tc, test_addr_unix);
    tcase_add_test(tc, test_addr_unix_length);
    tcase_add_test(tc, test_addr_tcp);
    tcase_add_test(tc, test_addr_tcp_bad);
    tcase_add_test(tc, test_addr_tcp_host_length);
    tcase_add_test(tc, test_addr_ipv6);
    tcase_add_test(tc, test_addr_fd);
    tcase_add_test(tc, test_addr_scgi_text);
    tcase_add_test(tc, test_cli_listeners);
    tcase_add_test(tc, test_too_many_listeners);
    suite_add_tcase(s, tc);

    tc = tcase_create("file");
    tcase_add_test(tc, test_file_all_keys);
    tcase_add_test(tc, test_file_section);
    tcase_add_test(tc, test_file_secret);
    tcase_add_test(tc, test_random_secret);
    tcase_add_test(tc, test_file_unknown_key);
    tcase_add_test(tc, test_file_unknown_section);
    tcase_add_test(tc, test_file_bad_value);
    tcase_add_test(tc, test_file_first_error_wins);
    tcase_add_test(tc, test_file_forbidden_keys);
    tcase_add_test(tc, test_file_syntax_error);
    tcase_add_test(tc, test_file_long_line);
    tcase_add_test(tc, test_file_unreadable);
    tcase_add_test(tc, test_file_no_trailing_newline);
    tcase_add_test(tc, test_cli_overrides_file);
    tcase_add_test(tc, test_cli_listeners_replace_file);
    tcase_add_test(tc, test_file_missing_app);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_test(tc, test_limit_defaults);
    tcase_add_test(tc, test_sizes);
    tcase_add_test(tc, test_limit_counts);
    tcase_add_test(tc, test_socket_access);
    tcase_add_test(tc, test_allow_from);
    tcase_add_test(tc, test_exposure);
    tcase_add_test(tc, test_file_limits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
