/* proto_limits - the LMTP server's default bounds and their consistency
 * check. */
#include "proto/proto_limits.h"

#include <glib.h>

void proto_limits_lmtp_defaults(struct lmtp_limits *limits)
{
    *limits = (struct lmtp_limits){
        .max_line_length = LMTP_DEFAULT_MAX_LINE_LENGTH,
        .max_header_size = LMTP_DEFAULT_MAX_HEADER_SIZE,
        .max_message_size = LMTP_DEFAULT_MAX_MESSAGE_SIZE,
        .max_recipients = LMTP_DEFAULT_MAX_RECIPIENTS,
        .max_errors = LMTP_DEFAULT_MAX_ERRORS,
        .command_timeout_ms = LMTP_DEFAULT_COMMAND_TIMEOUT_MS,
        .data_timeout_ms = LMTP_DEFAULT_DATA_TIMEOUT_MS,
        .session_timeout_ms = LMTP_DEFAULT_SESSION_TIMEOUT_MS,
        .close_timeout_ms = LMTP_DEFAULT_CLOSE_TIMEOUT_MS,
        .max_connections = LMTP_DEFAULT_MAX_CONNECTIONS,
        .evict_idle_ms = LMTP_DEFAULT_EVICT_IDLE_MS,
        .max_input_buffer = LMTP_DEFAULT_MAX_INPUT_BUFFER,
        .max_output_buffer = LMTP_DEFAULT_MAX_OUTPUT_BUFFER,
    };
}

int proto_limits_lmtp_check(const struct lmtp_limits *limits, char **error_r)
{
    /* Each row: a field that must be non-zero. */
    const struct {
        const char *name;
        size_t value;
    } nonzero[] = {
        {"max_header_size", limits->max_header_size},
        {"max_message_size", limits->max_message_size},
        {"max_recipients", limits->max_recipients},
        {"max_errors", limits->max_errors},
        {"command_timeout_ms", limits->command_timeout_ms},
        {"data_timeout_ms", limits->data_timeout_ms},
        {"session_timeout_ms", limits->session_timeout_ms},
        {"close_timeout_ms", limits->close_timeout_ms},
        {"max_connections", limits->max_connections},
        {"max_output_buffer", limits->max_output_buffer},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(nonzero); i++) {
        if (nonzero[i].value == 0) {
            *error_r = g_strdup_printf("LMTP limit %s must be greater than 0", nonzero[i].name);
            return -1;
        }
    }
    if (limits->max_line_length < LMTP_MIN_LINE_LENGTH) {
        *error_r = g_strdup_printf("LMTP limit max_line_length must be at least %d (RFC 5321)",
                                   LMTP_MIN_LINE_LENGTH);
        return -1;
    }
    /* A whole command line must fit in the input buffer, or a session
     * paused with a full buffer could never see the line's end. */
    if (limits->max_input_buffer < limits->max_line_length + 2) {
        *error_r = g_strdup_printf("LMTP limit max_input_buffer (%zu) must exceed "
                                   "max_line_length (%zu) + 2",
                                   limits->max_input_buffer, limits->max_line_length);
        return -1;
    }
    return 0;
}
