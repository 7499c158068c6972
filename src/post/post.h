/*
 * post - the posting path (reference §6): the incoming runner's chains
 * (rules, moderation, hold, reject, discard) and the pipeline runner's
 * handlers, on a struct pmsg with the entry's metadata.
 *
 *   post_chain_run     the list's posting chain (or the owner chain) over
 *                      one message: the verdict, the rule hits and misses,
 *                      the moderation reasons
 *   post_pipeline_run  the handlers of the posting, owner or virgin
 *                      pipeline; leaves the recipients in the metadata
 *   post_template      Mailman's template lookup and $substitution
 *
 * The runners (runner_post.c) do the queueing; everything here works on
 * memory and the store.
 */
#ifndef CRIER_POST_H
#define CRIER_POST_H

#include "post/pmsg.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct config;
struct queue_meta;
struct store;
struct store_list;

enum post_verdict { POST_ACCEPT, POST_HOLD, POST_REJECT, POST_DISCARD, POST_OWNER };

struct post_roster_cache;

struct post_ctx {
    struct config *cfg;
    struct store *st;
    const struct store_list *list;
    struct pmsg *msg;
    struct queue_meta *meta;
    GPtrArray *senders; /* lower-case, valid (pmsg_senders) */
    GPtrArray *hits;    /* rule names (static or owned by names) */
    GPtrArray *misses;
    GPtrArray *reasons;   /* moderation reasons, g_free */
    GPtrArray *names;     /* owned strings the two above point into */
    bool approved;        /* the approved rule matched */
    const char *rejected; /* a handler rejected the post: why (static) */
    /* Queues an internal notice (virgin) for recipients (newline-joined);
     * set by the runner, NULL in tests that need none. */
    void (*notice)(void *ud, const char *recipients, const char *msg, size_t len);
    void *notice_ud;
    /* Queues a copy of the message to another queue (to-archive,
     * to-digest); NULL: those handlers do nothing. */
    int (*enqueue)(void *ud, const char *queue, struct queue_meta *meta, const char *msg,
                   size_t len, char **error_r);
    /* Large rosters kept between posts (the pipeline runner's); NULL:
     * member-recipients reads the roster every time. */
    struct post_roster_cache *rosters;
};

void post_ctx_init(struct post_ctx *c, struct config *cfg, struct store *st,
                   const struct store_list *l, struct pmsg *msg, struct queue_meta *meta);
void post_ctx_clear(struct post_ctx *c);

/* Runs the posting chain; *verdict_r gets the outcome. -1 only when the
 * store fails. */
int post_chain_run(struct post_ctx *c, enum post_verdict *verdict_r, char **error_r);

/* "; "-joined hits or misses, or NULL when empty (g_free). */
char *post_join_rules(GPtrArray *names);

/* Which pipeline: "default-posting-pipeline", "default-owner-pipeline" or
 * "virgin". Sets the metadata "recipients" (and "verp", "nodecorate" for
 * owner mail); the message is edited in place. A posting that is
 * discarded by a handler returns 1; -1 on a store error. */
int post_pipeline_run(struct post_ctx *c, const char *pipeline, char **error_r);

/* mime-delete (content filtering, when the list's filter_content is on):
 * edits the message, or returns why the whole post must go (the caller
 * applies filter_action); NULL otherwise. */
const char *post_mime_delete(struct post_ctx *c);

/* A GMime rewrite of the message (pmsg_to_gmime) taken back into m. */
void post_gmime_put_back(struct pmsg *m, struct _GMimeMessage *msg);

/* Header and footer (reference §4.4) around the message m of list l;
 * member_vars (NULL: none) adds the per-recipient substitutions ($member,
 * $user_email, $user_name, ...). The out runner decorates at delivery, as
 * Mailman: once for a bulk delivery, per recipient for VERP and
 * personalized ones. */
void post_decorate(struct config *cfg, const struct store_list *l, struct pmsg *m,
                   GHashTable *member_vars);

/* The text of template name ("list:user:notice:hold") for the list, looked
 * up as §4.4 says, with $variables substituted from vars (plus the list's
 * own: listname, list_id, display_name, short_listname, domain,
 * description, info, request_email, owner_email, site_email, language). */
char *post_template(struct config *cfg, const struct store_list *l, const char *name,
                    GHashTable *vars);

/* $name / ${name} substitution, unknown names left alone ($$ is $). */
char *post_substitute(const char *text, GHashTable *vars);

/* Verifies a moderator password against the stored value: a crypt(3)
 * hash ("$6$..."), "{plaintext}pw", or the plain text. */
bool post_password_ok(const char *stored, const char *given);

#endif
