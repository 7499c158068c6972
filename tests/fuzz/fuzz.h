/* fuzz - shared by the libFuzzer harnesses: an invariant check that stays
 * on in optimised builds (assert() would vanish under NDEBUG). */
#ifndef CRIER_FUZZ_H
#define CRIER_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
