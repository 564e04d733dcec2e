/*
 * config_file.h: the INI config file (-c FILE).  Keys are the long option
 * names, section-less or under [sluice], as in uWSGI's --ini and PHP-FPM's
 * pool files.  This reads the file and hands each key to the caller, which
 * knows what the keys mean (config.c): the reader knows nothing of
 * sl_config.
 */
#ifndef SLUICE_CONFIG_FILE_H
#define SLUICE_CONFIG_FILE_H

#include <stddef.h>

/* Set one key: 0, or a negative errno with what is wrong in err (no
 * "FILE:LINE: "). */
typedef int (*sl_config_key_fn)(void *arg, const char *name, const char *value,
                                char *err, size_t errlen);

/*
 * Read FILE, calling set_key(arg, ...) for each key in order.  0, or
 * -EINVAL (-ENOMEM when out of memory) with "FILE:LINE: what is wrong" in
 * err; with `all_errors` (--check-config) and several errors, all of them,
 * one a line.
 */
int sl_config_read_file(const char *file, int all_errors, sl_config_key_fn set_key,
                        void *arg, char *err, size_t errlen);

#endif
