/*
 * runner_command_eml - the email commands of the command runner (Mailman's
 * commands/eml_*.py): confirm, echo, end, help, join, leave, stop,
 * subscribe, unsubscribe, who. Each prints its results into ctx->out with
 * Mailman's texts and says whether to go on with the next line.
 */
#ifndef CRIER_RUNNER_COMMAND_EML_H
#define CRIER_RUNNER_COMMAND_EML_H

#include "workflow/workflow.h"

#include <glib.h>
#include <stdbool.h>

struct pmsg;
struct queue_meta;
struct store_list;

/* One command message being processed. */
struct command_ctx {
    struct workflow_ctx w;
    const struct store_list *l;
    const struct pmsg *msg;
    const char *sender; /* msg.sender, NULL when none */
    GString *out;       /* the results text */
    bool send_response;
    GHashTable *joins, *confirms, *leaves; /* seen in this message */
};

/* ContinueProcessing */
enum command_status { COMMAND_STOP = 0, COMMAND_CONTINUE = 1, COMMAND_FAIL = -1 };

struct command {
    const char *name;
    const char *argument_description;
    const char *short_description;
    const char *description; /* already wrapped as Mailman's help shows it */
    /* args: NULL-terminated, lower-cased. COMMAND_FAIL: the store failed. */
    enum command_status (*process)(struct command_ctx *c, const struct command *self, char **args);
};

/* The command called name, or NULL. */
const struct command *runner_command_eml_find(const char *name);

#endif
