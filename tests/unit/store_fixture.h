/*
 * store_fixture - the store's unit tests' fixture: a new SQLite store in a
 * temporary directory, with the domain example.com and the lists named.
 * dir, path (the database file) and url belong to the fixture.
 */
#ifndef CRIER_TESTS_STORE_FIXTURE_H
#define CRIER_TESTS_STORE_FIXTURE_H

#include "lib/fsutil.h"
#include "store/store.h"
#include "unit_check.h"

struct fixture {
    char *dir;
    char *path;
    char *url; /* sqlite:///abs/... */
    struct store *st;
};

/* lists: fqdn list names, NULL-terminated (NULL for none). */
static inline struct fixture *store_fixture_new(const char *const *lists)
{
    struct fixture *f = g_new0(struct fixture, 1);
    f->dir = g_dir_make_tmp("crier-store-XXXXXX", NULL);
    assert_non_null(f->dir);
    f->path = g_build_filename(f->dir, "mailman.db", NULL);
    f->url = g_strconcat("sqlite://", f->path, NULL);
    CHECK(store_open(f->url, &f->st, &err));
    CHECK(store_domain_create(f->st, "example.com", NULL, NULL, NULL, &err));
    for (size_t i = 0; lists != NULL && lists[i] != NULL; i++)
        CHECK(store_list_create(f->st, lists[i], NULL, NULL, &err));
    return f;
}

static inline void store_fixture_free(struct fixture *f)
{
    store_close(f->st);
    char *e = NULL;
    assert_int_equal(fs_remove_tree(f->dir, &e), 0);
    g_free(f->dir);
    g_free(f->path);
    g_free(f->url);
    g_free(f);
    g_clear_pointer(&err, g_free);
}

#endif
