/* fsutil - see fsutil.h. */
#include "lib/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <glib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char **error_r, const char *what, const char *path)
{
    int saved = errno;
    *error_r = g_strdup_printf("%s %s: %s", what, path, g_strerror(saved));
    errno = saved;
    return -1;
}

int fs_mkdirs(const char *dir, mode_t mode, char **error_r)
{
    if (g_mkdir_with_parents(dir, (int)mode) != 0)
        return fail(error_r, "cannot create directory", dir);
    return 0;
}

int fs_fsync_dir(const char *dir, char **error_r)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fail(error_r, "cannot open directory", dir);
    if (fsync(fd) != 0) {
        int rc = fail(error_r, "cannot fsync directory", dir);
        close(fd);
        return rc;
    }
    close(fd);
    return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len, char **error_r)
{
    g_autofree char *tmp = g_strconcat(path, ".new", NULL);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(error_r, "cannot create", tmp);
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int rc = fail(error_r, "cannot write", tmp);
        close(fd);
        unlink(tmp);
        return rc;
    }
    if (close(fd) != 0) {
        int rc = fail(error_r, "cannot write", tmp);
        unlink(tmp);
        return rc;
    }
    if (rename(tmp, path) != 0) {
        int rc = fail(error_r, "cannot rename into place", path);
        unlink(tmp);
        return rc;
    }
    g_autofree char *dir = g_path_get_dirname(path);
    return fs_fsync_dir(dir, error_r);
}

int fs_read_file(const char *path, size_t max, char **data_r, size_t *len_r, char **error_r)
{
    /* Standard input is read from descriptor 0 itself: opening /dev/stdin
     * again is refused when it is a pipe of another user (crier run with
     * runuser or su, its input piped from the caller). */
    bool is_stdin = strcmp(path, "/dev/stdin") == 0;
    int fd = is_stdin ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(error_r, "cannot open", path);
    GString *buf = g_string_sized_new(4096);
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int rc = fail(error_r, "cannot read", path);
            close(fd);
            g_string_free(buf, TRUE);
            return rc;
        }
        if (n == 0)
            break;
        if (buf->len + (size_t)n > max) {
            close(fd);
            g_string_free(buf, TRUE);
            *error_r = g_strdup_printf("%s: larger than %zu bytes", path, max);
            return -1;
        }
        g_string_append_len(buf, chunk, n);
    }
    close(fd);
    if (len_r)
        *len_r = buf->len;
    *data_r = g_string_free(buf, FALSE);
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

int fs_remove_tree(const char *dir, char **error_r)
{
    if (!fs_exists(dir))
        return 0;
    if (nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return fail(error_r, "cannot remove", dir);
    return 0;
}

bool fs_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}
