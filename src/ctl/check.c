/* relaisd against the FPM (see check.h). Both configurations are read with
 * the daemons' own loaders (rl_config_load, rl_fpm_conf_load), so the
 * check sees what the daemons will see: the Include'd files, the true
 * <IfModule> bodies, the FPM's defaults and $pool. The handler directives
 * come from relaisd's evaluated tree, which still knows file and line. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "core/buf.h"
#include "core/proc.h"
#include "ctl/check.h"
#include "ctl/fpmctl.h"
#include "fpm/conf.h"
#include "httpd/config.h"

#define DEFAULT_IPC_DIR "/var/lib/apache2/fastcgi"   /* mod_fastcgi's, as relaisd */
#define MAX_SEEN 256

typedef struct handler_s {
    const char *file;
    int line;
    char sock[PATH_MAX];
    const rl_server_t *server;      /* the virtual host; NULL: server level */
    struct handler_s *next;
} handler_t;

typedef struct {
    const rl_ctl_t *c;
    rl_config_t *cf;
    rl_fpm_conf_t *fpm;
    rl_ctl_cred_t web;
    char web_user[64], web_group[64];
    char ipc_dir[PATH_MAX];
    handler_t *handlers, **tail;
    char *seen[MAX_SEEN];           /* "pool\n/docroot" pairs already checked */
    int nseen;
    int warnings;
} check_t;

/* ---- pure helpers ---- */

bool rl_ctl_may(const rl_ctl_cred_t *cred, mode_t mode, uid_t uid, gid_t gid, int want)
{
    if (cred->uid == 0)
        return true;
    unsigned bits = mode & 07;
    if (cred->uid == uid) {
        bits = (mode >> 6) & 07;
    } else {
        bool member = cred->gid == gid;
        for (int i = 0; i < cred->ngroups && !member; i++)
            member = cred->groups[i] == gid;
        if (member)
            bits = (mode >> 3) & 07;
    }
    return (bits & (unsigned)want) == (unsigned)want;
}

void rl_ctl_normalize(const char *path, char *out, size_t len)
{
    char buf[PATH_MAX], *comp[256];
    int n = 0;
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *save = NULL, *s = strtok_r(buf, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
        if (strcmp(s, ".") == 0)
            continue;
        if (strcmp(s, "..") == 0)
            n -= n > 0;
        else if (n < 256)
            comp[n++] = s;
    }
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(out + o, o < len ? len - o : 0, "/%s", comp[i]);
    if (o == 0)
        snprintf(out, len, "/");
}

/* "unix:/path|..." (case-insensitive "unix:") -> /path */
static bool unix_url(const char *url, char *out, size_t len)
{
    if (strncasecmp(url, "unix:", 5) != 0)
        return false;
    const char *bar = strchr(url + 5, '|');
    size_t n = bar ? (size_t)(bar - url - 5) : strlen(url + 5);
    if (n == 0 || n >= len)
        return false;
    memcpy(out, url + 5, n);
    out[n] = '\0';
    return true;
}

bool rl_ctl_handler_socket(const char *name, int argc, char **argv, const char *ipc_dir,
                           char *out, size_t len)
{
    if (strcasecmp(name, "SetHandler") == 0)
        return argc >= 1 && strncasecmp(argv[0], "proxy:", 6) == 0 &&
               unix_url(argv[0] + 6, out, len);
    if (strcasecmp(name, "ProxyPass") == 0 || strcasecmp(name, "ProxyPassMatch") == 0) {
        for (int i = 0; i < argc; i++)
            if (unix_url(argv[i], out, len))
                return true;
        return false;
    }
    if (strcasecmp(name, "FastCgiExternalServer") != 0)
        return false;
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "-socket") != 0)
            continue;
        const char *s = argv[i + 1];
        snprintf(out, len, "%s%s%s", s[0] == '/' ? "" : ipc_dir, s[0] == '/' ? "" : "/", s);
        return true;
    }
    return false;
}

/* ---- output ---- */

static void warn(check_t *k, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void warn(check_t *k, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "relaisctl: warning: %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    k->warnings++;
}

static const char *user_name(uid_t uid, char *buf, size_t len)
{
    struct passwd *pw = getpwuid(uid);
    if (pw)
        snprintf(buf, len, "%s", pw->pw_name);
    else
        snprintf(buf, len, "#%u", (unsigned)uid);
    return buf;
}

static const char *group_name(gid_t gid, char *buf, size_t len)
{
    struct group *gr = getgrgid(gid);
    if (gr)
        snprintf(buf, len, "%s", gr->gr_name);
    else
        snprintf(buf, len, "#%u", (unsigned)gid);
    return buf;
}

/* ---- credentials ---- */

/* <user> ("name" or "#uid") with <group> (NULL: the user's primary group)
 * and the user's supplementary groups, as initgroups() gives them. */
static bool cred_for(const char *user, const char *group, rl_ctl_cred_t *cr)
{
    uid_t uid;
    if (rl_proc_resolve_user(user, &uid, NULL, 0) != RL_OK)
        return false;
    struct passwd *pw = getpwuid(uid);
    cr->uid = uid;
    cr->gid = pw ? pw->pw_gid : (gid_t)-1;
    if (group && *group && rl_proc_resolve_group(group, &cr->gid, NULL, 0) != RL_OK)
        return false;
    cr->ngroups = (int)RL_NELEMS(cr->groups);
    if (!pw || getgrouplist(pw->pw_name, cr->gid, cr->groups, &cr->ngroups) < 0)
        cr->ngroups = 0;
    return true;
}

/* relaisd's workers: User/Group when started as root (relaisd's defaults
 * www-data or nobody), else whoever starts it. */
static void web_cred(check_t *k)
{
    const char *user = k->cf->user, *group = k->cf->group;
    uid_t uid;
    if (geteuid() != 0) {
        k->web.uid = geteuid();
        k->web.gid = getegid();
        int n = getgroups((int)RL_NELEMS(k->web.groups), k->web.groups);
        k->web.ngroups = n > 0 ? n : 0;
        user_name(k->web.uid, k->web_user, sizeof(k->web_user));
        group_name(k->web.gid, k->web_group, sizeof(k->web_group));
        return;
    }
    if (user == NULL)
        user = rl_proc_resolve_user("www-data", &uid, NULL, 0) == RL_OK ? "www-data" : "nobody";
    if (group == NULL)
        group = strcmp(user, "www-data") == 0 ? "www-data" : "nogroup";
    snprintf(k->web_user, sizeof(k->web_user), "%s", user);
    snprintf(k->web_group, sizeof(k->web_group), "%s", group);
    if (!cred_for(user, group, &k->web))
        k->web.uid = 0;            /* relaisd -t would have failed: do not guess */
}

/* ---- relaisd's handlers ---- */

static const rl_server_t *find_vhost(const rl_config_t *cf, const rl_conf_node_t *n)
{
    for (const rl_server_t *s = cf->main->next; s; s = s->next)
        if (s->defn_line == n->line && s->defn_file && strcmp(s->defn_file, n->file) == 0)
            return s;
    return NULL;
}

static void add_handler(check_t *k, const rl_conf_node_t *n, const rl_server_t *vhost,
                        const char *sock)
{
    handler_t *h = rl_arena_calloc(k->cf->arena, sizeof(*h));
    h->file = n->file;
    h->line = n->line;
    h->server = vhost;
    if (sock[0] == '/')
        rl_ctl_normalize(sock, h->sock, sizeof(h->sock));
    else
        rl_ctl_normalize(rl_config_path(k->cf, sock), h->sock, sizeof(h->sock));
    *k->tail = h;
    k->tail = &h->next;
}

static void walk(check_t *k, const rl_conf_node_t *n, const rl_server_t *vhost)
{
    for (; n; n = n->next) {
        if (n->section) {
            bool vh = strcasecmp(n->name, "VirtualHost") == 0;
            walk(k, n->first_child, vh ? find_vhost(k->cf, n) : vhost);
            continue;
        }
        if (strcasecmp(n->name, "FastCgiIpcDir") == 0 && n->argc >= 1)
            snprintf(k->ipc_dir, sizeof(k->ipc_dir), "%s", rl_config_path(k->cf, n->argv[0]));
        char sock[PATH_MAX];
        if (rl_ctl_handler_socket(n->name, n->argc, n->argv, k->ipc_dir, sock, sizeof(sock)))
            add_handler(k, n, vhost, sock);
    }
}

/* ---- the FPM's pools ---- */

static bool same_path(const char *a, const char *b)
{
    char na[PATH_MAX], nb[PATH_MAX];
    rl_ctl_normalize(a, na, sizeof(na));
    rl_ctl_normalize(b, nb, sizeof(nb));
    if (strcmp(na, nb) == 0)
        return true;
    /* /var/run/php vs /run/php: the directories, resolved */
    char *sa = strrchr(na, '/'), *sb = strrchr(nb, '/');
    if (strcmp(sa, sb) != 0)
        return false;
    *sa = *sb = '\0';
    char ra[PATH_MAX], rb[PATH_MAX];
    return realpath(*na ? na : "/", ra) && realpath(*nb ? nb : "/", rb) && strcmp(ra, rb) == 0;
}

static const rl_fpm_pool_t *pool_for(const check_t *k, const char *sock)
{
    for (const rl_fpm_pool_t *p = k->fpm->pools; p; p = p->next)
        if (p->listen_domain == RL_FPM_LISTEN_UNIX && p->listen_address &&
            same_path(p->listen_address, sock))
            return p;
    return NULL;
}

static bool has_acl(const rl_fpm_pool_t *p)
{
    return (p->listen_acl_users && *p->listen_acl_users) ||
           (p->listen_acl_groups && *p->listen_acl_groups);
}

/* Does the comma-separated <list> of names grant one of <ids>? */
static bool acl_lists(const char *list, bool groups, const rl_ctl_cred_t *cr)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", list ? list : "");
    for (char *save = NULL, *n = strtok_r(buf, ", ", &save); n; n = strtok_r(NULL, ", ", &save)) {
        if (!groups) {
            struct passwd *pw = getpwnam(n);
            if (pw && pw->pw_uid == cr->uid)
                return true;
            continue;
        }
        struct group *gr = getgrnam(n);
        bool member = gr && gr->gr_gid == cr->gid;
        for (int i = 0; gr && i < cr->ngroups && !member; i++)
            member = cr->groups[i] == gr->gr_gid;
        if (member)
            return true;
    }
    return false;
}

/* The socket's owner, group and mode, as the FPM master (taken to run as
 * relaisctl does) creates it. */
static mode_t socket_perms(const rl_fpm_pool_t *p, uid_t *uid, gid_t *gid)
{
    *uid = geteuid();
    *gid = getegid();
    if (!has_acl(p) && p->listen_owner && *p->listen_owner) {
        struct passwd *pw = getpwnam(p->listen_owner);
        if (pw)
            *uid = pw->pw_uid, *gid = pw->pw_gid;
    }
    if (!has_acl(p) && p->listen_group && *p->listen_group) {
        struct group *gr = getgrnam(p->listen_group);
        if (gr)
            *gid = gr->gr_gid;
    }
    return p->listen_mode && *p->listen_mode ? (mode_t)strtoul(p->listen_mode, NULL, 8) : 0660;
}

/* The first directory of the way to <path> (its parents only when
 * <parents_only>, else <path> too with <last_want>) that <cr> cannot
 * pass, with its stat, in <bad>; false when none (or the path is not
 * there: another problem). */
static bool blocked(const rl_ctl_cred_t *cr, const char *path, bool parents_only, int last_want,
                    char *bad, size_t len, struct stat *st)
{
    char p[PATH_MAX];
    rl_ctl_normalize(path, p, sizeof(p));
    size_t n = strlen(p);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        bool last = p[i] == '\0';
        if (last && parents_only)
            break;
        char saved = p[i];
        p[i] = '\0';
        int rc = stat(p, st);
        snprintf(bad, len, "%s", p);
        p[i] = saved;
        if (rc != 0)
            return false;
        if (!rl_ctl_may(cr, st->st_mode, st->st_uid, st->st_gid, last ? last_want : 1))
            return true;
    }
    return false;
}

static void describe(const struct stat *st, char *out, size_t len)
{
    char u[64], g[64];
    snprintf(out, len, "%04o %s:%s", (unsigned)(st->st_mode & 07777),
             user_name(st->st_uid, u, sizeof(u)), group_name(st->st_gid, g, sizeof(g)));
}

static void check_socket(check_t *k, const handler_t *h, const rl_fpm_pool_t *p)
{
    uid_t su;
    gid_t sg;
    mode_t mode = socket_perms(p, &su, &sg);
    bool acl_ok = has_acl(p) && (acl_lists(p->listen_acl_users, false, &k->web) ||
                                 acl_lists(p->listen_acl_groups, true, &k->web));
    char u[64], g[64], bad[PATH_MAX], what[200];
    if (!acl_ok && !rl_ctl_may(&k->web, mode, su, sg, 2))
        warn(k, h->file, h->line, "handler socket %s: relaisd's User %s (Group %s) cannot "
             "connect: pool %s creates it %04o %s:%s (listen.owner, listen.group, listen.mode%s)",
             h->sock, k->web_user, k->web_group, p->name, (unsigned)mode,
             user_name(su, u, sizeof(u)), group_name(sg, g, sizeof(g)),
             has_acl(p) ? "; listen.acl_users/acl_groups do not name it" : "");
    struct stat st;
    if (blocked(&k->web, h->sock, true, 1, bad, sizeof(bad), &st)) {
        describe(&st, what, sizeof(what));
        warn(k, h->file, h->line, "handler socket %s: relaisd's User %s cannot reach it: "
             "directory %s is %s", h->sock, k->web_user, bad, what);
    }
}

/* Has (<pool>, <docroot>) been checked already? Notes it when not. */
static bool seen(check_t *k, const char *pool, const char *docroot)
{
    char key[PATH_MAX + 128];
    snprintf(key, sizeof(key), "%s\n%s", pool, docroot);
    for (int i = 0; i < k->nseen; i++)
        if (strcmp(k->seen[i], key) == 0)
            return true;
    if (k->nseen < MAX_SEEN)
        k->seen[k->nseen++] = rl_arena_strdup(k->cf->arena, key);
    return false;
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void check_docroot(check_t *k, const handler_t *h, const rl_fpm_pool_t *p,
                          const rl_server_t *s)
{
    const char *root = s->document_root ? s->document_root : "/var/www/html";
    if (seen(k, p->name, root))
        return;
    char inside[PATH_MAX * 2], bad[PATH_MAX], what[200];
    snprintf(inside, sizeof(inside), "%s", root);
    if (p->chroot && *p->chroot) {
        snprintf(inside, sizeof(inside), "%s%s", p->chroot, root);
        size_t cl = strlen(p->chroot);
        bool under = strncmp(root, p->chroot, cl) == 0 && (root[cl] == '/' || !root[cl]);
        if (!is_dir(inside)) {
            warn(k, h->file, h->line, "DocumentRoot %s is %s pool %s's chroot %s: the pool "
                 "looks for the scripts in %s, which does not exist (\"Primary script "
                 "unknown\")", root, under ? "inside" : "outside", p->name, p->chroot, inside);
            return;
        }
    }
    rl_ctl_cred_t cr;
    if (!p->user || !*p->user || !cred_for(p->user, p->group, &cr))
        return;
    struct stat st;
    if (blocked(&cr, inside, false, 5, bad, sizeof(bad), &st)) {
        describe(&st, what, sizeof(what));
        warn(k, h->file, h->line, "pool %s (user %s) cannot read DocumentRoot %s: %s is %s",
             p->name, p->user, root, bad, what);
    }
}

/* The servers a handler serves: its virtual host; at server level, every
 * virtual host, or the main server when there is none. */
static void check_handler(check_t *k, const handler_t *h)
{
    const rl_fpm_pool_t *p = pool_for(k, h->sock);
    if (p == NULL) {
        warn(k, h->file, h->line, "handler socket %s: no pool of %s listens there", h->sock,
             k->fpm->file);
        return;
    }
    check_socket(k, h, p);
    if (h->server) {
        check_docroot(k, h, p, h->server);
        return;
    }
    const rl_server_t *main = k->cf->main;
    if (main->next == NULL)
        check_docroot(k, h, p, main);
    for (const rl_server_t *s = main->next; s; s = s->next)
        check_docroot(k, h, p, s);
}

/* ---- loading ---- */

static int load_fpm(const char *file, rl_fpm_conf_t *conf, rl_arena_t *a)
{
    int rc = rl_ctl_fpm_load(file, conf, a);
    if (rc != RL_OK)
        fprintf(stderr, "relaisctl: error: %s does not load: the FPM would not start\n", file);
    return rc;
}

static const char *fpm_file(const rl_ctl_t *c)
{
    if (c->no_fpm)
        return NULL;
    if (c->fpm_conf)
        return c->fpm_conf;
    return access(RL_FPM_CONF_FILE, F_OK) == 0 ? RL_FPM_CONF_FILE : NULL;
}

int rl_ctl_check(const rl_ctl_t *c)
{
    const char *file = fpm_file(c);
    if (file == NULL)
        return 0;
    rl_arena_t *a = rl_arena_create(0);
    rl_fpm_conf_t fpm;
    if (load_fpm(file, &fpm, a) != RL_OK) {
        rl_arena_destroy(a);
        return 1;
    }
    rl_cli_conf_t cli = { .server_root = c->confdir, .config_file = c->config_file };
    char err[4096];
    rl_config_t *cf = rl_config_load(&cli, NULL, err, sizeof(err));
    if (cf == NULL) {
        fprintf(stderr, "%s\n", err);
        rl_arena_destroy(a);
        return 1;
    }
    check_t k = { .c = c, .cf = cf, .fpm = &fpm };
    k.tail = &k.handlers;
    snprintf(k.ipc_dir, sizeof(k.ipc_dir), "%s", DEFAULT_IPC_DIR);
    web_cred(&k);
    walk(&k, cf->tree ? cf->tree->first_child : NULL, NULL);
    for (const handler_t *h = k.handlers; h; h = h->next)
        check_handler(&k, h);
    int rc = c->strict && k.warnings ? 1 : 0;
    if (k.warnings)
        fprintf(stderr, "relaisctl: %d warning%s comparing with %s%s\n", k.warnings,
                k.warnings == 1 ? "" : "s", file, c->strict ? " (-W: configtest fails)" : "");
    rl_config_free(cf);
    rl_arena_destroy(a);
    return rc;
}
