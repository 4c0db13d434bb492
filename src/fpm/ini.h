/* php-fpm's INI dialect: PHP's own INI scanner and parser (the "normal"
 * mode of zend_ini_scanner / zend_ini_parser), rebuilt so that a line reads
 * here exactly as it reads in php-fpm 8.2, errors included.
 *
 * php-fpm hands its configuration to that parser one physical line at a
 * time (the line plus '\n'), so a statement never spans lines; what PHP
 * accepts on one line is all there is:
 *
 *   [section]            any text; "quoted", 'raw' and ${VAR} parts
 *   name = value         name: any run of text but =;&|^$~(){}!"[ and tabs
 *   name[key] = value    an array entry; the key reads like a value
 *   name                 a bare name (the caller decides: php-fpm refuses it)
 *   ; comment
 *
 * A value is a concatenation of words, spaces, "double quoted" strings
 * (\" \\ \$ unescaped, ${VAR} expanded), 'single quoted' raw strings and
 * ${VAR} references; PHP constants (E_ALL, PHP_VERSION...) are replaced by
 * their value; yes/on/true give "1" and no/off/false/none/null give "";
 * the operators | & ^ ~ ! and parentheses compute integers
 * ("E_ALL & ~E_NOTICE" is "32759"). A syntax error reads as PHP's:
 * "syntax error, unexpected '=' in Unknown on line 1". */
#ifndef RL_FPM_INI_H
#define RL_FPM_INI_H

#include "core/rl.h"

typedef enum {
    RL_INI_SECTION,   /* "[name]": <name> */
    RL_INI_ENTRY,     /* "name = value": <name>, <value>; <value> NULL for a bare "name" */
    RL_INI_ARRAY,     /* "name[key] = value": <name>, <key>, <value> */
} rl_ini_event_t;

/* Called once per statement, in the order of the line, as PHP's parser
 * calls php-fpm: a statement is complete (and reported) before a syntax
 * error later on the same line is. The strings are NUL-terminated and valid
 * during the call only. */
typedef void (*rl_ini_statement_cb)(void *ctx, rl_ini_event_t ev, const char *name,
                                    const char *key, const char *value);
/* The value of ${<name>}, or NULL for the empty string. */
typedef const char *(*rl_ini_var_cb)(void *ctx, const char *name);

typedef struct {
    rl_ini_statement_cb statement;
    rl_ini_var_cb var;            /* NULL: every ${VAR} is empty */
    void *ctx;
} rl_ini_parser_t;

/* Parses <len> bytes of <text> as one call of PHP's INI parser on a string:
 * reading stops at the first NUL byte, as PHP's does. Returns RL_OK, or
 * RL_ERROR with PHP's message in <err> (without the "PHP:  " prefix and the
 * newline php-fpm prints around it). */
int rl_ini_parse(const rl_ini_parser_t *p, const char *text, size_t len, char *err, size_t errlen);

/* The value PHP's INI parser gives the bare word <name> (<len> bytes) when
 * it names a constant of PHP 8.2 as Debian builds it (E_*, PHP_*, LOG_*,
 * INI_*, TRUE...): "32767" for E_ALL. NULL when it is not one: the word
 * then stands for itself. Constants of extensions beyond these are not
 * known. */
const char *rl_ini_constant(const char *name, size_t len);

/* The PHP version relais-fpm reads configurations for, "8.2.x". */
const char *rl_ini_php_version(void);

#endif
