"""Helpers for relais' black-box tests: binaries, ports, daemons, raw HTTP.

Standard library only. Everything here talks to 127.0.0.1 and to ports that
free_port() picked; nothing here ever touches a process it did not start.

    find_binary(name)          the binary under test (RELAIS_BUILD, build-test/, build/)
    open_path(prefix, stop)    make a temp prefix reachable by the servers' users (root)
    unique_path(), teardown_all()   a prefix per daemon; stop a test's daemons, fail on problems
    free_port()                a free loopback port, never handed out twice per session
    Relaisd(prefix, ...)       relaisd in a temporary prefix (see the class)
    raw(port, data)            send bytes, read until close/timeout, return bytes
    open_conn(port)            a connected Conn (socket subclass) for keep-alive work
    open_tls(port)             the same over TLS (ssl.SSLSocket, no verification)
    read_response(sock)        read exactly ONE response from a socket
    parse_responses(data)      parse every response in a byte string
    request(port, ...)         one request on a fresh connection, returns a Response
    build_request(...)         the bytes of a request

read_response() consumes exactly the bytes of one response (it peeks before it
reads), so the next response, or the absence of one, is still in the socket:
tests may mix read_response() with plain recv() calls freely.
"""

import collections
import grp
import os
import pwd
import re
import select
import signal as _signal
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT = 10.0    # seconds until the daemon listens
STOP_TIMEOUT = 10.0     # seconds between SIGTERM and SIGKILL
RUN_TIMEOUT = 10.0      # one-shot invocations (-t, -k stop, ...)
LEFTOVER_GRACE = 2.0    # seconds the workers get to follow their master out
IO_TIMEOUT = 5.0        # default for the HTTP helpers

__all__ = [
    "REPO", "HOST", "find_binary", "build_dirs", "free_port", "fill",
    "DEFAULT_CONF", "Daemon", "Relaisd", "DaemonError", "Result",
    "Headers", "Response", "ResponseError", "ConnectionClosed", "ResponseTimeout",
    "Conn", "open_conn", "open_tls", "raw", "read_response", "parse_responses",
    "build_request", "request", "is_closed", "open_path", "unique_path", "teardown_all",
]


# --------------------------------------------------------------------------
# binaries and ports

def build_dirs():
    """The build directories searched, in order: $RELAIS_BUILD alone when it
    is set (`make test` sets it), else <repo>/build-test then <repo>/build."""
    env = os.environ.get("RELAIS_BUILD")
    if env:
        return [Path(env)]
    return [REPO / "build-test", REPO / "build"]


def find_binary(name="relaisd"):
    """Path of the executable <name> in the first build dir that has it, or None."""
    for d in build_dirs():
        p = d / name
        if p.is_file() and os.access(p, os.X_OK):
            return p
    return None


_ports_given = set()


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read
    it, close). The same port is never handed out twice in one process."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port not in _ports_given and port not in (80, 443, 2024, 8080):
            _ports_given.add(port)
            return port
    raise RuntimeError("no free port found")


# --------------------------------------------------------------------------
# configuration templates

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill(template, values, used=None):
    """Replaces each {name} of <template> whose name is a key of <values>,
    and {{ and }} by { and } as str.format does. Other braces stay as they
    are, so Apache's %{Referer}i, ${VAR} and a{2} need no escaping (escaped
    ones work too). Adds the names substituted to the set <used> if given."""
    def sub(m):
        key = m.group(1)
        if key is None:
            return m.group(0)[0]
        if key not in values:
            return m.group(0)
        if used is not None:
            used.add(key)
        return str(values[key])
    return _PLACEHOLDER.sub(sub, template)


# The configuration a Relaisd starts with. Placeholders: {prefix} {docroot}
# {logs} {port} {port0} {port1}... {conf} {user} {group} {extra} (see fill()).
DEFAULT_CONF = """\
# written by tests/e2e/relais.py
ServerRoot "{prefix}"
Listen 127.0.0.1:{port}
ServerName localhost
PidFile "{logs}/relaisd.pid"
ErrorLog "{logs}/error_log"
LogLevel info
LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\"" combined
CustomLog "{logs}/access_log" combined
TypesConfig /etc/mime.types
KeepAlive On
KeepAliveTimeout 5
DocumentRoot "{docroot}"
<Directory "{docroot}">
    Require all granted
</Directory>
{extra}
"""


# --------------------------------------------------------------------------
# /proc

def _stat(pid):
    """(state, ppid, starttime) of <pid> from /proc, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2:].split()
    return rest[0].decode(), int(rest[1]), int(rest[19])


def _alive(pid, starttime=None):
    st = _stat(pid)
    if st is None or st[0] in ("Z", "X"):
        return False
    return starttime is None or st[2] == starttime


def _all_pids():
    return [int(n) for n in os.listdir("/proc") if n.isdigit()]


def descendants(pid):
    """Pids of every process below <pid> (children, grandchildren...)."""
    kids = collections.defaultdict(list)
    for p in _all_pids():
        st = _stat(p)
        if st:
            kids[st[1]].append(p)
    out, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def _tagged(tag, marker=None):
    """Pids whose environment holds RELAIS_E2E_TAG=<tag>, or whose command line
    contains <marker>."""
    needle = f"RELAIS_E2E_TAG={tag}".encode()
    me = os.getpid()
    out = []
    for p in _all_pids():
        if p == me:
            continue
        try:
            with open(f"/proc/{p}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    out.append(p)
                    continue
        except OSError:
            pass
        if marker and marker in _cmdline(p):
            out.append(p)
    return out


_V4_LISTEN = {"0100007F", "00000000"}
_V6_LISTEN = {"0" * 32, "0000000000000000FFFF00000100007F"}


def _listening(port):
    """True if something listens on 127.0.0.1:<port> (or the wildcard address).
    Reads /proc/net/tcp so that no probe connection reaches the server (it would
    show up in its logs and counters); falls back to connect() elsewhere."""
    found_table = False
    for path, addrs in (("/proc/net/tcp", _V4_LISTEN), ("/proc/net/tcp6", _V6_LISTEN)):
        try:
            with open(path) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        found_table = True
        for ln in lines:
            fields = ln.split()
            if len(fields) < 4 or fields[3] != "0A":
                continue
            ip, hexport = fields[1].rsplit(":", 1)
            if int(hexport, 16) == port and ip.upper() in addrs:
                return True
    if found_table:
        return False
    try:
        socket.create_connection((HOST, port), timeout=0.2).close()
        return True
    except OSError:
        return False


# --------------------------------------------------------------------------
# daemons

class DaemonError(AssertionError):
    """A daemon did not start, stop or run as expected; the message carries
    its stderr, error log and sanitizer reports."""


Result = collections.namedtuple("Result", "rc stdout stderr")
Result.__doc__ = "A one-shot run: exit code (negative: signal), stdout, stderr (str)."

_CRASH_SIGNALS = {_signal.SIGSEGV, _signal.SIGABRT, _signal.SIGBUS,
                  _signal.SIGFPE, _signal.SIGILL}


def _tail(text, lines=60):
    ls = text.splitlines()
    if len(ls) > lines:
        ls = [f"[... {len(ls) - lines} lines before]"] + ls[-lines:]
    return "\n".join(ls)


def _read(path):
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


class Daemon:
    """A server process run from a temporary prefix: start in the foreground
    (Popen, its own session) or as a daemon (-k start + PidFile), stop by PID
    with SIGTERM then SIGKILL, and a sweep that kills anything it started that
    outlived it. Subclasses say how to build the command line."""

    name = "daemon"

    def __init__(self, prefix, binary):
        self.prefix = Path(prefix)
        self.binary = Path(binary) if binary else None
        self.ports = []
        self.wait_ports = None        # None: every port the config uses
        self.pidfile = self.prefix / "logs" / f"{self.name}.pid"
        self.error_log_path = self.prefix / "logs" / "error_log"
        self.sanitizer_dir = self.prefix / "sanitizer"
        self.tag = f"{self.name}-{uuid.uuid4().hex}"
        self.proc = None
        self.pid = None
        self.daemon = False
        self.last_args = None
        self.returncode = None
        self.problems = []            # found while stopping: crashes, SIGKILL, leftovers
        self.allow_leftovers = False
        self._runs = 0
        self._files = []
        for d in (self.prefix, self.prefix / "logs"):
            _mkdir(d)
        _mkdir(self.sanitizer_dir, 0o1777)  # workers may have dropped privileges
        san = f"log_path={self.sanitizer_dir}/report"
        self.env = dict(os.environ)
        self.env["ASAN_OPTIONS"] = ":".join(filter(None, [self.env.get("ASAN_OPTIONS"), san]))
        self.env["UBSAN_OPTIONS"] = ":".join(filter(None, [
            self.env.get("UBSAN_OPTIONS"), "print_stacktrace=1", san]))
        self.env["RELAIS_E2E_TAG"] = self.tag

    def write(self, relpath, content, mode=0o644):
        """Writes <content> (str or bytes) to prefix/<relpath>, making the
        directories (0755); returns the path. E.g. write("htdocs/a.txt", "x")."""
        p = self.prefix / relpath
        for d in reversed(p.parents):
            if not d.exists():
                _mkdir(d)
        if isinstance(content, str):
            content = content.encode()
        p.write_bytes(content)
        os.chmod(p, mode)
        return p

    # -- to be provided by subclasses
    def argv(self, args):
        return [str(self.binary)] + list(args)

    def marker(self):
        """A string in the command line of every process of this instance."""
        return None

    # -- starting
    def start(self, args=("-DFOREGROUND",), wait=True, timeout=START_TIMEOUT):
        """Starts the daemon with <args>. With "-k" among them it runs the
        launcher, waits for its exit and the PidFile; else the process stays
        our child (Popen). Waits until every port of the config listens, up to
        <timeout> s; raises DaemonError with the diagnostics otherwise.
        Returns self."""
        if self.running():
            raise DaemonError(f"{self.name} already running (pid {self.pid})")
        args = list(args)
        self.last_args = args
        self.returncode = None
        self.daemon = "-k" in args
        if self.daemon:
            self._start_daemon(args, timeout)
        else:
            out = open(self.prefix / f"{self.name}.stdout", "ab")
            err = open(self.prefix / f"{self.name}.stderr", "ab")
            self._files += [out, err]
            self.proc = subprocess.Popen(
                self.argv(args), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                env=self.env, cwd=self.prefix, start_new_session=True)
            self.pid = self.proc.pid
        if wait:
            self.wait_listening(timeout)
        return self

    def _start_daemon(self, args, timeout):
        deadline = time.monotonic() + timeout
        try:
            self.pidfile.unlink()
        except FileNotFoundError:
            pass
        r = self.run(args, timeout=timeout)
        if r.rc != 0:
            raise DaemonError(f"{self.name} {' '.join(args)} exited {r.rc}\n"
                              f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}\n" + self.diagnostics())
        while time.monotonic() < deadline:
            pid = self.read_pidfile()
            if pid and _alive(pid):
                self.pid, self.proc = pid, None
                return
            time.sleep(0.02)
        raise DaemonError(f"{self.name} -k start: no live pid in {self.pidfile} after "
                          f"{timeout}s\n" + self.diagnostics())

    def wait_listening(self, timeout=START_TIMEOUT, ports=None):
        """Waits until <ports> (default: those of the config) listen on
        127.0.0.1 while the daemon is alive. Raises DaemonError on exit or
        timeout; the daemon is then stopped."""
        if ports is None:
            ports = self.ports if self.wait_ports is None else self.wait_ports
        deadline = time.monotonic() + timeout
        while True:
            if not self.running():
                rc = self.proc.returncode if self.proc else None
                self.stop()
                raise DaemonError(f"{self.name} exited (rc {rc}) before listening on "
                                  f"{ports}\n" + self.diagnostics())
            missing = [p for p in ports if not _listening(p)]
            if not missing:
                return
            if time.monotonic() > deadline:
                self.stop()
                raise DaemonError(f"{self.name} not listening on {missing} after "
                                  f"{timeout}s\n" + self.diagnostics())
            time.sleep(0.02)

    # -- state
    def running(self):
        if self.proc is not None:
            return self.proc.poll() is None
        return self.pid is not None and _alive(self.pid)

    def read_pidfile(self):
        try:
            return int(self.pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def children(self):
        """Pids of every live process below the master."""
        if not self.running():
            return []
        return [p for p in descendants(self.pid) if _alive(p)]

    def signal(self, sig):
        """Sends <sig> to the master."""
        if not self.running():
            raise DaemonError(f"{self.name} is not running")
        os.kill(self.pid, sig)

    def wait_exit(self, timeout=STOP_TIMEOUT):
        """Waits for the master to exit; returns its exit code (foreground; None
        for a daemon), or raises DaemonError on timeout."""
        deadline = time.monotonic() + timeout
        if self.proc is not None:
            try:
                self.returncode = self.proc.wait(timeout)
                return self.returncode
            except subprocess.TimeoutExpired:
                raise DaemonError(f"{self.name} still running after {timeout}s") from None
        while self.pid is not None and _alive(self.pid):
            if time.monotonic() > deadline:
                raise DaemonError(f"{self.name} still running after {timeout}s")
            time.sleep(0.02)
        return None

    # -- stopping
    def stop(self, timeout=STOP_TIMEOUT, sig=_signal.SIGTERM, use_k=False):
        """Stops the daemon: <sig> (or `-k stop` when <use_k>) to the master,
        waits <timeout> s, then SIGKILL to the master, its process group and
        its descendants. Then kills whatever of this instance is still alive
        after LEFTOVER_GRACE s (recorded in self.problems). Returns the exit
        code of a foreground master, None otherwise. Safe to call twice."""
        if self.pid is None:
            self._close_files()
            return None
        pid = self.pid
        tree = [(p, (_stat(p) or (0, 0, None))[2]) for p in descendants(pid)]
        if self.running():
            try:
                if use_k:
                    self.run(["-k", "stop"], timeout=timeout)
                else:
                    os.kill(pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.wait_exit(timeout)
            except DaemonError:
                self.problems.append(f"{self.name} (pid {pid}) ignored "
                                     f"{'-k stop' if use_k else _signal.Signals(sig).name} "
                                     f"for {timeout}s: SIGKILLed")
                tree += [(p, (_stat(p) or (0, 0, None))[2]) for p in descendants(pid)]
                self._kill(pid, None)
                if self.proc is not None:
                    try:
                        os.killpg(pid, _signal.SIGKILL)
                    except OSError:
                        pass
                    self.returncode = self.proc.wait(5)
        elif self.proc is not None:
            self.returncode = self.proc.wait()
        self._check_crash(sig)
        self._sweep(tree)
        self.pid = self.proc = None
        self._close_files()
        return self.returncode

    def _check_crash(self, sig):
        rc = self.returncode
        if rc is not None and rc < 0 and -rc in _CRASH_SIGNALS and -rc != sig:
            self.problems.append(f"{self.name} master died of "
                                 f"{_signal.Signals(-rc).name}")

    def _kill(self, pid, starttime):
        if _alive(pid, starttime):
            try:
                os.kill(pid, _signal.SIGKILL)
            except OSError:
                pass

    def _sweep(self, tree=()):
        """Kills the processes of <tree> (pid, starttime) and those carrying our
        tag that outlive the master by LEFTOVER_GRACE s."""
        def left():
            pids = {p for p, t in tree if _alive(p, t)}
            pids.update(p for p in _tagged(self.tag, self.marker()) if _alive(p))
            return sorted(pids)
        deadline = time.monotonic() + LEFTOVER_GRACE
        while left() and time.monotonic() < deadline:
            time.sleep(0.05)
        rest = left()
        if rest:
            desc = ", ".join(f"{p} ({_cmdline(p)})" for p in rest)
            if not self.allow_leftovers:
                self.problems.append(f"{self.name}: processes still alive after the "
                                     f"master exited (or at teardown), SIGKILLed: {desc}")
            for p in rest:
                self._kill(p, None)
            deadline = time.monotonic() + 5
            while any(_alive(p) for p in rest) and time.monotonic() < deadline:
                time.sleep(0.02)

    def _close_files(self):
        for f in self._files:
            f.close()
        self._files = []

    def teardown(self):
        """Stops the daemon, kills leftovers, and returns the list of problems
        found since the last call: crashes, SIGKILLs, leftover processes, and
        the sanitizer reports present."""
        try:
            self.stop()
        finally:
            self._sweep()
        problems, self.problems = self.problems, []
        for name, text in self.sanitizer_reports():
            problems.append(f"sanitizer report {name}:\n{_tail(text, 80)}")
        if problems:
            problems.append(self.diagnostics(sanitizer=False))
        return problems

    # -- one-shot runs
    def run(self, args, timeout=RUN_TIMEOUT, input=None):
        """Runs the binary once with <args> (e.g. ["-t"]) and returns
        Result(rc, stdout, stderr). Output goes through files, so a process
        that daemonizes without closing them cannot hang the call. Raises
        DaemonError after <timeout> s (the process group is killed)."""
        self._runs += 1
        base = self.prefix / f"run{self._runs}"
        with open(f"{base}.stdout", "wb") as out, open(f"{base}.stderr", "wb") as err:
            p = subprocess.Popen(self.argv(args), stdin=subprocess.PIPE if input else
                                 subprocess.DEVNULL, stdout=out, stderr=err,
                                 env=self.env, cwd=self.prefix, start_new_session=True)
            try:
                if input:
                    p.communicate(input.encode() if isinstance(input, str) else input,
                                  timeout=timeout)
                rc = p.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, _signal.SIGKILL)
                except OSError:
                    pass
                p.wait()
                raise DaemonError(f"{' '.join(self.argv(args))} still running after "
                                  f"{timeout}s\nstderr:\n{_read(f'{base}.stderr')}") from None
        return Result(rc, _read(f"{base}.stdout"), _read(f"{base}.stderr"))

    # -- logs and diagnostics
    def error_log(self):
        """The error log's text ('' if absent)."""
        return _read(self.error_log_path)

    def sanitizer_reports(self):
        """[(file name, text)] of the ASan/UBSan/LSan reports written so far."""
        try:
            files = sorted(self.sanitizer_dir.iterdir())
        except OSError:
            return []
        return [(f.name, _read(f)) for f in files if f.is_file()]

    def wait_for_log(self, pattern, timeout=5.0, log=None):
        """Waits until regex <pattern> matches the text of <log> (a callable
        returning text; default the error log). Returns the match; raises
        DaemonError after <timeout> s."""
        log = log or self.error_log
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(log())
            if m:
                return m
            if time.monotonic() > deadline:
                raise DaemonError(f"no /{pattern}/ after {timeout}s\n" + self.diagnostics())
            time.sleep(0.05)

    def diagnostics(self, sanitizer=True):
        """The command, exit code, stdout/stderr and error-log tails, and
        sanitizer reports: what an assertion message should carry."""
        parts = [f"--- {self.name} in {self.prefix}",
                 f"command: {' '.join(self.argv(self.last_args or []))}",
                 f"pid: {self.pid}  exit code: {self.returncode}"]
        for label, path in ((f"{self.name}.stderr", self.prefix / f"{self.name}.stderr"),
                            (f"{self.name}.stdout", self.prefix / f"{self.name}.stdout"),
                            (f"error log {self.error_log_path}", self.error_log_path)):
            text = _read(path)
            if text.strip():
                parts.append(f"--- {label}:\n{_tail(text)}")
        if sanitizer:
            for name, text in self.sanitizer_reports():
                parts.append(f"--- sanitizer report {name}:\n{_tail(text, 80)}")
        return "\n".join(parts)



def open_path(prefix, stop):
    """Adds search permission (o+x, g+x) to <prefix> and its parents up to
    <stop> included, when we are root: relaisd's workers and FPM pools drop
    to other users and must reach files inside pytest's 0700 tmp dirs.
    pytest resets its base dir to 0700 at the next session."""
    if os.geteuid() != 0:
        return
    p, stop = Path(prefix).resolve(), Path(stop).resolve()
    while True:
        st = p.stat()
        if st.st_uid == 0 and (st.st_mode & 0o011) != 0o011:
            os.chmod(p, (st.st_mode & 0o7777) | 0o011)
        if p == stop or p == p.parent:
            return
        p = p.parent



def unique_path(parent, base, name=None):
    """<parent>/<name> when a name is given, else the first of <parent>/<base>,
    <base>1, <base>2 ... that does not exist: a prefix per daemon a test
    starts."""
    if name:
        return Path(parent) / name
    p, i = Path(parent) / base, 1
    while p.exists():
        p, i = Path(parent) / f"{base}{i}", i + 1
    return p


def teardown_all(daemons):
    """Stops <daemons> last first (front ends before the backends they
    use) and fails the test with every problem found (crashes, leftovers,
    sanitizer reports)."""
    import pytest
    problems = []
    for d in reversed(daemons):
        problems += d.teardown()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def _mkdir(path, mode=0o755):
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    return path


class Relaisd(Daemon):
    """relaisd in the prefix <prefix>:

        prefix/conf/relaisd.conf   written from a template (default DEFAULT_CONF)
        prefix/htdocs/             DocumentRoot ({docroot})
        prefix/logs/               error_log, access_log, relaisd.pid ({logs})
        prefix/sanitizer/          ASan/UBSan/LSan reports (report.<pid>)
        prefix/relaisd.stdout|.stderr   of a foreground start
        prefix/runN.stdout|.stderr      of each run()

    <nports> free ports are picked: self.ports, self.port == self.ports[0];
    templates see them as {port} {port0} {port1} ... Extra <values> are
    placeholders for the template ({extra} is appended to the default one);
    string values may themselves use the built-in placeholders:
    write_config(extra="Listen 127.0.0.1:{port1}").
    """

    name = "relaisd"

    def __init__(self, prefix, binary=None, nports=1, template=None, **values):
        super().__init__(prefix, binary or find_binary("relaisd"))
        self.docroot = _mkdir(self.prefix / "htdocs")
        self.logs = self.prefix / "logs"
        self.conf = _mkdir(self.prefix / "conf") / "relaisd.conf"
        self.access_log_path = self.logs / "access_log"
        self.ports = [free_port() for _ in range(nports)]
        self.port = self.ports[0]
        self.template = DEFAULT_CONF
        self.values = {"extra": ""}
        self.write_config(template, **values)

    def placeholders(self):
        v = {"prefix": self.prefix, "docroot": self.docroot, "logs": self.logs,
             "conf": self.conf, "port": self.port,
             "user": pwd.getpwuid(os.geteuid()).pw_name,
             "group": grp.getgrgid(os.getegid()).gr_name}
        v.update({f"port{i}": p for i, p in enumerate(self.ports)})
        return v

    def write_config(self, template=None, **values):
        """(Re)writes the config from <template> (default: the last one) and
        <values> (merged with earlier ones). Tracks PidFile, ErrorLog and the
        first CustomLog, and which ports start() waits for. Returns the text."""
        if template is not None:
            self.template = template
        self.values.update(values)
        used = set()
        base = self.placeholders()
        values = dict(base)
        for k, v in self.values.items():   # values may use the base placeholders
            values[k] = fill(v, base, used) if isinstance(v, str) else v
        text = fill(self.template, values, used)
        self.conf.write_text(text)
        os.chmod(self.conf, 0o644)
        self.wait_ports = [p for i, p in enumerate(self.ports)
                           if f"port{i}" in used or (i == 0 and "port" in used)]
        self.pidfile = self._conf_path(text, "PidFile", self.logs / "relaisd.pid")
        self.error_log_path = self._conf_path(text, "ErrorLog", self.logs / "error_log")
        self.access_log_path = self._conf_path(text, "CustomLog", self.logs / "access_log")
        return text

    def _conf_path(self, text, directive, default):
        m = re.search(rf'^\s*{directive}\s+("([^"]+)"|(\S+))', text, re.M | re.I)
        if not m:
            return Path(default)
        p = Path(m.group(2) or m.group(3))
        return p if p.is_absolute() else self.prefix / p

    def argv(self, args):
        args = list(args)
        if "-f" not in args:
            args = ["-f", str(self.conf)] + args
        return [str(self.binary)] + args

    def marker(self):
        return str(self.conf)


    def access_log(self):
        """The access log's text ('' if absent)."""
        return _read(self.access_log_path)

    def access_log_lines(self):
        return self.access_log().splitlines()

    def wait_for_access_log(self, pattern, timeout=5.0):
        return self.wait_for_log(pattern, timeout, log=self.access_log)

    def url(self, path="/", port=None):
        return f"http://{HOST}:{port or self.port}{path}"

    def request(self, method="GET", target="/", port=None, **kw):
        """request() against this instance (default its first port)."""
        return request(port or self.port, method, target, **kw)

    def get(self, target="/", **kw):
        return self.request("GET", target, **kw)


# --------------------------------------------------------------------------
# HTTP: headers and responses

class Headers(Mapping):
    """Header fields in order, with a case-insensitive mapping view:
    h["content-type"]; repeated fields are joined with ", " (use get_all()
    for Set-Cookie). h.list is the [(name, value)] list as received."""

    def __init__(self, items=()):
        self.list = [(str(k), str(v)) for k, v in items]

    def get_all(self, name):
        n = name.lower()
        return [v for k, v in self.list if k.lower() == n]

    def __getitem__(self, name):
        vals = self.get_all(name)
        if not vals:
            raise KeyError(name)
        return ", ".join(vals)

    def __contains__(self, name):
        return isinstance(name, str) and any(k.lower() == name.lower() for k, _ in self.list)

    def __iter__(self):
        seen = set()
        for k, _ in self.list:
            if k.lower() not in seen:
                seen.add(k.lower())
                yield k

    def __len__(self):
        return len({k.lower() for k, _ in self.list})

    def __repr__(self):
        return f"Headers({self.list!r})"


class Response:
    """One parsed response. status (int), reason, version ("HTTP/1.1"),
    headers (Headers), body (bytes, de-chunked), trailers (Headers), chunked
    (bool), raw (the exact bytes received for it)."""

    def __init__(self, version, status, reason, headers, body=b"", trailers=None,
                 chunked=False, raw=b""):
        self.version, self.status, self.reason = version, status, reason
        self.headers, self.body = headers, body
        self.trailers = trailers if trailers is not None else Headers()
        self.chunked, self.raw = chunked, raw

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def __repr__(self):
        return (f"<Response {self.version} {self.status} {self.reason!r} "
                f"{len(self.headers.list)} headers, {len(self.body)} body bytes>")


class ResponseError(AssertionError):
    """The bytes received are not a valid HTTP/1.x response. .data holds them."""

    def __init__(self, msg, data=b""):
        super().__init__(f"{msg}; received {len(data)} bytes: {bytes(data[:400])!r}")
        self.data = bytes(data)


class ConnectionClosed(ResponseError):
    """The peer closed (or reset) the connection before a complete response."""


class ResponseTimeout(ResponseError):
    """No complete response before the deadline."""


class _Reader:
    """Reads a socket without consuming more than asked: recv(MSG_PEEK) to find
    a line's end, then recv() of exactly that much. Used for plain sockets."""

    def __init__(self, sock, deadline):
        self.sock, self.deadline = sock, deadline
        self.got = bytearray()          # everything consumed, for error messages

    def _recv(self, n, flags=0):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ResponseTimeout("timed out", self.got)
        self.sock.settimeout(left)
        try:
            return self.sock.recv(n, flags)
        except socket.timeout:
            raise ResponseTimeout("timed out", self.got) from None
        except (ConnectionResetError, ConnectionAbortedError):
            return b""

    def exact(self, n):
        out = bytearray()
        while len(out) < n:
            d = self._recv(min(n - len(out), 1 << 16))
            if not d:
                raise ConnectionClosed(f"connection closed with {n - len(out)} of "
                                       f"{n} bytes missing", self.got)
            out += d
            self.got += d
        return bytes(out)

    def line(self, limit=1 << 16):
        """One line with its terminator; b'' on EOF before any byte; raises
        on EOF in mid-line or beyond <limit> bytes."""
        out = bytearray()
        while True:
            d = self._recv(1 << 16, socket.MSG_PEEK)
            if not d:
                if out:
                    raise ConnectionClosed("connection closed in mid-line", self.got)
                return b""
            i = d.find(b"\n")
            out += self.exact(i + 1 if i >= 0 else len(d))
            if i >= 0:
                return bytes(out)
            if len(out) > limit:
                raise ResponseError(f"line longer than {limit} bytes", self.got)

    def rest(self):
        out = bytearray()
        while True:
            d = self._recv(1 << 16)
            if not d:
                return bytes(out)
            out += d
            self.got += d


class _BufferedReader(_Reader):
    """For sockets that cannot peek (TLS): the read-ahead is kept on the socket
    object itself, so the next read_response() on it continues from there."""

    def __init__(self, sock, deadline):
        super().__init__(sock, deadline)
        self.buf = sock.__dict__.setdefault("_relais_rbuf", bytearray())

    def _fill(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ResponseTimeout("timed out", self.got)
        self.sock.settimeout(left)
        try:
            d = self.sock.recv(1 << 16)
        except socket.timeout:
            raise ResponseTimeout("timed out", self.got) from None
        except (ConnectionResetError, ConnectionAbortedError, ssl.SSLEOFError):
            d = b""
        self.buf += d
        return bool(d)

    def _take(self, n):
        d = bytes(self.buf[:n])
        del self.buf[:n]
        self.got += d
        return d

    def exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise ConnectionClosed(f"connection closed with {n - len(self.buf)} "
                                       f"of {n} bytes missing", self.got + self.buf)
        return self._take(n)

    def line(self, limit=1 << 16):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                return self._take(i + 1)
            if len(self.buf) > limit:
                raise ResponseError(f"line longer than {limit} bytes", self.buf)
            if not self._fill():
                if self.buf:
                    raise ConnectionClosed("connection closed in mid-line", self.got + self.buf)
                return b""

    def rest(self):
        while self._fill():
            pass
        return self._take(len(self.buf))


class _BytesReader(_Reader):
    def __init__(self, data):
        super().__init__(None, 0)
        self.data, self.pos = bytes(data), 0

    def exact(self, n):
        if self.pos + n > len(self.data):
            raise ConnectionClosed(f"data ends with {self.pos + n - len(self.data)} of "
                                   f"{n} bytes missing", self.data)
        d = self.data[self.pos:self.pos + n]
        self.pos += n
        return d

    def line(self, limit=1 << 16):
        if self.pos >= len(self.data):
            return b""
        i = self.data.find(b"\n", self.pos)
        if i < 0:
            raise ConnectionClosed("data ends in mid-line", self.data)
        return self.exact(i + 1 - self.pos)

    def rest(self):
        return self.exact(len(self.data) - self.pos)


_STATUS_LINE = re.compile(rb"^(HTTP/\d\.\d) (\d{3})(?: ([^\r\n]*))?\r?\n$")
_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def _parse(rd, method, strict):
    raw = bytearray()

    def line():
        ln = rd.line()
        raw.extend(ln)
        if ln and strict and not ln.endswith(b"\r\n"):
            raise ResponseError("line not terminated by CRLF (bare LF)", raw)
        return ln

    first = line()
    if not first:
        raise ConnectionClosed("connection closed before a response", raw)
    m = _STATUS_LINE.match(first)
    if not m:
        raise ResponseError("bad status line", raw)
    version, status = m.group(1).decode(), int(m.group(2))
    reason = (m.group(3) or b"").decode("latin-1")
    headers = _parse_fields(line, raw, strict)

    no_body = (method.upper() == "HEAD" or 100 <= status < 200 or status in (204, 304)
               or (method.upper() == "CONNECT" and 200 <= status < 300))
    body, trailers, chunked = b"", Headers(), False
    te = [c.strip().lower() for v in headers.get_all("transfer-encoding") for c in v.split(",")]
    cl = headers.get_all("content-length")
    if no_body:
        pass
    elif te:
        if strict and cl:
            raise ResponseError("both Transfer-Encoding and Content-Length", raw)
        if te[-1] == "chunked":
            chunked = True
            body, trailers = _read_chunked(rd, raw, line, strict)
        else:
            body = rd.rest()
            raw.extend(body)
    elif cl:
        values = {v.strip() for v in ",".join(cl).split(",")}
        if len(values) != 1 or not next(iter(values)).isdigit():
            raise ResponseError(f"bad Content-Length {cl!r}", raw)
        body = rd.exact(int(values.pop()))
        raw.extend(body)
    else:
        body = rd.rest()
        raw.extend(body)
    return Response(version, status, reason, headers, body, trailers, chunked, bytes(raw))


def _parse_fields(line, raw, strict):
    items = []
    while True:
        ln = line()
        if not ln:
            raise ConnectionClosed("connection closed in the header", raw)
        if ln in (b"\r\n", b"\n"):
            return Headers(items)
        if ln[:1] in (b" ", b"\t"):
            if strict or not items:
                raise ResponseError("obsolete line folding in a header", raw)
            name, value = items.pop()
            items.append((name, value + " " + ln.strip().decode("latin-1")))
            continue
        name, sep, value = ln.partition(b":")
        if not sep or (strict and not _TOKEN.match(name)):
            raise ResponseError(f"bad header line {ln!r}", raw)
        items.append((name.strip().decode("latin-1"), value.strip().decode("latin-1")))


def _read_chunked(rd, raw, line, strict):
    body = bytearray()
    while True:
        ln = line()
        if not ln:
            raise ConnectionClosed("connection closed before the last chunk", raw)
        size = ln.split(b";", 1)[0].strip()
        if not size or any(c not in b"0123456789abcdefABCDEF" for c in size):
            raise ResponseError(f"bad chunk size line {ln!r}", raw)
        n = int(size, 16)
        if n == 0:
            return bytes(body), _parse_fields(line, raw, strict)
        data = rd.exact(n)
        raw.extend(data)
        body += data
        crlf = rd.exact(2)
        raw.extend(crlf)
        if crlf != b"\r\n":
            raise ResponseError("chunk data not followed by CRLF", raw)


def read_response(sock, method="GET", timeout=IO_TIMEOUT, strict=True):
    """Reads exactly ONE response from <sock>: status line, header, then the
    body by Content-Length, chunked coding or until close (none for HEAD,
    1xx, 204, 304). A 1xx is returned as a response of its own: call again
    for the final one. <method> is the method of the request it answers.
    <strict> rejects what a conforming server never sends (bare LF, folding,
    both Content-Length and Transfer-Encoding). Raises ConnectionClosed if
    the peer closes before a complete response, ResponseTimeout after
    <timeout> s, ResponseError for malformed bytes. The socket's timeout is
    restored afterwards."""
    deadline = time.monotonic() + timeout
    old = sock.gettimeout()
    rd = (_BufferedReader if isinstance(sock, ssl.SSLSocket) else _Reader)(sock, deadline)
    try:
        return _parse(rd, method, strict)
    finally:
        try:
            sock.settimeout(old)
        except OSError:
            pass


def parse_responses(data, methods="GET", strict=True):
    """Parses every response in the byte string <data> (e.g. what raw()
    returned for pipelined requests). <methods> is one method for all, or a
    list with one per response. Returns [Response]."""
    rd = _BytesReader(data)
    out = []
    while rd.pos < len(data):
        m = methods if isinstance(methods, str) else methods[len(out)]
        out.append(_parse(rd, m, strict))
    return out


# --------------------------------------------------------------------------
# HTTP: connections and requests

class Conn(socket.socket):
    """A connected TCP socket (all socket methods) with HTTP conveniences."""

    def send_request(self, method="GET", target="/", **kw):
        """Sends build_request(method, target, **kw)."""
        self.sendall(build_request(method, target, **kw))

    def read_response(self, method="GET", timeout=IO_TIMEOUT, strict=True):
        return read_response(self, method, timeout, strict)

    def request(self, method="GET", target="/", timeout=IO_TIMEOUT, **kw):
        """Sends one request and reads its response (1xx skipped)."""
        self.send_request(method, target, **kw)
        while True:
            r = self.read_response(method, timeout)
            if not 100 <= r.status < 200 or r.status == 101:
                return r

    def is_closed(self, timeout=1.0):
        return is_closed(self, timeout)


def open_conn(port, timeout=IO_TIMEOUT, host=HOST):
    """A Conn connected to <host>:<port> (default 127.0.0.1) with <timeout>."""
    c = Conn(socket.AF_INET, socket.SOCK_STREAM)
    c.settimeout(timeout)
    try:
        c.connect((host, port))
    except OSError:
        c.close()
        raise
    return c


def open_tls(port, server_name="localhost", alpn=None, timeout=IO_TIMEOUT, host=HOST):
    """A TLS connection (ssl.SSLSocket, certificate not verified) to
    <host>:<port> with SNI <server_name> and ALPN protocols <alpn> (list).
    read_response() and is_closed() work on it."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        return ctx.wrap_socket(s, server_hostname=server_name)
    except Exception:
        s.close()
        raise


def is_closed(sock, timeout=1.0):
    """True if the peer closes (FIN or RST) <sock> within <timeout> s; False
    if it stays open or data arrives (the data is not consumed)."""
    tls = isinstance(sock, ssl.SSLSocket)
    if tls and (sock.__dict__.get("_relais_rbuf") or sock.pending()):
        return False
    r, _, _ = select.select([sock], [], [], timeout)
    if not r:
        return False
    old = sock.gettimeout()
    sock.settimeout(0)
    try:
        if tls:     # cannot peek: keep what arrives for the next read_response()
            d = sock.recv(1 << 16)
            sock.__dict__.setdefault("_relais_rbuf", bytearray()).extend(d)
            return d == b""
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (ConnectionResetError, ConnectionAbortedError, ssl.SSLEOFError):
        return True
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    finally:
        sock.settimeout(old)


def build_request(method="GET", target="/", headers=None, body=None, host="localhost",
                  version="HTTP/1.1", close=False):
    """The bytes of a request. <headers>: dict or [(name, value)], sent in
    order after Host (<host>; None for no Host header). Adds Content-Length for
    a <body> unless the headers have it or Transfer-Encoding, and
    "Connection: close" when <close>. str parts are encoded as latin-1."""
    items = list(headers.items() if isinstance(headers, Mapping) else headers or [])
    names = {k.lower() for k, _ in items}
    if host is not None and "host" not in names:
        items.insert(0, ("Host", host))
    if isinstance(body, str):
        body = body.encode()
    if body is not None and not names & {"content-length", "transfer-encoding"}:
        items.append(("Content-Length", str(len(body))))
    if close and "connection" not in names:
        items.append(("Connection", "close"))
    head = f"{method} {target} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in items)
    return (head + "\r\n").encode("latin-1") + (body or b"")


def request(port, method="GET", target="/", headers=None, body=None, host="localhost",
            version="HTTP/1.1", close=True, timeout=IO_TIMEOUT):
    """Sends one request on a new connection to 127.0.0.1:<port> and returns
    the final Response (1xx skipped). "Connection: close" is added unless
    <close> is False or the headers set Connection."""
    with open_conn(port, timeout) as c:
        c.sendall(build_request(method, target, headers, body, host, version, close))
        while True:
            r = c.read_response(method, timeout)
            if not 100 <= r.status < 200 or r.status == 101:
                return r


def raw(port, data, timeout=IO_TIMEOUT, shutdown=False, host=HOST):
    """Sends <data> (bytes, or str as latin-1) to <host>:<port> and returns
    every byte received until the peer closes or <timeout> s pass (no error
    on timeout or reset: the bytes so far). <shutdown> half-closes after
    sending. Against a keep-alive server send "Connection: close", or the
    call lasts <timeout>."""
    if isinstance(data, str):
        data = data.encode("latin-1")
    deadline = time.monotonic() + timeout
    out = bytearray()
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            s.sendall(data)
            if shutdown:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                d = s.recv(1 << 16)
            except (socket.timeout, ConnectionResetError, ConnectionAbortedError):
                break
            if not d:
                break
            out += d
    return bytes(out)
