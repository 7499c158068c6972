/*
 * workflow - Mailman's subscription and unsubscription workflows
 * (reference §7.2, §7.3; mailman/app/subscriptions.py): the sanity checks,
 * address verification, the list's (un)subscription_policy (open, confirm,
 * moderate, confirm_then_moderate), pending tokens, confirmation mails,
 * moderator approval, welcome and goodbye messages, invitations; and the
 * autoresponse limit ([mta] max_autoresponses_per_day).
 *
 * Callers: the command runner (email commands), and the REST API
 * (POST /members, /lists/x/requests/<token>). Everything happens in the
 * store and in the virgin queue; nothing here talks to the network.
 *
 * A workflow that must wait (for the subscriber's confirmation or the
 * moderator's approval) saves its state under a pending token (40 lower
 * hex, store_pending_*, type "subscription" or "unsubscription", the keys
 * list_id, email, display_name, when, token_owner as Mailman's pendable)
 * and returns; workflow_confirm(token) resumes it. A token is single use:
 * every step that moves on replaces it (Mailman's replay protection).
 *
 * Mail goes to the virgin queue of w->qroot (metadata listid, recipients,
 * nodecorate, reduced_list_headers) as Mailman's UserNotification does.
 *
 * Return codes: 0 on success, < 0 an enum workflow_error; *error_r then
 * gets a newly allocated text, Mailman's str() of the exception where it
 * has one ("a@b is already a MemberRole.member of mailing list x@y", ...).
 * Results are filled only on success (workflow_result_clear frees them).
 */
#ifndef CRIER_WORKFLOW_H
#define CRIER_WORKFLOW_H

#include <stdbool.h>
#include <stdint.h>

struct config;
struct store;
struct store_list;
struct queue_root;
struct queue_meta;
struct pmsg;

enum workflow_error {
    WORKFLOW_ERR = -1,            /* the store or the queue failed */
    WORKFLOW_ALREADY_MEMBER = -2, /* AlreadySubscribedError */
    WORKFLOW_BANNED = -3,         /* MembershipIsBannedError */
    WORKFLOW_INVALID_EMAIL = -4,  /* InvalidEmailAddressError (incl. the posting address) */
    WORKFLOW_PENDING = -5,        /* SubscriptionPendingError (no Mailman text: "") */
    WORKFLOW_NOT_MEMBER = -6,     /* NotAMemberError */
    WORKFLOW_NO_TOKEN = -7,       /* LookupError: unknown, expired or foreign token */
};

/* Mailman's TokenOwner. */
enum workflow_token_owner {
    WORKFLOW_OWNER_NO_ONE = 0,
    WORKFLOW_OWNER_SUBSCRIBER = 1,
    WORKFLOW_OWNER_MODERATOR = 2,
};
const char *workflow_token_owner_name(enum workflow_token_owner o); /* "no_one", ... */

struct workflow_ctx {
    struct config *cfg;
    struct store *st;
    struct queue_root *qroot; /* notices are queued to its "virgin" queue */
    int64_t now;              /* microseconds since the epoch; 0: the real clock */
};

/* What a run ended with (Mailman's (token, token_owner, member)). */
struct workflow_result {
    char *token; /* NULL when the workflow finished */
    enum workflow_token_owner token_owner;
    char *member_id; /* subscription: the new member; unsubscription: the
                        member still subscribed (NULL once it has left) */
};
void workflow_result_clear(struct workflow_result *r);

struct workflow_subscribe_opts {
    const char *display_name; /* for a new address/user; NULL none */
    bool pre_verified, pre_confirmed, pre_approved;
    bool invitation;     /* send an invitation; implies the three pre_* */
    int send_welcome;    /* -1: the list's send_welcome_message, 0 no, 1 yes */
    int delivery_mode;   /* enum store_delivery_mode, 0: preferences */
    int delivery_status; /* enum store_delivery_status, 0: preferences */
};
#define WORKFLOW_SUBSCRIBE_OPTS_INIT                                                               \
    {                                                                                              \
        .send_welcome = -1                                                                         \
    }

/* ISubscriptionManager.register for email (an address, created with a
 * user when new). */
int workflow_subscribe(struct workflow_ctx *w, const struct store_list *l, const char *email,
                       const struct workflow_subscribe_opts *o, struct workflow_result *r,
                       char **error_r);

/* ISubscriptionManager.unregister: email must be a member (role member)
 * of l, else WORKFLOW_NOT_MEMBER. */
int workflow_unsubscribe(struct workflow_ctx *w, const struct store_list *l, const char *email,
                         bool pre_confirmed, bool pre_approved, struct workflow_result *r,
                         char **error_r);

/* ISubscriptionManager.confirm: resumes the workflow waiting on token, of
 * either owner (a moderator-owned token is the moderator's approval).
 * WORKFLOW_NO_TOKEN when there is none for this list; the sanity errors
 * (already a member, banned) can come back on the way. */
int workflow_confirm(struct workflow_ctx *w, const struct store_list *l, const char *token,
                     struct workflow_result *r, char **error_r);

/* What a moderator does with a (un)subscription request (REST's actions). */
enum workflow_action {
    WORKFLOW_ACCEPT,  /* = workflow_confirm */
    WORKFLOW_DISCARD, /* drop the request silently */
    WORKFLOW_REJECT,  /* drop it and tell the subscriber why */
    WORKFLOW_DEFER,   /* leave it (only checks that it exists) */
};
/* reason: for a rejection; NULL gives "[No reason given]". */
int workflow_moderate(struct workflow_ctx *w, const struct store_list *l, const char *token,
                      enum workflow_action action, const char *reason, char **error_r);

/* The autoresponse limit (Mailman's autorespond_to_sender). Kinds are
 * Mailman's Response values, plus crier's own for command results. */
enum workflow_response {
    WORKFLOW_RESPONSE_HOLD = 1,
    WORKFLOW_RESPONSE_COMMAND = 2,
    WORKFLOW_RESPONSE_OWNER = 3,
    WORKFLOW_RESPONSE_POSTINGS = 4,
    WORKFLOW_RESPONSE_RESULTS = 5, /* crier: the results of email commands */
};
/* May a response of kind go to email for l today? Records it when yes.
 * Under [mta] max_autoresponses_per_day (0: unlimited) it is yes; at the
 * limit it is no, and the sender gets the "Last autoresponse notification
 * for today" notice once; beyond, a plain no. 1 yes, 0 no, < 0 error. */
int workflow_autorespond_ok(struct workflow_ctx *w, const struct store_list *l, int kind,
                            const char *email, char **error_r);
/* Mailman's Replybot: an automatic response to the sender of m when the
 * list's autorespond_owner / _requests / _postings says so (by the
 * metadata to_owner, to_request, to_list), outside the grace period, and
 * not for X-Ack: no, noack, or Precedence bulk/junk/list without X-Ack:
 * yes. 1 sent, 0 not, < 0 error. */
int workflow_replybot(struct workflow_ctx *w, const struct store_list *l, const struct pmsg *m,
                      const struct queue_meta *meta, char **error_r);
/* The day used for the limit: "YYYY-MM-DD" of w->now in local time (g_free). */
char *workflow_today(const struct workflow_ctx *w);

#endif
