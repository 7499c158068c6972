/*
 * notice - internally generated mail (Mailman's UserNotification): a
 * text/plain message with From, To, Subject, Date, Message-ID and
 * Precedence: bulk, built with GMime so that headers are encoded
 * (RFC 2047) and folded properly. And Mailman's wrap(): fill paragraphs to
 * 70 columns, leaving indented lines alone.
 *
 * Results are newly allocated (g_free). No I/O.
 */
#ifndef CRIER_NOTICE_H
#define CRIER_NOTICE_H

#include <stddef.h>

/* recipients: NULL-terminated. The text is sent as UTF-8 (us-ascii when it
 * is plain ASCII). *len_r gets the length of the returned message. */
char *notice_build(const char *from, const char *const *recipients, const char *subject,
                   const char *text, const char *hostname, size_t *len_r);

/* The same with the message `attached` (raw bytes) as a message/rfc822
 * part after the text: multipart/mixed (Mailman's OwnerNotification with
 * an attachment). to_header, when not NULL, is the To: shown instead of
 * the recipients (Mailman shows the list's -owner address). */
char *notice_build_with_message(const char *from, const char *to_header,
                                const char *const *recipients, const char *subject,
                                const char *text, const char *attached, size_t attached_len,
                                const char *hostname, size_t *len_r);

/* A text/plain part of text (UTF-8) with its bytes as they are, charset
 * us-ascii when plain ASCII, else utf-8; the caller owns the reference. */
struct _GMimeTextPart *notice_text_part(const char *text);

/* Mailman's wrap(): fills each paragraph (lines separated by blank lines
 * or a change of indentation) to column as Python's textwrap does (two
 * spaces after a sentence, white space runs kept); indented lines are kept
 * as they are. A filled last paragraph loses its final newline. */
char *notice_wrap(const char *text, size_t column);

#endif
