/* Unit tests for queue, queue_recover and queue_admin: the life of entries
 * in real queue directories (a fresh temporary queue_dir per test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/fsutil.h"
#include "queue/queue.h"
#include "queue/queue_admin.h"
#include "queue/queue_batch.h"
#include "queue/queue_file.h"
#include "queue/queue_recover.h"
#include "queue_fixture.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *enqueue(struct queue *q, const char *key, const char *value, const void *msg,
                     size_t len)
{
    struct queue_meta *meta = queue_meta_new();
    if (key != NULL)
        queue_meta_set(meta, key, value);
    char *base = NULL, *error = NULL;
    if (queue_enqueue(q, meta, msg, len, &base, &error) < 0)
        fail_msg("%s", error);
    queue_meta_free(meta);
    return base;
}

/* n entries with message "x" in one group commit (fewer disk waits). */
static void enqueue_many(struct fixture *f, struct queue *q, size_t n)
{
    struct queue_meta *meta = queue_meta_new();
    struct queue_batch *batch = queue_batch_new(f->root);
    for (size_t i = 0; i < n; i++)
        queue_batch_add(batch, q, meta, "x", 1);
    assert_int_equal(queue_batch_commit(batch), 0);
    queue_batch_free(batch);
    queue_meta_free(meta);
}

static GPtrArray *list(struct queue *q, const char *ext)
{
    GPtrArray *bases;
    char *error = NULL;
    if (queue_list_ext(q, ext, 1, 0, &bases, &error) < 0)
        fail_msg("%s", error);
    return bases;
}

static unsigned count(struct queue *q, const char *ext)
{
    GPtrArray *bases = list(q, ext);
    unsigned n = bases->len;
    g_ptr_array_unref(bases);
    return n;
}

static struct queue_entry *claim(struct queue *q, const char *base)
{
    struct queue_entry *e = NULL;
    char *error = NULL;
    int rc = queue_claim(q, base, &e, &error);
    if (rc != 1)
        fail_msg("claim %s: %d %s", base, rc, error);
    return e;
}

/* The only waiting entry of q, claimed. */
static struct queue_entry *claim_only(struct queue *q)
{
    GPtrArray *bases = list(q, QUEUE_EXT_WAITING);
    assert_int_equal(bases->len, 1);
    struct queue_entry *e = claim(q, g_ptr_array_index(bases, 0));
    g_ptr_array_unref(bases);
    return e;
}

static bool exists(struct queue *q, const char *base, const char *ext)
{
    g_autofree char *path = g_strdup_printf("%s/%s%s", q->dir, base, ext);
    return fs_exists(path);
}

static const char binary_msg[] = "From: a@example.com\nSubject: \xe9t\xe9\n\nNUL:\0:\r\nbare LF\n"
                                 "\x80\xff\x00\x01 end";

static void test_round_trip_binary(void **state)
{
    struct fixture *f = *state;
    struct queue *in = get(f, "in");
    struct queue_meta *meta = queue_meta_new();
    queue_meta_set(meta, "listid", "test.example.com");
    queue_meta_set(meta, "to_list", "True");
    queue_meta_set(meta, "_parsemsg", "runtime only");
    char *base = NULL, *error = NULL;
    assert_int_equal(queue_enqueue(in, meta, binary_msg, sizeof binary_msg, &base, &error), 0);
    queue_meta_free(meta);
    assert_true(exists(in, base, ".pck"));
    assert_false(exists(in, base, ".pck.tmp"));

    struct queue_entry *e = claim(in, base);
    assert_true(exists(in, base, ".bak"));
    assert_false(exists(in, base, ".pck"));
    assert_int_equal(e->msg_len, sizeof binary_msg);
    assert_memory_equal(e->msg, binary_msg, sizeof binary_msg);
    assert_string_equal(queue_meta_get(e->meta, "listid"), "test.example.com");
    assert_string_equal(queue_meta_get(e->meta, "to_list"), "True");
    assert_null(queue_meta_get(e->meta, "_parsemsg"));
    /* A second claim finds it gone. */
    struct queue_entry *again = NULL;
    assert_int_equal(queue_claim(in, base, &again, &error), 0);

    assert_int_equal(queue_finish(e, &error), 0);
    assert_false(exists(in, base, ".bak"));
    assert_int_equal(queue_finish(e, &error), -1); /* only once */
    g_free(error);
    queue_entry_free(e);
    assert_int_equal(count(in, QUEUE_EXT_WAITING), 0);
    g_free(base);
}

static void test_fifo_order(void **state)
{
    struct fixture *f = *state;
    struct queue *out = get(f, "out");
    GPtrArray *made = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < 12; i++) {
        g_autofree char *msg = g_strdup_printf("message %d", i);
        g_ptr_array_add(made, enqueue(out, "n", msg, msg, strlen(msg)));
    }
    GPtrArray *bases = list(out, QUEUE_EXT_WAITING);
    assert_int_equal(bases->len, made->len);
    for (guint i = 0; i < made->len; i++)
        assert_string_equal(g_ptr_array_index(bases, i), g_ptr_array_index(made, i));
    /* Claiming in list order hands the messages out oldest first. */
    for (guint i = 0; i < bases->len; i++) {
        struct queue_entry *e = claim(out, g_ptr_array_index(bases, i));
        g_autofree char *want = g_strdup_printf("message %u", i);
        assert_string_equal(queue_meta_get(e->meta, "n"), want);
        queue_entry_free(e);
    }
    g_ptr_array_unref(bases);
    g_ptr_array_unref(made);
}

static void test_slices_partition(void **state)
{
    struct fixture *f = *state;
    struct queue *out = get(f, "out");
    enqueue_many(f, out, 64);
    for (unsigned n = 1; n <= 8; n *= 2) {
        GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        unsigned total = 0;
        for (unsigned s = 0; s < n; s++) {
            GPtrArray *bases;
            char *error = NULL;
            assert_int_equal(queue_list(out, n, s, &bases, &error), 0);
            for (guint i = 0; i < bases->len; i++)
                assert_true(g_hash_table_add(seen, g_strdup(g_ptr_array_index(bases, i))));
            total += bases->len;
            g_ptr_array_unref(bases);
        }
        assert_int_equal(total, 64);
        assert_int_equal(g_hash_table_size(seen), 64);
        g_hash_table_destroy(seen);
    }
    GPtrArray *bases;
    char *error = NULL;
    assert_int_equal(queue_list(out, 3, 0, &bases, &error), -1);
    g_free(error);
}

/* Simulates a crash while an entry is claimed: its ".bak" stays. */
static void crash_while_claimed(struct queue *q)
{
    queue_entry_free(claim_only(q));
}

static void test_recovery_counts_then_bad(void **state)
{
    struct fixture *f = *state;
    struct queue *in = get(f, "in");
    char *base = enqueue(in, "listid", "l.example.com", binary_msg, sizeof binary_msg);
    char *error = NULL;
    for (unsigned round = 1; round < QUEUE_MAX_RECOVERIES; round++) {
        crash_while_claimed(in);
        struct queue_recover_stats st;
        assert_int_equal(queue_recover(in, 1, 0, &st, &error), 0);
        assert_int_equal(st.restored, 1);
        assert_int_equal(st.preserved, 0);
        assert_true(exists(in, base, ".pck"));
        struct queue_entry *e = claim(in, base);
        uint64_t n = 0;
        assert_int_equal(queue_meta_get_uint(e->meta, QUEUE_KEY_RECOVERIES, &n, &error), 1);
        assert_int_equal(n, round);
        assert_memory_equal(e->msg, binary_msg, sizeof binary_msg);
        assert_string_equal(queue_meta_get(e->meta, "listid"), "l.example.com");
        assert_int_equal(queue_release(e, &error), 0);
        queue_entry_free(e);
    }
    crash_while_claimed(in);
    struct queue_recover_stats st;
    assert_int_equal(queue_recover(in, 1, 0, &st, &error), 0);
    assert_int_equal(st.restored, 0);
    assert_int_equal(st.preserved, 1);
    assert_false(exists(in, base, ".pck"));
    assert_false(exists(in, base, ".bak"));
    struct queue *bad = get(f, "bad");
    assert_true(exists(bad, base, ".psv"));
    g_free(base);
}

static void test_recovery_keeps_other_slices(void **state)
{
    struct fixture *f = *state;
    struct queue *out = get(f, "out");
    enqueue_many(f, out, 16);
    GPtrArray *bases = list(out, QUEUE_EXT_WAITING);
    for (guint i = 0; i < bases->len; i++)
        queue_entry_free(claim(out, g_ptr_array_index(bases, i)));
    g_ptr_array_unref(bases);
    char *error = NULL;
    struct queue_recover_stats st0, st1;
    assert_int_equal(queue_recover(out, 2, 0, &st0, &error), 0);
    GPtrArray *slice0;
    assert_int_equal(queue_list(out, 2, 0, &slice0, &error), 0);
    assert_int_equal(slice0->len, st0.restored);
    /* The other slice's claims are untouched until its own runner starts. */
    assert_int_equal(count(out, QUEUE_EXT_CLAIMED), 16 - st0.restored);
    assert_int_equal(queue_recover(out, 2, 1, &st1, &error), 0);
    assert_int_equal(st0.restored + st1.restored, 16);
    assert_int_equal(count(out, QUEUE_EXT_WAITING), 16);
    g_ptr_array_unref(slice0);
}

static void write_file(struct queue *q, const char *name, const char *data, time_t age)
{
    g_autofree char *path = g_build_filename(q->dir, name, NULL);
    assert_int_equal(g_file_set_contents(path, data, -1, NULL), TRUE);
    if (age > 0) {
        struct timespec ts[2] = {{time(NULL) - age, 0}, {time(NULL) - age, 0}};
        assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
    }
}

static void test_recovery_malformed_and_temps(void **state)
{
    struct fixture *f = *state;
    struct queue *in = get(f, "in");
    const char *b1 = "1700000000.0000000+1111111111111111111111111111111111111111";
    const char *b2 = "1700000000.0000000+2222222222222222222222222222222222222222";
    const char *b3 = "1700000000.0000000+3333333333333333333333333333333333333333";
    g_autofree char *bak = g_strconcat(b1, ".bak", NULL);
    g_autofree char *old_tmp = g_strconcat(b2, ".pck.tmp", NULL);
    g_autofree char *new_tmp = g_strconcat(b3, ".pck.tmp", NULL);
    /* A whole entry under a stale temporary name may be the only copy of
     * a requeued message (machine crash, no journal): kept in bad. */
    const char *b4 = "1700000000.0000000+4444444444444444444444444444444444444444";
    g_autofree char *whole_tmp = g_strconcat(b4, ".pck.tmp", NULL);
    write_file(in, bak, "crier-queue 1\nmessage-size: 99\n\ncut", 0);
    write_file(in, old_tmp, "partial", 120);
    write_file(in, new_tmp, "being written", 0);
    write_file(in, whole_tmp, "crier-queue 1\nmessage-size: 6\n\nhello\n", 120);
    write_file(in, "README", "not an entry", 120);
    struct queue_recover_stats st;
    char *error = NULL;
    assert_int_equal(queue_recover(in, 1, 0, &st, &error), 0);
    assert_int_equal(st.preserved, 2);
    assert_int_equal(st.temp_removed, 1);
    assert_true(exists(get(f, "bad"), b1, ".psv"));
    assert_true(exists(get(f, "bad"), b4, ".psv"));
    assert_false(exists(in, b4, ".pck.tmp"));
    assert_false(exists(in, b2, ".pck.tmp"));
    assert_true(exists(in, b3, ".pck.tmp"));
    g_autofree char *readme = g_build_filename(in->dir, "README", NULL);
    assert_true(fs_exists(readme));
}

static void test_malformed_claim_goes_to_bad(void **state)
{
    struct fixture *f = *state;
    struct queue *in = get(f, "in");
    static const char *const bodies[] = {
        "",                                           /* empty */
        "crier-queue 1\nmessage-size: 10\n\nshort",   /* truncated */
        "crier-queue 7\nmessage-size: 0\n\n",         /* version */
        "\x80\x04\x95\x10\x00\x00\x00pickle",         /* a Mailman pickle */
        "crier-queue 1\nmessage-size: 0\nx: \\z\n\n", /* escape */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bodies); i++) {
        g_autofree char *base = g_strdup_printf("1700000000.000000%zu+%040zu", i, i);
        g_autofree char *name = g_strconcat(base, ".pck", NULL);
        write_file(in, name, bodies[i], 0);
        struct queue_entry *e = NULL;
        char *error = NULL;
        assert_int_equal(queue_claim(in, base, &e, &error), -1);
        assert_null(e);
        assert_non_null(strstr(error, "malformed"));
        g_free(error);
        assert_true(exists(get(f, "bad"), base, ".psv"));
        assert_false(exists(in, base, ".bak"));
    }
}

static void test_checkpoint_survives_crash(void **state)
{
    struct fixture *f = *state;
    struct queue *out = get(f, "out");
    g_free(enqueue(out, "recipients", "a@x\nb@x\nc@x", "body", 4));
    struct queue_entry *e = claim_only(out);
    char *error = NULL;
    queue_meta_set(e->meta, "done_count", "2");
    assert_int_equal(queue_checkpoint(e, &error), 0);
    queue_entry_free(e); /* crash */
    assert_int_equal(queue_recover(out, 1, 0, NULL, &error), 0);
    e = claim_only(out);
    assert_string_equal(queue_meta_get(e->meta, "done_count"), "2");
    assert_string_equal(queue_meta_get(e->meta, "recipients"), "a@x\nb@x\nc@x");
    assert_int_equal(e->msg_len, 4);
    assert_memory_equal(e->msg, "body", 4);
    assert_int_equal(queue_finish(e, &error), 0);
    queue_entry_free(e);
    assert_int_equal(count(out, QUEUE_EXT_WAITING) + count(out, QUEUE_EXT_CLAIMED), 0);
}

static void test_requeue_moves_with_new_message(void **state)
{
    struct fixture *f = *state;
    struct queue *in = get(f, "in"), *pipeline = get(f, "pipeline");
    g_free(enqueue(in, "listid", "l", "old", 3));
    crash_while_claimed(in);
    char *error = NULL;
    assert_int_equal(queue_recover(in, 1, 0, NULL, &error), 0);
    struct queue_entry *e = claim_only(in);
    assert_non_null(queue_meta_get(e->meta, QUEUE_KEY_RECOVERIES));
    char *base = NULL;
    assert_int_equal(queue_requeue(e, pipeline, "new message", 11, &base, &error), 0);
    queue_entry_free(e);
    assert_int_equal(count(in, QUEUE_EXT_WAITING) + count(in, QUEUE_EXT_CLAIMED), 0);
    e = claim(pipeline, base);
    assert_memory_equal(e->msg, "new message", 11);
    assert_string_equal(queue_meta_get(e->meta, "listid"), "l");
    assert_null(queue_meta_get(e->meta, QUEUE_KEY_RECOVERIES));
    queue_entry_free(e);
    g_free(base);
}

/* A fan-out's entry: a recipient list of a few MiB (more than the writer's
 * 1 MiB buffer, with every kind of escape) survives the requeue that
 * writes it slice by slice, the claim that drops the header from the
 * image, a checkpoint, and a crash recovery, byte for byte. */
static void test_large_recipients_round_trip(void **state)
{
    struct fixture *f = *state;
    struct queue *pipeline = get(f, "pipeline"), *out = get(f, "out");
    GString *rcpts = g_string_new(NULL);
    for (unsigned i = 0; i < 150000; i++)
        g_string_append_printf(rcpts, "%smember%u@example.org", i ? "\n" : "", i);
    g_string_append(rcpts, "\n\"odd\\\r\x01\x7f\"@example.org");
    g_free(enqueue(pipeline, "listid", "l", binary_msg, sizeof binary_msg));
    struct queue_entry *e = claim_only(pipeline);
    size_t len = rcpts->len;
    queue_meta_set_owned(e->meta, "recipients", g_string_free(rcpts, FALSE), len);
    queue_meta_set(e->meta, "after", "x");
    char *error = NULL, *base = NULL;
    assert_int_equal(queue_requeue(e, out, NULL, 0, &base, &error), 0);
    struct queue_meta *expect = queue_meta_copy(e->meta);
    queue_entry_free(e);
    const char *want;

    for (int round = 0; round < 3; round++) {
        e = claim(out, base);
        size_t got_len;
        const char *got = queue_meta_get_len(e->meta, "recipients", &got_len);
        want = queue_meta_get_len(expect, "recipients", &len);
        assert_int_equal(got_len, len);
        assert_memory_equal(got, want, len);
        assert_string_equal(queue_meta_get(e->meta, "after"), "x");
        assert_string_equal(queue_meta_get(e->meta, "listid"), "l");
        assert_int_equal(e->msg_len, sizeof binary_msg);
        assert_memory_equal(e->msg, binary_msg, sizeof binary_msg);
        if (round == 0) {
            queue_meta_set(e->meta, "done", "1");
            assert_int_equal(queue_checkpoint(e, &error), 0);
            queue_entry_free(e); /* crash */
            assert_int_equal(queue_recover(out, 1, 0, NULL, &error), 0);
        } else if (round == 1) {
            assert_string_equal(queue_meta_get(e->meta, "done"), "1");
            assert_int_equal(queue_release(e, &error), 0);
            queue_entry_free(e);
        } else {
            /* steal hands the value over and removes the key */
            size_t sl;
            char *stolen = queue_meta_steal(e->meta, "recipients", &sl);
            assert_int_equal(sl, len);
            assert_memory_equal(stolen, want, len);
            assert_int_equal(stolen[sl], '\0');
            assert_null(queue_meta_get(e->meta, "recipients"));
            assert_null(queue_meta_steal(e->meta, "recipients", NULL));
            g_free(stolen);
            assert_int_equal(queue_finish(e, &error), 0);
            queue_entry_free(e);
        }
    }
    queue_meta_free(expect);
    g_free(base);
}

static void test_shunt_and_unshunt(void **state)
{
    struct fixture *f = *state;
    struct queue *pipeline = get(f, "pipeline"), *shunt = get(f, "shunt"), *in = get(f, "in");
    char *error = NULL;
    g_free(enqueue(pipeline, "listid", "l", binary_msg, sizeof binary_msg));
    struct queue_entry *e = claim_only(pipeline);
    assert_int_equal(queue_shunt(e, &error), 0);
    queue_entry_free(e);
    assert_int_equal(count(pipeline, QUEUE_EXT_WAITING) + count(pipeline, QUEUE_EXT_CLAIMED), 0);
    e = claim_only(shunt);
    assert_string_equal(queue_meta_get(e->meta, QUEUE_KEY_WHICHQ), "pipeline");
    assert_int_equal(queue_release(e, &error), 0);
    queue_entry_free(e);
    /* A shunted entry without whichq goes to "in"; one with an unknown
     * whichq stays. */
    g_free(enqueue(shunt, NULL, NULL, "no whichq", 9));
    g_free(enqueue(shunt, QUEUE_KEY_WHICHQ, "nowhere", "lost", 4));

    struct queue_admin_unshunt res;
    assert_int_equal(queue_admin_unshunt(f->root, false, &res, &error), 0);
    assert_int_equal(res.moved, 2);
    assert_int_equal(res.failures->len, 1);
    assert_non_null(strstr(g_ptr_array_index(res.failures, 0), "No such queue: nowhere"));
    assert_non_null(strstr(g_ptr_array_index(res.failures, 0), "Cannot unshunt message "));
    g_ptr_array_unref(res.failures);
    e = claim_only(pipeline);
    assert_memory_equal(e->msg, binary_msg, sizeof binary_msg);
    assert_string_equal(queue_meta_get(e->meta, "listid"), "l");
    queue_entry_free(e);
    e = claim_only(in);
    assert_memory_equal(e->msg, "no whichq", 9);
    queue_entry_free(e);
    assert_int_equal(count(shunt, QUEUE_EXT_WAITING), 1);
    assert_int_equal(count(shunt, QUEUE_EXT_CLAIMED), 0);

    assert_int_equal(queue_admin_unshunt(f->root, true, &res, &error), 0);
    assert_int_equal(res.discarded, 1);
    g_ptr_array_unref(res.failures);
    assert_int_equal(count(shunt, QUEUE_EXT_WAITING), 0);
}

static void test_bad_and_release(void **state)
{
    struct fixture *f = *state;
    struct queue *command = get(f, "command");
    char *base = enqueue(command, NULL, NULL, "m", 1);
    struct queue_entry *e = claim(command, base);
    char *error = NULL;
    assert_int_equal(queue_release(e, &error), 0);
    queue_entry_free(e);
    assert_true(exists(command, base, ".pck"));
    e = claim(command, base);
    assert_int_equal(queue_bad(e, &error), 0);
    queue_entry_free(e);
    assert_false(exists(command, base, ".bak"));
    assert_true(exists(get(f, "bad"), base, ".psv"));
    g_free(base);
}

static void test_admin_list_inject_qfile(void **state)
{
    struct fixture *f = *state;
    char *error = NULL, *base = NULL;
    struct queue_meta *meta = queue_meta_new();
    queue_meta_set(meta, "listid", "ant.example.com");
    queue_meta_set(meta, "note", "it's\nfine");
    assert_int_equal(queue_admin_inject(f->root, "nope", meta, "x", 1, &base, &error), -1);
    assert_string_equal(error, "No such queue: nope");
    g_free(error);
    error = NULL;
    assert_int_equal(
        queue_admin_inject(f->root, "virgin", meta, "Subject: hi\n\nbody\n", 18, &base, &error), 0);
    queue_meta_free(meta);

    GPtrArray *infos;
    assert_int_equal(queue_admin_list_all(f->root, &infos, &error), 0);
    assert_int_equal(infos->len, 12);
    for (guint i = 0; i < infos->len; i++) {
        struct queue_admin_info *info = g_ptr_array_index(infos, i);
        assert_int_equal(info->bases->len, strcmp(info->name, "virgin") == 0 ? 1 : 0);
        assert_true(g_file_test(info->dir, G_FILE_TEST_IS_DIR));
    }
    assert_string_equal(((struct queue_admin_info *)g_ptr_array_index(infos, 0))->name, "archive");
    g_ptr_array_unref(infos);

    g_autofree char *path = g_strdup_printf("%s/virgin/%s.pck", f->dir, base);
    struct queue_meta *back;
    char *msg;
    size_t len;
    assert_int_equal(queue_admin_read(path, &back, &msg, &len, &error), 0);
    assert_int_equal(len, 18);
    GString *dump = queue_admin_dump(back, msg, len);
    assert_non_null(strstr(dump->str, "[----- start pickle -----]\n<----- start object 1 ----->\n"
                                      "Subject: hi\n\nbody\n<----- start object 2 ----->\n"));
    assert_non_null(strstr(dump->str, "{   'listid': 'ant.example.com',\n    'note': "
                                      "\"it's\\nfine\"}\n[----- end pickle -----]\n"));
    g_string_free(dump, TRUE);
    g_free(msg);
    queue_meta_free(back);
    g_free(base);
    assert_int_equal(queue_admin_read("/nonexistent/x.pck", &back, &msg, &len, &error), -1);
    g_free(error);
}

static void test_custom_path_and_names(void **state)
{
    struct fixture *f = *state;
    char *error = NULL;
    g_autofree char *elsewhere = g_build_filename(f->dir, "deep", "er", "out", NULL);
    assert_int_equal(queue_root_set_path(f->root, "out", elsewhere, &error), 0);
    assert_int_equal(queue_root_set_path(f->root, "lmtpx", elsewhere, &error), 0);
    assert_true(queue_root_known(f->root, "lmtpx"));
    assert_false(queue_root_known(f->root, "nntpx"));
    struct queue *out = get(f, "out");
    assert_string_equal(out->dir, elsewhere);
    assert_true(g_file_test(elsewhere, G_FILE_TEST_IS_DIR));
    assert_int_equal(queue_root_set_path(f->root, "out", f->dir, &error), -1);
    g_free(error);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_binary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slices_partition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_counts_then_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_keeps_other_slices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_malformed_and_temps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_claim_goes_to_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_survives_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requeue_moves_with_new_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_recipients_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shunt_and_unshunt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_and_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admin_list_inject_qfile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_custom_path_and_names, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
