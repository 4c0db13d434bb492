/* a2enmod & co. for relaisctl (see links.h). The functions follow the perl
 * script's subs one to one (doit, get_deps, do_deps, warn_deps,
 * check_conflicts, add_link, check_link, remove_link), so that the order of
 * the messages, their stream (info and print: stdout, error and warning:
 * stderr) and the exit codes stay the script's. */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ctl/links.h"

#define MAX_NAMES 1024

typedef struct {
    const rl_ctl_links_t *o;
    const char *obj;          /* "module", "conf", "site" */
    const char *name;         /* "Module", "Conf", "Site" */
    const char *dir;          /* "mods", "conf", "sites" */
    const char *sffx;         /* ".load", ".conf" */
    const char *act;          /* "enable", "disable" */
    char availdir[PATH_MAX];
    char enabldir[PATH_MAX];
    char modsenabldir[PATH_MAX];
    bool quiet, force, purge;
    bool request_reload;
} links_t;

/* snprintf for paths: a path too long for PATH_MAX is cut, and then
 * simply not found (the script has no such limit, the system has). */
static int fmt(char *out, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));
static int fmt(char *out, size_t len, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(out, len, f, ap);
    va_end(ap);
    return n;
}

/* ---- messages, as the script's info(), error(), warning() ---- */

static void info(const links_t *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void info(const links_t *l, const char *fmt, ...)
{
    if (l->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

static void error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void error(const char *fmt, ...)
{
    fflush(stdout);
    va_list ap;
    va_start(ap, fmt);
    fputs("ERROR: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

/* perl's die: the message, exit code errno (255 without one) */
static void __attribute__((noreturn)) die(const char *fmt, const char *arg)
{
    int e = errno;
    fflush(stdout);
    fprintf(stderr, fmt, arg, strerror(e));
    exit(e > 0 && e < 256 ? e : 255);
}

/* ---- pure helpers ---- */

/* Splits absolute <path> into components in <buf>, resolving "." and ".."
 * lexically. Returns the number of components in <comp>. */
static int split_path(const char *path, char *buf, size_t len, char **comp, int max)
{
    char cwd[PATH_MAX];
    if (path[0] != '/' && getcwd(cwd, sizeof(cwd)))
        fmt(buf, len, "%s/%s", cwd, path);
    else
        fmt(buf, len, "%s", path);
    int n = 0;
    for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            n -= n > 0;
            continue;
        }
        if (n < max)
            comp[n++] = c;
    }
    return n;
}

int rl_ctl_relpath(const char *target, const char *base, char *out, size_t len)
{
    char tb[PATH_MAX], bb[PATH_MAX];
    char *t[256], *b[256];
    int nt = split_path(target, tb, sizeof(tb), t, 256);
    int nb = split_path(base, bb, sizeof(bb), b, 256);
    int common = 0;
    while (common < nt && common < nb && strcmp(t[common], b[common]) == 0)
        common++;
    size_t o = 0;
    out[0] = '\0';
    for (int i = common; i < nb; i++)
        o += (size_t)fmt(out + o, o < len ? len - o : 0, "%s..", o ? "/" : "");
    for (int i = common; i < nt; i++)
        o += (size_t)fmt(out + o, o < len ? len - o : 0, "%s%s", o ? "/" : "", t[i]);
    if (o == 0)
        o = (size_t)fmt(out, len, ".");
    return o < len ? RL_OK : RL_ERROR;
}

/* The rest of a "# <type>:" line after the blanks that must follow it, or
 * NULL when <line> is not one. */
static const char *deps_line(const char *line, size_t n, const char *type)
{
    size_t tl = strlen(type);
    if (n < tl + 3 || strncmp(line, "# ", 2) != 0 || strncmp(line + 2, type, tl) != 0 ||
        line[2 + tl] != ':')
        return NULL;
    const char *p = line + 3 + tl;
    if (p >= line + n || !strchr(" \t\r\f\v", *p))
        return NULL;
    return p;
}

/* Is <line> empty, blank or a comment ("^\s*(?:#.*)?$")? */
static bool comment_line(const char *line, size_t n)
{
    size_t i = 0;
    while (i < n && strchr(" \t\r\f\v", line[i]))
        i++;
    return i == n || line[i] == '#';
}

char **rl_ctl_deps_parse(const char *text, const char *type)
{
    const char *words = NULL;
    size_t wlen = 0;
    for (const char *line = text; *line; ) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if ((words = deps_line(line, n, type)) != NULL) {
            wlen = n - (size_t)(words - line);
            break;
        }
        if (!comment_line(line, n) || !nl)
            break;
        line = nl + 1;
    }
    size_t max = wlen / 2 + 2;
    char **v = rl_xcalloc(1, max * sizeof(char *) + wlen + 1);
    char *s = (char *)(v + max);
    memcpy(s, words ? words : "", wlen);
    size_t k = 0;
    for (char *save = NULL, *w = strtok_r(s, " \t\r\f\v", &save); w && k + 1 < max;
         w = strtok_r(NULL, " \t\r\f\v", &save))
        v[k++] = w;
    return v;
}

/* ---- the file system, as perl's -e, -l and realpath ---- */

static bool exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static bool is_link(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0 && S_ISLNK(st.st_mode);
}

/* get_deps: the names of <file>'s "# <type>:" line. */
static char **get_deps(const char *file, const char *type)
{
    FILE *f = fopen(file, "r");
    if (f == NULL) {
        error("Can't open %s: %s", file, strerror(errno));
        return rl_ctl_deps_parse("", type);
    }
    char buf[16384];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return rl_ctl_deps_parse(buf, type);
}

static bool add_link(links_t *l, const char *tgt, const char *link)
{
    char dir[PATH_MAX], rel[PATH_MAX];
    fmt(dir, sizeof(dir), "%s", link);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    rl_ctl_relpath(tgt, slash ? dir : ".", rel, sizeof(rel));
    if (symlink(rel, link) != 0)
        die("Could not create %s: %s\n", link);
    l->request_reload = true;
    return true;
}

/* check_link: "ok", "missing" or why the link is left alone (in <why>). */
static const char *check_link(const links_t *l, const char *tgt, const char *link, char *why,
                              size_t len)
{
    if (!exists(link)) {
        if (is_link(link)) {
            info(l, "Removing dangling link %s", link);
            if (unlink(link) != 0)
                die("Could not remove %s\n%.0s", link);
        }
        return "missing";
    }
    if (!is_link(link)) {
        fmt(why, len, "%s is a real file, not touching it", link);
        return why;
    }
    char a[PATH_MAX], b[PATH_MAX];
    if (!realpath(link, a) || !realpath(tgt, b) || strcmp(a, b) != 0) {
        fmt(why, len, "%s exists but does not point to %s, not touching it", link, tgt);
        return why;
    }
    return "ok";
}

static bool remove_link(links_t *l, const char *link)
{
    if (is_link(link)) {
        if (unlink(link) != 0)
            die("Could not remove %s: %s\n", link);
    } else if (exists(link)) {
        error("%s is not a symbolic link, not deleting\n", link);
        return false;
    }
    l->request_reload = true;
    return true;
}

static bool doit(links_t *l, const char *acton);

/* do_deps: enable (or, for dismod -f, disable) <deps> first. */
static bool do_deps(links_t *l, const char *acton, char **deps)
{
    for (char **d = deps; *d; d++) {
        info(l, "Considering dependency %s for %s:\n", *d, acton);
        if (!doit(l, *d)) {
            error("Could not %s dependency %s for %s, aborting\n", l->act, *d, acton);
            return false;
        }
    }
    return true;
}

/* warn_deps: a conf or site needs its modules enabled. */
static bool warn_deps(links_t *l, const char *acton, char **deps)
{
    for (char **d = deps; *d; d++) {
        info(l, "Checking dependency %s for %s:\n", *d, acton);
        char p[PATH_MAX];
        fmt(p, sizeof(p), "%s/%s.load", l->modsenabldir, *d);
        if (!exists(p)) {
            fflush(stdout);
            fprintf(stderr, "WARNING: Module %s is not enabled, but %s depends on it, "
                    "aborting\n", *d, acton);
            return false;
        }
    }
    return true;
}

static bool check_conflicts(links_t *l, const char *acton, char **conflicts)
{
    int errors = 0;
    for (char **d = conflicts; *d; d++) {
        info(l, "Considering conflict %s for %s:\n", *d, acton);
        char tgt[PATH_MAX], link[PATH_MAX], why[2 * PATH_MAX + 64];
        fmt(tgt, sizeof(tgt), "%s/%s%s", l->availdir, *d, l->sffx);
        fmt(link, sizeof(link), "%s/%s%s", l->enabldir, *d, l->sffx);
        if (strcmp(check_link(l, tgt, link, why, sizeof(why)), "ok") == 0) {
            error("Module %s is enabled - cannot proceed due to conflicts. It needs to be "
                  "disabled first!\n", *d);
            errors++;       /* all conflicts are reported */
        }
    }
    return errors == 0;
}

/* The enabled modules whose "# Depends:" names <acton>, as one string. */
static void depending(const links_t *l, const char *acton, char *out, size_t len)
{
    char pat[PATH_MAX];
    fmt(pat, sizeof(pat), "%s/*.load", l->enabldir);
    glob_t g;
    size_t o = 0;
    out[0] = '\0';
    if (glob(pat, 0, NULL, &g) != 0)
        return;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char **deps = get_deps(g.gl_pathv[i], "Depends");
        for (char **d = deps; *d; d++) {
            if (strcmp(*d, acton) != 0)
                continue;
            const char *base = strrchr(g.gl_pathv[i], '/') + 1;
            o += (size_t)fmt(out + o, o < len ? len - o : 0, "%s%.*s", o ? " " : "",
                                  (int)(strlen(base) - 5), base);
            break;
        }
        free(deps);
    }
    globfree(&g);
}

/* Module dependencies and conflicts before the links are touched. */
static bool module_deps(links_t *l, const char *acton)
{
    char load[PATH_MAX];
    fmt(load, sizeof(load), "%s/%s.load", l->availdir, acton);
    if (l->o->enable) {
        char **deps = get_deps(load, "Depends");
        bool ok = do_deps(l, acton, deps);
        free(deps);
        if (!ok)
            return false;
        char **conflicts = get_deps(load, "Conflicts");
        ok = check_conflicts(l, acton, conflicts);
        free(conflicts);
        return ok;
    }
    char list[4096];
    depending(l, acton, list, sizeof(list));
    if (!*list)
        return true;
    if (!l->force) {
        error("The following modules depend on %s and need to be disabled first: %s\n", acton,
              list);
        return false;
    }
    char *v[MAX_NAMES / 8 + 1];
    size_t n = 0;
    for (char *save = NULL, *w = strtok_r(list, " ", &save); w && n + 1 < RL_NELEMS(v);
         w = strtok_r(NULL, " ", &save))
        v[n++] = w;
    v[n] = NULL;
    return do_deps(l, acton, v);
}

/* a2enmod's essential_module_handling: asks before disabling one. */
static void essential(const char *module)
{
    static const char *const list[] = { "alias", "auth_basic", "authn_file", "authz_host",
        "authz_user", "autoindex", "deflate", "dir", "env", "filter", "logio", "mime",
        "negotiation", "setenvif", "unixd", "version", "watchdog" };
    bool found = false;
    for (size_t i = 0; i < RL_NELEMS(list); i++)
        found |= strcmp(list[i], module) == 0;
    if (!found)
        return;
    printf("WARNING: The following essential module will be disabled.\n"
           "This might result in unexpected behavior and should NOT be done\n"
           "unless you know exactly what you are doing!\n %s\n\n"
           "To continue type in the phrase 'Yes, do as I say!' or retry by passing '-f': ",
           module);
    fflush(stdout);
    char input[256] = "";
    if (fgets(input, sizeof(input), stdin))
        input[strcspn(input, "\n")] = '\0';
    if (strcmp(input, "Yes, do as I say!") != 0) {
        printf("Aborting\n");
        exit(1);
    }
}

/* The enabling half of doit(): the .conf of a module, then the link. */
static bool enable(links_t *l, const char *acton, const char *tgt, const char *link,
                   const char *conftgt, const char *conflink)
{
    char why[2 * PATH_MAX + 64];
    const char *check = check_link(l, tgt, link, why, sizeof(why));
    bool ok = strcmp(check, "ok") == 0;
    if (!ok && strcmp(check, "missing") != 0) {
        error("%s %s not properly enabled: %s\n", l->name, acton, check);
        return false;
    }
    if (conflink) {
        char cwhy[2 * PATH_MAX + 64];
        const char *cc = check_link(l, conftgt, conflink, cwhy, sizeof(cwhy));
        if (strcmp(cc, "ok") != 0 && strcmp(cc, "missing") != 0) {
            error("Config file %s.conf not properly enabled: %s\n", acton, cc);
            return false;
        }
        if (strcmp(cc, "missing") == 0) {
            if (ok)
                printf("Enabling config file %s.conf.\n", acton);
            add_link(l, conftgt, conflink);
            if (ok)
                return true;
        }
    }
    if (ok) {
        info(l, "%s %s already enabled\n", l->name, acton);
        return true;
    }
    printf("Enabling %s %s.\n", l->obj, acton);
    if (l->o->kind == RL_CTL_MOD && strcmp(acton, "ssl") == 0)
        info(l, "See /usr/share/doc/apache2/README.Debian.gz on how to configure SSL and "
             "create self-signed certificates.\n");
    return add_link(l, tgt, link);
}

static bool disable(links_t *l, const char *acton, const char *link, const char *conflink)
{
    if (exists(link) || is_link(link)) {
        if (l->o->kind == RL_CTL_MOD && !l->force)
            essential(acton);
        remove_link(l, link);
        if (conflink && exists(conflink))
            remove_link(l, conflink);
        printf("%s %s disabled.\n", l->name, acton);
    } else if (conflink && exists(conflink)) {
        printf("Disabling stale config file %s.conf.\n", acton);
        remove_link(l, conflink);
    } else {
        info(l, "%s %s already disabled\n", l->name, acton);
    }
    return true;
}

/* A target that does not exist: a dangling link goes (disable), else an error. */
static bool missing_target(links_t *l, const char *acton, const char *link)
{
    if (is_link(link) && !exists(link)) {
        if (!l->o->enable) {
            info(l, "removing dangling symlink %s\n", link);
            unlink(link);
            char conflink[PATH_MAX];
            fmt(conflink, sizeof(conflink), "%s/%s.conf", l->enabldir, acton);
            if (is_link(conflink) && !exists(conflink)) {
                info(l, "removing dangling symlink %s\n", conflink);
                unlink(conflink);
            }
            return true;
        }
        error("%s is a dangling symlink!\n", link);
    }
    if (l->purge)
        return true;
    error("%s %s does not exist!\n", l->name, acton);
    return false;
}

/* a2enmod picks cgid on a threaded MPM; relais' engine is, unless the tree
 * enables mpm_prefork (the script's fallback when apache2ctl -V fails). */
static const char *cgi_or_cgid(links_t *l, const char *acton)
{
    if (!l->o->enable || strcmp(acton, "cgi") != 0)
        return acton;
    char p[PATH_MAX];
    fmt(p, sizeof(p), "%s/mpm_prefork.load", l->enabldir);
    if (exists(p))
        return acton;
    printf("Your MPM seems to be threaded. Selecting cgid instead of cgi.\n");
    return "cgid";
}

static bool doit(links_t *l, const char *acton)
{
    char conftgt[PATH_MAX], conflink_buf[PATH_MAX], tgt[PATH_MAX], link[PATH_MAX];
    const char *conflink = NULL;
    if (l->o->kind == RL_CTL_MOD) {
        acton = cgi_or_cgid(l, acton);
        fmt(conftgt, sizeof(conftgt), "%s/%s.conf", l->availdir, acton);
        fmt(conflink_buf, sizeof(conflink_buf), "%s/%s.conf", l->enabldir, acton);
        if (exists(conftgt))
            conflink = conflink_buf;
    }
    fmt(tgt, sizeof(tgt), "%s/%s%s", l->availdir, acton, l->sffx);
    fmt(link, sizeof(link), "%s/%s%s", l->enabldir, acton, l->sffx);
    if (!exists(tgt))
        return missing_target(l, acton, link);
    if (l->o->kind == RL_CTL_MOD) {
        if (!module_deps(l, acton))
            return false;
    } else if (l->o->enable) {
        char **deps = get_deps(tgt, "Depends");
        bool ok = warn_deps(l, acton, deps);
        free(deps);
        if (!ok)
            return false;
    }
    if (l->o->enable)
        return enable(l, acton, tgt, link, conftgt, conflink);
    return disable(l, acton, link, conflink);
}

/* ---- the command line ---- */

/* myglob: the names matching <arg> among the available (enable) or enabled
 * (disable) ones; a pattern without wildcards is its own match. */
static size_t myglob(const links_t *l, const char *arg, char **out, size_t max)
{
    char pat[PATH_MAX];
    const char *choicedir = l->o->enable ? l->availdir : l->enabldir;
    fmt(pat, sizeof(pat), "%s/%s%s", choicedir, arg, l->sffx);
    glob_t g;
    size_t n = 0, sl = strlen(l->sffx), dl = strlen(choicedir);
    if (glob(pat, GLOB_NOMAGIC | GLOB_BRACE | GLOB_TILDE, NULL, &g) != 0)
        return 0;
    for (size_t i = 0; i < g.gl_pathc && n < max; i++) {
        const char *p = g.gl_pathv[i];
        if (strncmp(p, choicedir, dl) == 0 && p[dl] == '/')
            p += dl + 1;
        size_t len = strlen(p);
        if (len >= sl && strcmp(p + len - sl, l->sffx) == 0)
            len -= sl;
        out[n++] = strndup(p, len);
    }
    globfree(&g);
    return n;
}

static void setup(links_t *l, const rl_ctl_links_t *o)
{
    static const struct { const char *obj, *name, *dir, *sffx, *env; } k[] = {
        [RL_CTL_MOD] = { "module", "Module", "mods", ".load", "APACHE_MODS_" },
        [RL_CTL_CONF] = { "conf", "Conf", "conf", ".conf", "APACHE_CONF_" },
        [RL_CTL_SITE] = { "site", "Site", "sites", ".conf", "APACHE_SITES_" },
    };
    l->o = o;
    l->obj = k[o->kind].obj;
    l->name = k[o->kind].name;
    l->dir = k[o->kind].dir;
    l->sffx = k[o->kind].sffx;
    l->act = o->enable ? "enable" : "disable";
    char var[64];
    fmt(var, sizeof(var), "%sAVAILABLE", k[o->kind].env);
    const char *e = getenv(var);
    fmt(l->availdir, sizeof(l->availdir), e && *e ? "%s" : "%s/%s-available",
             e && *e ? e : o->confdir, l->dir);
    fmt(var, sizeof(var), "%sENABLED", k[o->kind].env);
    e = getenv(var);
    fmt(l->enabldir, sizeof(l->enabldir), e && *e ? "%s" : "%s/%s-enabled",
             e && *e ? e : o->confdir, l->dir);
    e = getenv("APACHE_MODS_ENABLED");
    fmt(l->modsenabldir, sizeof(l->modsenabldir), e && *e ? "%s" : "%s/mods-enabled",
             e && *e ? e : o->confdir);
}

/* Getopt::Long with bundling and permutation: -q -f -m -p, -qf, --quiet,
 * --force, --maintmode, --purge; "--" ends them. Names go to <names>.
 * Returns the number of names, or -1 after "Unknown option: x". */
static int parse_args(links_t *l, int argc, char **argv, char **names)
{
    int n = 0;
    bool opts = true;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (opts && strcmp(a, "--") == 0) {
            opts = false;
        } else if (opts && a[0] == '-' && a[1] == '-') {
            if (strcmp(a, "--quiet") == 0) l->quiet = true;
            else if (strcmp(a, "--force") == 0) l->force = true;
            else if (strcmp(a, "--purge") == 0) l->purge = true;
            else if (strcmp(a, "--maintmode") != 0) {
                fprintf(stderr, "Unknown option: %s\n", a + 2);
                return -1;
            }
        } else if (opts && a[0] == '-' && a[1]) {
            for (const char *c = a + 1; *c; c++) {
                if (*c == 'q') l->quiet = true;
                else if (*c == 'f') l->force = true;
                else if (*c == 'p') l->purge = true;
                else if (*c != 'm') {
                    fprintf(stderr, "Unknown option: %c\n", *c);
                    return -1;
                }
            }
        } else if (n < MAX_NAMES) {
            names[n++] = (char *)a;
        }
    }
    return n;
}

/* No names: a2enmod lists the choices and reads them from stdin. */
static int ask(const links_t *l, char **names, char *line, size_t len)
{
    char *choices[MAX_NAMES];
    size_t n = myglob(l, "*", choices, MAX_NAMES);
    printf("Your choices are:");
    for (size_t i = 0; i < n; i++) {
        printf(" %s", choices[i]);
        free(choices[i]);
    }
    printf("\nWhich %s(s) do you want to %s (wildcards ok)?\n", l->obj, l->act);
    fflush(stdout);
    int k = 0;
    if (!fgets(line, (int)len, stdin))
        return 0;
    for (char *save = NULL, *w = strtok_r(line, " \t\r\n", &save); w && k < MAX_NAMES;
         w = strtok_r(NULL, " \t\r\n", &save))
        names[k++] = w;
    return k;
}

/* "$arg =~ s/${sffx}$//" */
static void strip_suffix(char *arg, const char *sffx)
{
    size_t n = strlen(arg), sl = strlen(sffx);
    if (n >= sl && strcmp(arg + n - sl, sffx) == 0)
        arg[n - sl] = '\0';
}

int rl_ctl_links_run(const rl_ctl_links_t *o, int argc, char **argv)
{
    links_t l = { 0 };
    setup(&l, o);
    char *names[MAX_NAMES], line[8192];
    int n = parse_args(&l, argc, argv, names);
    if (n < 0)
        return 2;
    if (n == 0)
        n = ask(&l, names, line, sizeof(line));
    int rc = 0;
    char *objs[MAX_NAMES];
    size_t nobjs = 0;
    for (int i = 0; i < n; i++) {
        char arg[PATH_MAX];
        fmt(arg, sizeof(arg), "%s", names[i]);
        strip_suffix(arg, l.sffx);
        size_t got = myglob(&l, arg, objs + nobjs, MAX_NAMES - nobjs);
        if (got == 0) {
            error("No %s found matching %s!\n", l.obj, arg);
            rc = 1;
        }
        nobjs += got;
    }
    for (size_t i = 0; i < nobjs; i++) {
        if (!doit(&l, objs[i]))
            rc = 1;
        free(objs[i]);
    }
    if (l.request_reload)
        info(&l, "To activate the new configuration, you need to run:\n  %s %s\n",
             o->ctl_hint, o->kind == RL_CTL_MOD ? "restart" : "graceful");
    fflush(stdout);
    return rc;
}
