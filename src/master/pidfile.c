/* pidfile.c: --pidfile (see pidfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "master/pidfile.h"
#include "util/log.h"

/*
 * The master is root and the pidfile's directory may be writable by
 * others: a symlink or a hard link planted at the path must not make us
 * overwrite the file it leads to.  So the final component is never
 * followed, and O_NONBLOCK keeps a FIFO there from blocking the open.
 */
int sl_pidfile_write(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        if (e == ELOOP)
            sl_error("--pidfile %s: is a symbolic link; refusing to write through it", path);
        else
            sl_error("--pidfile %s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
        st.st_uid != geteuid()) {
        sl_error("--pidfile %s: exists and is not a plain file of ours (a single "
                 "link, owned by uid %ld); refusing to write it", path, (long)geteuid());
        close(fd);
        return -EEXIST;
    }
    char line[32];
    int n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || write(fd, line, (size_t)n) != n) {
        int e = errno != 0 ? errno : EIO;
        sl_error("--pidfile %s: %s", path, strerror(e));
        close(fd);
        return -e;
    }
    close(fd);
    return 0;
}
