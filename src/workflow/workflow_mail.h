/*
 * workflow_mail - the mail the workflows send (Mailman's
 * app/subscriptions.py, app/notifications.py, app/membership.py): built
 * with notice_build(), queued to the virgin queue as Mailman's
 * UserNotification.send() does. Texts come from the templates
 * (post_template: the list's, the domain's, the site's, then crier's
 * built-in copies of Mailman's).
 *
 * All return 0, or -1 with *error_r when the queue cannot be written.
 */
#ifndef CRIER_WORKFLOW_MAIL_H
#define CRIER_WORKFLOW_MAIL_H

#include "workflow/workflow.h"

#include <stdbool.h>

enum workflow_mail_flags {
    WORKFLOW_MAIL_NO_PRECEDENCE = 1 << 0,  /* add_precedence=False */
    WORKFLOW_MAIL_AUTO_SUBMITTED = 1 << 1, /* Auto-Submitted: auto-generated */
    WORKFLOW_MAIL_NO_ARCHIVE = 1 << 2,     /* X-No-Archive: yes */
    WORKFLOW_MAIL_VERP = 1 << 3,           /* metadata verp from verp_personalized_deliveries */
    WORKFLOW_MAIL_REPLYBOT = 1 << 4,       /* X-Mailer: The Mailman Replybot, X-Ack: No */
};

/* A UserNotification: To shows to_header (or the recipients), metadata
 * recipients are rcpts (NULL-terminated bare emails); envsender NULL
 * leaves the out runner's default. */
int workflow_mail_send(struct workflow_ctx *w, const struct store_list *l, const char *from,
                       const char *to_header, const char *const *rcpts, const char *subject,
                       const char *text, unsigned flags, const char *envsender, char **error_r);

enum workflow_confirm_kind {
    WORKFLOW_CONFIRM_JOIN,
    WORKFLOW_CONFIRM_LEAVE,
    WORKFLOW_CONFIRM_INVITE
};
/* The confirmation (or invitation) mail for token, to email. */
int workflow_mail_confirmation(struct workflow_ctx *w, const struct store_list *l,
                               enum workflow_confirm_kind kind, const char *token,
                               const char *email, char **error_r);
/* "New (un)subscription request to <Display> from <email>" to -owner. */
int workflow_mail_moderators(struct workflow_ctx *w, const struct store_list *l, bool leave,
                             const char *email, const char *display_name, char **error_r);
/* Welcome to a new member (digest: the subject says so). */
int workflow_mail_welcome(struct workflow_ctx *w, const struct store_list *l, const char *email,
                          const char *display_name, bool digest, char **error_r);
int workflow_mail_goodbye(struct workflow_ctx *w, const struct store_list *l, const char *email,
                          char **error_r);
/* admin_notify_mchanges: "<Display> (un)subscription notification" to
 * the list's owners and moderators. */
int workflow_mail_mchange(struct workflow_ctx *w, const struct store_list *l, bool leave,
                          const char *email, const char *display_name, char **error_r);
/* send_rejection(): "Request to mailing list "<Display>" rejected". */
int workflow_mail_refuse(struct workflow_ctx *w, const struct store_list *l, const char *email,
                         const char *request, const char *reason, char **error_r);

#endif
