/*
 * rest_password - passwords as Mailman's passlib context keeps them
 * (mailman/config/passlib.cfg: sha512_crypt, at least 60000 rounds): a
 * crypt(3) SHA-512 hash "$6$rounds=60000$<16 salt chars>$..." made with
 * crypt_r and a salt from OpenSSL's RAND_bytes. passlib verifies these
 * and, at 60000 rounds, does not ask to rehash them; one costs about
 * 17 ms of CPU.
 */
#ifndef CRIER_REST_PASSWORD_H
#define CRIER_REST_PASSWORD_H

#include <stdbool.h>

/* The hash (g_free), or NULL if crypt_r fails. */
char *rest_password_hash(const char *cleartext);
/* Whether cleartext matches the stored hash (also "$5$", "{plaintext}"). */
bool rest_password_check(const char *stored, const char *cleartext);
/* A random cleartext of len characters, as passlib's generate_password
 * (Mailman gives a user created without a password one). */
char *rest_password_generate(int len);

#endif
