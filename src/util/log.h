/*
 * log.h: the error log.  One line per event:
 *   2026-11-23T18:40:00.123Z sluice[1234] worker info: message
 * or with --log-format json, one JSON object per line:
 *   {"time":"...","level":"info","pid":1234,"role":"worker","msg":"..."}
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

/* The levels, most severe first: a line is written when its level is at
 * or below the threshold. */
enum sl_log_level { SL_LOG_ERROR = 0, SL_LOG_WARN, SL_LOG_INFO, SL_LOG_DEBUG };

/* Set the threshold (enum sl_log_level); lines above it are dropped. */
void sl_log_set_level(int level);
/* Tag lines with "master" or "worker" after the pid. */
void sl_log_set_role(const char *role);
/* Where lines go (default: standard error), and in which format. */
void sl_log_set_fd(int fd);
void sl_log_set_json(int json);
/* Open `path` for appending and put it in place of `fd` (dup2), so every
 * holder of `fd` writes to the new file.  A symbolic link at `path` is not
 * followed (-ELOOP).  0, or -errno. */
int sl_log_reopen(const char *path, int fd);
void sl_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define sl_error(...) sl_log(SL_LOG_ERROR, __VA_ARGS__)
#define sl_warn(...) sl_log(SL_LOG_WARN, __VA_ARGS__)
#define sl_info(...) sl_log(SL_LOG_INFO, __VA_ARGS__)
#define sl_debug(...) sl_log(SL_LOG_DEBUG, __VA_ARGS__)

#endif
