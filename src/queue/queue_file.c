/* queue_file - see queue_file.h. */
#include "queue/queue_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* renameat */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* The writer keeps the reader's bounds, so that nothing we write is
 * refused when read back. The checks run before anything is written, over
 * the lengths the escaping will give, in the order the reader meets them. */
static int check_header(const struct queue_meta *meta, const char *skip, size_t msg_len,
                        char **error_r)
{
    char first[96];
    size_t total = (size_t)g_snprintf(first, sizeof first, "%s %d\n%s: %zu\n", QUEUE_FILE_MAGIC,
                                      QUEUE_FILE_VERSION, QUEUE_FILE_SIZE_KEY, msg_len);
    size_t keys = 0, n = queue_meta_count(meta);
    for (size_t i = 0; i < n; i++) {
        const char *value;
        size_t len;
        const char *key = queue_meta_nth(meta, i, &value, &len);
        if (key[0] == '_' || (skip != NULL && strcmp(key, skip) == 0))
            continue; /* runtime-only, as in Mailman */
        if (!queue_meta_key_valid(key)) {
            *error_r = g_strdup_printf("invalid metadata key \"%s\" (use letters, "
                                       "digits, _ and .)",
                                       key);
            return -1;
        }
        if (++keys > QUEUE_FILE_MAX_KEYS) {
            *error_r = g_strdup_printf("more than %u metadata keys", QUEUE_FILE_MAX_KEYS);
            return -1;
        }
        size_t line = strlen(key) + 1 + (len > 0 ? 1 + queue_meta_escaped_len(value, len) : 0);
        if (line > QUEUE_FILE_MAX_LINE) {
            *error_r = g_strdup_printf("metadata %s longer than %u bytes once escaped", key,
                                       QUEUE_FILE_MAX_LINE);
            return -1;
        }
        total += line + 1;
        if (total >= QUEUE_FILE_MAX_META) {
            *error_r = g_strdup_printf("metadata larger than %u bytes", QUEUE_FILE_MAX_META);
            return -1;
        }
    }
    return 0;
}

/* Where a checked header goes: appended to buf, which is written to fd
 * (unless fd < 0) whenever it passes QUEUE_FILE_WRITE_BUF, so that a value
 * of many megabytes is escaped slice by slice and never held twice. */
#define QUEUE_FILE_WRITE_BUF (1u << 20)
struct emit {
    GString *buf;
    int fd;
    off_t written; /* bytes written to fd so far */
};

static int emit_flush(struct emit *e, bool force)
{
    if (e->fd < 0 || (!force && e->buf->len < QUEUE_FILE_WRITE_BUF))
        return 0;
    if (queue_file_write_all(e->fd, e->buf->str, e->buf->len, "", 0) < 0)
        return -1;
    /* Start writing this slice back now, while the next one is escaped:
     * the caller's fdatasync then finds most of a large header on disk
     * already. Only a hint (the fdatasync is what makes it durable). */
    (void)sync_file_range(e->fd, e->written, (off_t)e->buf->len, SYNC_FILE_RANGE_WRITE);
    e->written += (off_t)e->buf->len;
    g_string_truncate(e->buf, 0);
    return 0;
}

static int emit_header(struct emit *e, const struct queue_meta *meta, const char *skip,
                       size_t msg_len)
{
    g_string_append_printf(e->buf, "%s %d\n%s: %zu\n", QUEUE_FILE_MAGIC, QUEUE_FILE_VERSION,
                           QUEUE_FILE_SIZE_KEY, msg_len);
    size_t n = queue_meta_count(meta);
    for (size_t i = 0; i < n; i++) {
        const char *value;
        size_t len;
        const char *key = queue_meta_nth(meta, i, &value, &len);
        if (key[0] == '_' || (skip != NULL && strcmp(key, skip) == 0))
            continue;
        g_string_append(e->buf, key);
        g_string_append_c(e->buf, ':');
        if (len > 0)
            g_string_append_c(e->buf, ' ');
        for (size_t off = 0; off < len;) {
            size_t slice = MIN(len - off, (size_t)QUEUE_FILE_WRITE_BUF / 4);
            queue_meta_escape(e->buf, value + off, slice);
            off += slice;
            if (emit_flush(e, false) < 0)
                return -1;
        }
        g_string_append_c(e->buf, '\n');
    }
    g_string_append_c(e->buf, '\n');
    return 0;
}

int queue_file_format_header(GString *out, const struct queue_meta *meta, size_t msg_len,
                             char **error_r)
{
    return queue_file_format_header_skip(out, meta, NULL, msg_len, error_r);
}

int queue_file_format_header_skip(GString *out, const struct queue_meta *meta, const char *skip,
                                  size_t msg_len, char **error_r)
{
    if (check_header(meta, skip, msg_len, error_r) < 0)
        return -1;
    struct emit e = {out, -1, 0};
    return emit_header(&e, meta, skip, msg_len);
}

int queue_file_check_header(const struct queue_meta *meta, const char *skip, size_t msg_len,
                            char **error_r)
{
    return check_header(meta, skip, msg_len, error_r);
}

int queue_file_write_entry(int fd, const struct queue_meta *meta, const char *skip, const void *msg,
                           size_t msg_len)
{
    g_autoptr(GString) buf = g_string_sized_new(4096);
    struct emit e = {buf, fd, 0};
    if (emit_header(&e, meta, skip, msg_len) < 0)
        return -1;
    return queue_file_write_all(fd, buf->str, buf->len, msg, msg_len);
}

/* Strict unsigned decimal: digits only, no leading zero, below 2^64. */
static bool parse_decimal(const char *s, size_t len, uint64_t *value_r)
{
    if (len == 0 || len > 19 || (len > 1 && s[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!g_ascii_isdigit(s[i]))
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *value_r = v;
    return true;
}

static int parse_version(const char *data, size_t len, size_t *pos_r, char **error_r)
{
    size_t magic = strlen(QUEUE_FILE_MAGIC);
    const char *nl = memchr(data, '\n', MIN(len, (size_t)64));
    if (nl == NULL || (size_t)(nl - data) <= magic + 1 ||
        memcmp(data, QUEUE_FILE_MAGIC, magic) != 0 || data[magic] != ' ') {
        *error_r = g_strdup("not a crier queue file");
        return -1;
    }
    const char *v = data + magic + 1;
    uint64_t version;
    if (!parse_decimal(v, (size_t)(nl - v), &version) || version != QUEUE_FILE_VERSION) {
        *error_r = g_strdup_printf("unsupported queue file version \"%.*s\"", (int)(nl - v), v);
        return -1;
    }
    *pos_r = (size_t)(nl - data) + 1;
    return 0;
}

/* Parses one "key: value" line into meta; the size key goes to *size_r. */
static int parse_line(const char *line, size_t len, struct queue_meta *meta, bool *have_size,
                      uint64_t *size_r, char **error_r)
{
    const char *colon = memchr(line, ':', MIN(len, (size_t)QUEUE_META_MAX_KEY + 1));
    char key[QUEUE_META_MAX_KEY + 1];
    size_t key_len = colon ? (size_t)(colon - line) : 0;
    if (colon != NULL) {
        memcpy(key, line, key_len);
        key[key_len] = '\0';
    }
    bool is_size = colon != NULL && strcmp(key, QUEUE_FILE_SIZE_KEY) == 0;
    /* A NUL would hide the rest of the key; '_' keys are never written. */
    if (colon == NULL || memchr(key, '\0', key_len) != NULL || key[0] == '_' ||
        (!is_size && !queue_meta_key_valid(key))) {
        *error_r = g_strdup("malformed metadata line (no valid key)");
        return -1;
    }
    const char *value = colon + 1;
    size_t value_len = len - key_len - 1;
    if (value_len > 0) {
        if (value[0] != ' ') {
            *error_r = g_strdup_printf("malformed metadata line for %s", key);
            return -1;
        }
        value++;
        value_len--;
    }
    if (is_size) {
        if (*have_size || !parse_decimal(value, value_len, size_r)) {
            *error_r = g_strdup("bad or repeated message-size");
            return -1;
        }
        *have_size = true;
        return 0;
    }
    if (queue_meta_get(meta, key) != NULL) {
        *error_r = g_strdup_printf("repeated metadata key %s", key);
        return -1;
    }
    /* Decoded straight into the value's own buffer: one copy of a large
     * value, not two. */
    char *decoded = g_malloc(value_len + 1);
    size_t n = queue_meta_unescape_to(decoded, value, value_len);
    if (n == (size_t)-1) {
        g_free(decoded);
        *error_r = g_strdup_printf("bad escape in metadata value of %s", key);
        return -1;
    }
    if (value_len - n > 4096)
        decoded = g_realloc(decoded, n + 1);
    decoded[n] = '\0';
    queue_meta_set_owned(meta, key, decoded, n);
    return 0;
}

static int parse_block(const char *data, size_t len, size_t *pos, struct queue_meta *meta,
                       uint64_t *size_r, char **error_r)
{
    bool have_size = false;
    for (;;) {
        size_t avail = len - *pos;
        const char *line = data + *pos;
        const char *nl = memchr(line, '\n', MIN(avail, (size_t)QUEUE_FILE_MAX_LINE + 1));
        if (nl == NULL) {
            *error_r =
                avail > QUEUE_FILE_MAX_LINE
                    ? g_strdup_printf("metadata line longer than %u bytes", QUEUE_FILE_MAX_LINE)
                    : g_strdup("truncated metadata block");
            return -1;
        }
        size_t line_len = (size_t)(nl - line);
        *pos += line_len + 1;
        if (*pos > QUEUE_FILE_MAX_META) {
            *error_r = g_strdup_printf("metadata block larger than %u bytes", QUEUE_FILE_MAX_META);
            return -1;
        }
        if (line_len == 0)
            break;
        if (queue_meta_count(meta) >= QUEUE_FILE_MAX_KEYS) {
            *error_r = g_strdup_printf("more than %u metadata keys", QUEUE_FILE_MAX_KEYS);
            return -1;
        }
        if (parse_line(line, line_len, meta, &have_size, size_r, error_r) < 0)
            return -1;
    }
    if (!have_size) {
        *error_r = g_strdup("missing message-size");
        return -1;
    }
    return 0;
}

int queue_file_parse(const char *data, size_t len, struct queue_meta **meta_r, size_t *msg_off_r,
                     char **error_r)
{
    size_t pos;
    if (parse_version(data, len, &pos, error_r) < 0)
        return -1;
    struct queue_meta *meta = queue_meta_new();
    uint64_t size = 0;
    if (parse_block(data, len, &pos, meta, &size, error_r) < 0) {
        queue_meta_free(meta);
        return -1;
    }
    /* The size is what tells a complete file from a cut-off one. */
    if (len - pos != size) {
        *error_r =
            len - pos < size
                ? g_strdup_printf("truncated message (%zu of %" PRIu64 " bytes)", len - pos, size)
                : g_strdup_printf("%zu bytes after the message", len - pos);
        queue_meta_free(meta);
        return -1;
    }
    *meta_r = meta;
    *msg_off_r = pos;
    return 0;
}

/* Reads all of fd (at most its size at open, which a named queue file keeps)
 * into a new buffer; -1 with errno on failure. */
static int read_fd(int fd, char **data_r, size_t *len_r)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -1;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        return -1;
    }
    if ((uint64_t)st.st_size > QUEUE_FILE_MAX_SIZE) {
        errno = EFBIG;
        return -1;
    }
    size_t cap = (size_t)st.st_size, len = 0;
    g_autofree char *data = g_malloc(cap + 1);
    for (;;) {
        /* At the size, one more byte of room only confirms the end. */
        char probe;
        bool full = len == cap;
        ssize_t n = full ? read(fd, &probe, 1) : read(fd, data + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        if (full) {
            errno = EFBIG; /* grew while we read: not a finished entry */
            return -1;
        }
        len += (size_t)n;
    }
    data[len] = '\0';
    *len_r = len;
    *data_r = g_steal_pointer(&data);
    return 0;
}

int queue_file_read(int dirfd, const char *name, char **data_r, size_t *len_r, char **error_r)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    int rc = fd < 0 ? -1 : read_fd(fd, data_r, len_r);
    int saved = errno;
    if (fd >= 0)
        close(fd);
    if (rc < 0) {
        *error_r = g_strdup_printf("cannot read %s: %s", name, g_strerror(saved));
        errno = saved;
    }
    return rc;
}

int queue_file_write_all(int fd, const void *head, size_t head_len, const void *body,
                         size_t body_len)
{
    struct iovec iov[2] = {{(void *)head, head_len}, {(void *)body, body_len}};
    struct iovec *v = iov;
    int cnt = 2;
    while (cnt > 0) {
        ssize_t n = writev(fd, v, cnt);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        size_t left = (size_t)n;
        while (cnt > 0 && left >= v->iov_len) {
            left -= v->iov_len;
            v++;
            cnt--;
        }
        if (cnt > 0) {
            v->iov_base = (char *)v->iov_base + left;
            v->iov_len -= left;
        }
    }
    return 0;
}

int queue_file_rename_noreplace(int from_dirfd, const char *from, int to_dirfd, const char *to)
{
    int rc = renameat2(from_dirfd, from, to_dirfd, to, RENAME_NOREPLACE);
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
        if (faccessat(to_dirfd, to, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
            errno = EEXIST;
            return -1;
        }
        rc = renameat(from_dirfd, from, to_dirfd, to);
    }
    return rc;
}

char *queue_file_new_base(const void *part1, size_t len1, const void *part2, size_t len2)
{
    static uint64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char stamp[32];
    /* Mailman's repr(time.time()) shows about 7 decimals; we fix it at 7. */
    g_snprintf(stamp, sizeof stamp, "%lld.%07ld", (long long)ts.tv_sec, ts.tv_nsec / 100);
    struct {
        struct timespec ts;
        pid_t pid;
        uint64_t counter;
        uint64_t len1, len2;
    } unique;
    memset(&unique, 0, sizeof unique); /* the padding too: all of it is hashed */
    unique.ts = ts;
    unique.pid = getpid();
    unique.counter = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
    unique.len1 = len1;
    unique.len2 = len2;
    g_autoptr(GChecksum) sha = g_checksum_new(G_CHECKSUM_SHA1);
    g_checksum_update(sha, part1, (gssize)MIN(len1, QUEUE_FILE_BASE_HASHED));
    g_checksum_update(sha, part2, (gssize)MIN(len2, QUEUE_FILE_BASE_HASHED));
    g_checksum_update(sha, (const guchar *)&unique, sizeof unique);
    return g_strdup_printf("%s+%s", stamp, g_checksum_get_string(sha));
}

bool queue_file_parse_base(const char *name, size_t len, struct queue_file_base *base_r)
{
    size_t i = 0, int_digits = 0, frac_digits = 0;
    int64_t seconds = 0;
    uint32_t nanos = 0;
    for (; i < len && g_ascii_isdigit(name[i]); i++, int_digits++)
        seconds = int_digits < 18 ? seconds * 10 + (name[i] - '0') : seconds;
    if (int_digits == 0 || int_digits > 18)
        return false;
    if (i < len && name[i] == '.') {
        for (i++; i < len && g_ascii_isdigit(name[i]); i++, frac_digits++)
            if (frac_digits < 9)
                nanos = nanos * 10 + (uint32_t)(name[i] - '0');
        if (frac_digits == 0 || frac_digits > 20)
            return false;
        for (size_t k = frac_digits; k < 9; k++)
            nanos *= 10;
    }
    if (i >= len || name[i] != '+' || len - i - 1 != 40)
        return false;
    uint64_t top = 0;
    for (size_t k = 0; k < 40; k++) {
        char c = name[i + 1 + k];
        if (!g_ascii_isxdigit(c))
            return false;
        if (k < 16)
            top = top << 4 | (uint64_t)g_ascii_xdigit_value(c);
    }
    base_r->seconds = seconds;
    base_r->nanos = nanos;
    base_r->hash_top = top;
    return true;
}

int queue_file_check_slice(unsigned count, unsigned index, char **error_r)
{
    if (count == 0 || count > QUEUE_FILE_MAX_SLICE || (count & (count - 1)) != 0 ||
        index >= count) {
        *error_r = g_strdup_printf("bad queue slice %u of %u (instances must be a power of 2 up "
                                   "to %u)",
                                   index, count, QUEUE_FILE_MAX_SLICE);
        return -1;
    }
    return 0;
}

bool queue_file_in_slice(const struct queue_file_base *base, unsigned count, unsigned index)
{
    if (count <= 1)
        return true;
    int bits = __builtin_ctz(count);
    return (base->hash_top >> (64 - bits)) == index;
}

int queue_file_compare(const struct queue_file_base *a, const char *name_a,
                       const struct queue_file_base *b, const char *name_b)
{
    if (a->seconds != b->seconds)
        return a->seconds < b->seconds ? -1 : 1;
    if (a->nanos != b->nanos)
        return a->nanos < b->nanos ? -1 : 1;
    return strcmp(name_a, name_b);
}
