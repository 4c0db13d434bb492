/* The modules built into relaisd, in the order their hooks run. core must
 * come first: its per-server slot is the server record itself. */
#include "httpd/httpd.h"

extern rl_module_t rl_core_module, rl_unixd_module, rl_so_module, rl_version_module,
    rl_http_module, rl_logio_module, rl_watchdog_module, rl_mpm_event_module,
    rl_mpm_worker_module, rl_mpm_prefork_module, rl_log_config_module, rl_mime_module,
    rl_alias_module, rl_dir_module, rl_authz_core_module, rl_authz_host_module,
    rl_reqtimeout_module, rl_env_module, rl_setenvif_module, rl_access_compat_module,
    rl_authn_core_module, rl_auth_basic_module, rl_authn_file_module, rl_authz_user_module,
    rl_authz_groupfile_module, rl_autoindex_module, rl_deflate_module, rl_filter_module,
    rl_negotiation_module, rl_status_module, rl_proxy_module, rl_proxy_fcgi_module,
    rl_fastcgi_module, rl_actions_module, rl_rewrite_module, rl_expires_module,
    rl_headers_module;

rl_module_t *rl_modules[] = {
    &rl_core_module, &rl_so_module, &rl_http_module, &rl_unixd_module, &rl_version_module,
    &rl_logio_module, &rl_watchdog_module, &rl_mpm_event_module, &rl_mpm_worker_module,
    &rl_mpm_prefork_module, &rl_log_config_module, &rl_reqtimeout_module, &rl_setenvif_module,
    /* mod_rewrite translates first (and its fixup comes first), then
     * mod_proxy before mod_alias: a ProxyPass wins over an Alias */
    &rl_rewrite_module, &rl_proxy_module, &rl_alias_module,
    /* Order/Allow/Deny before Require: Apache's access checker runs before
     * its authorization ("Satisfy" combines them) */
    &rl_access_compat_module,
    &rl_authz_core_module, &rl_authz_host_module, &rl_mime_module, &rl_dir_module, &rl_env_module,
    &rl_proxy_fcgi_module, &rl_status_module,
    /* after the FastCGI runtime's handler: mod_fastcgi's requests go to it,
     * and mod_actions' handler is Apache's last one (APR_HOOK_LAST) */
    &rl_fastcgi_module, &rl_actions_module,
    /* last: RequestHeader after the other fixups (SetEnv), as Apache's
     * APR_HOOK_LAST; their response work runs before the head is built */
    &rl_expires_module, &rl_headers_module,
    /* not implemented yet: see mod/stubs.c */
    &rl_authn_core_module, &rl_auth_basic_module, &rl_authn_file_module,
    &rl_authz_user_module, &rl_authz_groupfile_module, &rl_autoindex_module, &rl_deflate_module,
    &rl_filter_module, &rl_negotiation_module,
    NULL
};

unsigned rl_nmodules = sizeof(rl_modules) / sizeof(rl_modules[0]) - 1;
