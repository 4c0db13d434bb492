/* The PHP call stack of another process, read from outside as php-fpm's
 * slowlog does (fpm_php_trace.c), but with process_vm_readv(2) instead of
 * ptrace: the target is not stopped, so a frame may change under us; every
 * pointer read is checked and a torn read ends the walk.
 *
 * The layout (offsets into zend_executor_globals, zend_execute_data,
 * zend_function, zend_string, zend_op) is that of the PHP this file was
 * compiled against, the same library the children run. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "php.h"
#include "zend_compile.h"
#include "zend_globals.h"

#include "sapi/sapi.h"

#define NAME_MAX_LEN 1024

/* php-fpm's valid_ptr(): non-NULL and aligned */
static bool valid_ptr(uintptr_t p)
{
    return p && (p & (sizeof(long) - 1)) == 0;
}

static int peek(pid_t pid, uintptr_t addr, void *buf, size_t len)
{
    struct iovec local = { buf, len };
    struct iovec remote = { (void *)addr, len };
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    return n == (ssize_t)len ? 0 : -1;
}

static int peek_ptr(pid_t pid, uintptr_t addr, uintptr_t *out)
{
    return peek(pid, addr, out, sizeof(*out));
}

/* The bytes of the zend_string at <zs>, NUL-terminated, cut to <size> */
static int peek_zstr(pid_t pid, uintptr_t zs, char *buf, size_t size)
{
    size_t len;

    if (!valid_ptr(zs) || peek(pid, zs + offsetof(zend_string, len), &len, sizeof(len)) < 0)
        return -1;
    if (len >= size)
        len = size - 1;
    if (peek(pid, zs + offsetof(zend_string, val), buf, len) < 0)
        return -1;
    buf[len] = '\0';
    return 0;
}

/* The name of the function running in frame <ex>: "sleep",
 * "[INCLUDE_OR_EVAL]", "???"; 1 when <ex> is the top code (the end), -1
 * when memory cannot be read */
static int frame_function(pid_t pid, uintptr_t ex, char *buf, size_t size)
{
    uintptr_t func, name;
    uint32_t info;

    if (peek_ptr(pid, ex + offsetof(zend_execute_data, func), &func) < 0)
        return -1;
    if (!valid_ptr(func)) {
        snprintf(buf, size, "???");
        return 0;
    }
    if (peek_ptr(pid, func + offsetof(zend_function, common.function_name), &name) < 0)
        return -1;
    if (name)
        return peek_zstr(pid, name, buf, size);
    if (peek(pid, ex + offsetof(zend_execute_data, This.u1.type_info), &info, sizeof(info)) < 0)
        return -1;
    if (ZEND_CALL_KIND_EX(info) == ZEND_CALL_TOP_CODE)
        return 1;
    snprintf(buf, size, "[INCLUDE_OR_EVAL]");
    return 0;
}

/* The file and line the call from frame <ex> was made at: the first user
 * code frame from <prev> down. */
static int call_site(pid_t pid, uintptr_t prev, char *file, size_t size, uint32_t *line)
{
    file[0] = '\0';
    *line = 0;
    while (prev) {
        uintptr_t func, opline, fname;
        zend_uchar type;

        if (peek_ptr(pid, prev + offsetof(zend_execute_data, func), &func) < 0)
            return -1;
        if (!valid_ptr(func))
            return 0;
        if (peek(pid, func + offsetof(zend_function, type), &type, sizeof(type)) < 0)
            return -1;
        if (ZEND_USER_CODE(type)) {
            if (peek_ptr(pid, func + offsetof(zend_op_array, filename), &fname) < 0
                || peek_zstr(pid, fname, file, size) < 0
                || peek_ptr(pid, prev + offsetof(zend_execute_data, opline), &opline) < 0)
                return -1;
            if (valid_ptr(opline)
                && peek(pid, opline + offsetof(zend_op, lineno), line, sizeof(*line)) < 0)
                return -1;
            return 0;
        }
        if (peek_ptr(pid, prev + offsetof(zend_execute_data, prev_execute_data), &prev) < 0)
            return -1;
    }
    return 0;
}

static bool append(char *out, size_t outlen, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool append(char *out, size_t outlen, size_t *used, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*used >= outlen)
        return false;
    va_start(ap, fmt);
    n = vsnprintf(out + *used, outlen - *used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= outlen - *used) {
        out[*used] = '\0';
        return false;
    }
    *used += (size_t)n;
    return true;
}

ssize_t rl_sapi_backtrace(pid_t pid, uintptr_t eg, int depth, char *out, size_t outlen)
{
    char name[NAME_MAX_LEN], file[NAME_MAX_LEN];
    uintptr_t ex, prev;
    uint32_t line;
    size_t used = 0;

    if (outlen)
        out[0] = '\0';
    if (peek_ptr(pid, eg + offsetof(zend_executor_globals, current_execute_data), &ex) < 0)
        return -1;
    for (int n = 0; ex && n < depth; n++) {
        int rc = frame_function(pid, ex, name, sizeof(name));
        if (rc < 0)
            return -1;
        if (rc > 0)
            break;
        if (peek_ptr(pid, ex + offsetof(zend_execute_data, prev_execute_data), &prev) < 0
            || call_site(pid, prev, file, sizeof(file), &line) < 0)
            return -1;
        if (!append(out, outlen, &used, "[0x%016lx] %s() %s:%u\n", (unsigned long)ex, name,
                    *file ? file : "unknown", line))
            break;
        ex = prev;
    }
    return (ssize_t)used;
}
