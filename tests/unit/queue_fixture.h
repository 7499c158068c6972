/*
 * queue_fixture - the queue unit tests' fixture: a queue root over a new
 * temporary directory, and get() for one of its queues (the test fails if
 * it cannot be opened).
 */
#ifndef CRIER_TESTS_QUEUE_FIXTURE_H
#define CRIER_TESTS_QUEUE_FIXTURE_H

#include "lib/fsutil.h"
#include "queue/queue_root.h"

struct fixture {
    char *dir;
    struct queue_root *root;
};

static int setup(void **state)
{
    struct fixture *f = g_new0(struct fixture, 1);
    f->dir = g_dir_make_tmp("crier-queue-XXXXXX", NULL);
    assert_non_null(f->dir);
    f->root = queue_root_new(f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char *error = NULL;
    queue_root_free(f->root);
    assert_int_equal(fs_remove_tree(f->dir, &error), 0);
    g_free(f->dir);
    g_free(f);
    return 0;
}

static struct queue *get(struct fixture *f, const char *name)
{
    struct queue *q;
    char *error = NULL;
    if (queue_root_get(f->root, name, &q, &error) < 0)
        fail_msg("%s", error);
    return q;
}

#endif
