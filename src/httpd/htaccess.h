/* .htaccess files: read along the directory walk where AllowOverride (or
 * AllowOverrideList) lets them count, parsed once per version of the file
 * and kept by each worker process.
 *
 * A version is (device, inode, size, mtime, ctime): an edited file is read
 * again on the next request, no reload needed. Every version read stays in
 * memory until the worker ends (a graceful restart), because requests and
 * the merged-configuration cache may still point into it. */
#ifndef RL_HTACCESS_H
#define RL_HTACCESS_H

#include "httpd/config.h"
#include "httpd/request.h"

/* The .htaccess file (AccessFileName) of directory <dir> for <r>, read with
 * the overrides <ovr>, the names <list> (AllowOverrideList) and the
 * Options <opts> it may set (AllowOverride Options=...). Returns 0
 * with *<out> NULL when there is none, 0 with *<out> set when there is
 * one, or the HTTP status the request gets: 500 when the file is wrong,
 * 403 when it cannot be read (both logged, as Apache logs them). */
int rl_htaccess_get(rl_request_t *r, const char *dir, unsigned ovr, const char *const *list,
                    int opts, const rl_htaccess_t **out);

#endif
