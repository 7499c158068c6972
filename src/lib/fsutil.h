/*
 * fsutil - small file-system helpers with no mail knowledge.
 *
 * Fallible functions return 0 on success and -1 on failure; on failure they
 * store a newly allocated message in *error_r (free it with g_free) naming
 * the path and the system error. Strings returned through out parameters are
 * newly allocated (g_free).
 */
#ifndef CRIER_FSUTIL_H
#define CRIER_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Creates dir and any missing parents (like mkdir -p). */
int fs_mkdirs(const char *dir, mode_t mode, char **error_r);

/* Durably replaces path with data: writes "<path>.new", fsyncs it, renames it
 * over path, then fsyncs the directory. Callers serialize writers of the same
 * path (the ".new" name is fixed, as Mailman's map writer uses). */
int fs_write_atomic(const char *path, const void *data, size_t len, char **error_r);

/* fsyncs the directory dir, making a rename or create in it durable. */
int fs_fsync_dir(const char *dir, char **error_r);

/* Reads a whole file of at most max bytes into *data_r (NUL-terminated for
 * convenience) and its length into *len_r. A larger file is an error.
 * "/dev/stdin" reads descriptor 0 (a copy of it), never reopens it. */
int fs_read_file(const char *path, size_t max, char **data_r, size_t *len_r, char **error_r);

/* Removes dir and everything below it; a missing dir is not an error. */
int fs_remove_tree(const char *dir, char **error_r);

/* True if path exists (any type). */
bool fs_exists(const char *path);

#endif
