/* A scratch directory for the fuzz drivers that read files (the Apache
 * configuration reader, the FPM configuration reader): made once under
 * /tmp, filled with fixed files the inputs may refer to, removed at exit.
 * Header-only: each driver is one executable. */
#ifndef RL_FUZZ_SANDBOX_H
#define RL_FUZZ_SANDBOX_H

#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char sandbox[64];
static size_t sandbox_len;
static char input_path[128];   /* <sandbox>/in.conf: where the input is written */

/* Writes <text> to <sandbox>/<rel>, making the directories on the way. */
static void put(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", sandbox, rel);
    for (char *s = path + sandbox_len + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
    FILE *f = fopen(path, "w");
    if (f == NULL)
        abort();
    fputs(text, f);
    fclose(f);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static void remove_sandbox(void)
{
    nftw(sandbox, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Makes the directory from <tmpl> ("/tmp/name-XXXXXX"), removed at exit. */
static void sandbox_make(const char *tmpl)
{
    snprintf(sandbox, sizeof(sandbox), "%s", tmpl);
    if (mkdtemp(sandbox) == NULL)
        abort();
    sandbox_len = strlen(sandbox);
    atexit(remove_sandbox);
    snprintf(input_path, sizeof(input_path), "%s/in.conf", sandbox);
}

#endif
