/* MIME types by file-name extension, the way mod_mime assigns them.
 *
 * A table maps lower-cased extensions to types. Tables stack: an overlay
 * (per-directory AddType / RemoveType) is consulted before its parent (the
 * server's AddTypes, then TypesConfig's /etc/mime.types), so a directory's
 * table costs only its own entries. All memory comes from the arena given at
 * creation; a table lives as long as that arena (a config generation). Tables
 * are not to be changed once requests use them. */
#ifndef RL_HTTP_MIME_H
#define RL_HTTP_MIME_H

#include "core/rl.h"
#include "core/str.h"
#include "core/arena.h"

typedef struct rl_mime_s rl_mime_t;

/* Creates an empty table whose lookups fall through to <parent> (NULL: a
 * base table). <parent> must outlive it. */
rl_mime_t *rl_mime_create(rl_arena_t *a, const rl_mime_t *parent);

/* Same as rl_mime_create(a, parent): named for the per-directory use. */
rl_mime_t *rl_mime_overlay(rl_arena_t *a, const rl_mime_t *parent);

/* Creates a base table from a file in /etc/mime.types format: lines "type
 * ext ext ...", fields separated by spaces or tabs, lines starting with '#'
 * (after blanks) ignored; an extension listed twice keeps its last type.
 * Returns NULL if the file cannot be read, with a message in <err>. */
rl_mime_t *rl_mime_load(rl_arena_t *a, const char *path, char *err, size_t errlen);

/* AddType: maps extension <ext> (leading dot optional, any case) to <type>
 * (lower-cased, as Apache stores AddType's argument), replacing what this
 * table held for it and hiding what its parents hold. */
void rl_mime_add(rl_mime_t *m, const char *type, const char *ext);

/* RemoveType: <ext> gives no type through this table, whatever the parents
 * say (Apache's RemoveType also hides TypesConfig's mapping). */
void rl_mime_remove(rl_mime_t *m, const char *ext);

/* The type of one extension (no dot, any case), or NULL. */
const char *rl_mime_lookup_ext(const rl_mime_t *m, rl_str_t ext);

/* The type of file <filename> (a path is fine: only the part after the last
 * '/' counts), or NULL when no extension has one. As mod_mime: leading dots
 * belong to the base name (".png" has no extension), the base name ends at
 * the first following dot, every later dot-separated part is an extension
 * (empty parts skipped) and the last one with a type wins:
 * "index.html.en" -> text/html, "a.tar.gz" -> the type of gz. */
const char *rl_mime_lookup(const rl_mime_t *m, rl_str_t filename);

/* Entries held by this table itself (not its parents), for tests and -t. */
size_t rl_mime_count(const rl_mime_t *m);

#endif
