/*
 * log.h: the error log.  One line per event on stderr:
 *   2026-11-23T18:40:00.123Z sluice[1234] info: message
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include "config.h"

/* Set the threshold (enum sl_log_level); lines above it are dropped. */
void sl_log_set_level(int level);
int sl_log_get_level(void);
/* Tag lines with "master" or "worker" after the pid. */
void sl_log_set_role(const char *role);
void sl_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define sl_error(...) sl_log(SL_LOG_ERROR, __VA_ARGS__)
#define sl_warn(...) sl_log(SL_LOG_WARN, __VA_ARGS__)
#define sl_info(...) sl_log(SL_LOG_INFO, __VA_ARGS__)
#define sl_debug(...) sl_log(SL_LOG_DEBUG, __VA_ARGS__)

#endif
