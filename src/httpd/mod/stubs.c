/* Modules of Debian's default set that relais does not implement yet, so
 * that Debian's stock tree loads: cosmetic ones (autoindex's icons,
 * compression, language negotiation), whose
 * directives are accepted and listed by relaisd -t as ignored; responses
 * are served without them.
 * Authentication (AuthType, AuthName, AuthUserFile...) is accepted: every
 * "Require user/valid-user/group" that would rely on it is an error of
 * mod_authz_core until authentication exists. */
#include "httpd/config.h"

#define IGN(name) { name, rl_cmd_ignored_listed, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_ALL, RL_ARGS_RAW, NULL }
#define END { NULL, NULL, 0, 0, 0, 0, NULL }

static const rl_cmd_t authn_core_cmds[] = { IGN("AuthType"), IGN("AuthName"), END };
static const rl_cmd_t auth_basic_cmds[] = {
    IGN("AuthBasicProvider"), IGN("AuthBasicAuthoritative"), IGN("AuthBasicFake"),
    IGN("AuthBasicUseDigestAlgorithm"), END
};
static const rl_cmd_t authn_file_cmds[] = { IGN("AuthUserFile"), END };
static const rl_cmd_t authz_groupfile_cmds[] = { IGN("AuthGroupFile"), END };
static const rl_cmd_t autoindex_cmds[] = {
    IGN("IndexOptions"), IGN("AddIcon"), IGN("AddIconByType"), IGN("AddIconByEncoding"),
    IGN("AddAlt"), IGN("AddAltByType"), IGN("AddAltByEncoding"), IGN("AddDescription"),
    IGN("DefaultIcon"), IGN("ReadmeName"), IGN("HeaderName"), IGN("IndexIgnore"),
    IGN("IndexIgnoreReset"), IGN("IndexOrderDefault"), IGN("IndexStyleSheet"),
    IGN("IndexHeadInsert"), END
};
static const rl_cmd_t deflate_cmds[] = {
    IGN("DeflateCompressionLevel"), IGN("DeflateBufferSize"), IGN("DeflateFilterNote"),
    IGN("DeflateMemLevel"), IGN("DeflateWindowSize"), IGN("DeflateInflateLimitRequestBody"),
    IGN("DeflateInflateRatioBurst"), IGN("DeflateInflateRatioLimit"), IGN("DeflateAlterETag"),
    END
};
static const rl_cmd_t filter_cmds[] = {
    IGN("AddOutputFilterByType"), IGN("FilterDeclare"), IGN("FilterProvider"),
    IGN("FilterChain"), IGN("FilterProtocol"), IGN("FilterTrace"), END
};
static const rl_cmd_t negotiation_cmds[] = {
    IGN("LanguagePriority"), IGN("ForceLanguagePriority"), IGN("CacheNegotiatedDocs"), END
};

rl_module_t rl_authn_core_module = { .name = "authn_core", .explicit_only = true, .cmds = authn_core_cmds };
rl_module_t rl_auth_basic_module = { .name = "auth_basic", .explicit_only = true, .cmds = auth_basic_cmds };
rl_module_t rl_authn_file_module = { .name = "authn_file", .explicit_only = true, .cmds = authn_file_cmds };
rl_module_t rl_authz_user_module = { .name = "authz_user", .explicit_only = true };
rl_module_t rl_authz_groupfile_module = { .name = "authz_groupfile", .explicit_only = true, .cmds = authz_groupfile_cmds };
rl_module_t rl_autoindex_module = { .name = "autoindex", .explicit_only = true, .cmds = autoindex_cmds };
rl_module_t rl_deflate_module = { .name = "deflate", .explicit_only = true, .cmds = deflate_cmds };
rl_module_t rl_filter_module = { .name = "filter", .explicit_only = true, .cmds = filter_cmds };
rl_module_t rl_negotiation_module = { .name = "negotiation", .explicit_only = true, .cmds = negotiation_cmds };
