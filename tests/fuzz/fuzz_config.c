/* libFuzzer: the mailman.cfg reader, whole: parse, layer, validate, expand
 * paths. Errors are fine; crashes, hangs and leaks are not. */
#include "config/config.h"

#include <glib.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = g_strndup((const char *)data, size);
    struct config *cfg = NULL;
    char *err = NULL;
    if (config_load_text(text, "/fuzz/mailman.cfg", "/usr/bin", &cfg, &err) == 0) {
        (void)config_path(cfg, "queue_dir");
        g_free(config_expand(cfg, config_get(cfg, "database", "url"), NULL));
        config_free(cfg);
    }
    g_free(err);
    g_free(text);
    return 0;
}
