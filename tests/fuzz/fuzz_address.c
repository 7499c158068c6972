/* libFuzzer: address checks and member-file lines (GMime's RFC 5322 parser
 * behind them). A line accepted as an address yields a valid address. */
#include "cli/cli_memberfile.h"
#include "mail/address.h"

#include "fuzz.h"
#include <glib.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = g_strndup((const char *)data, size);
    (void)address_is_valid(text);
    (void)address_list_name_ok(text, "[-_.0-9a-z]");
    char *name = NULL, *email = NULL;
    if (memberfile_parse(text, &name, &email))
        FUZZ_CHECK(address_is_valid(email));
    g_free(name);
    g_free(email);
    g_free(text);
    return 0;
}
