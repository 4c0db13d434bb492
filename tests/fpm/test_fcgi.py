"""FastCGI connection handling as the front ends rely on it, tested with a
bare client (fpmlib) so that the timing is deterministic.

test_late_empty_stdin: Apache's mod_proxy_fcgi writes BEGIN_REQUEST +
PARAMS, then the empty FCGI_STDIN in a second write. php-fpm may answer a
GET before that record arrives; it then half-closes (shutdown(SHUT_WR))
and drains what the client still sends (fcgi_close()), so Apache's late
write succeeds. An FPM that close()s at once makes that write fail with
EPIPE, which Apache turns into "AH01075: Error dispatching request ...
(sending empty stdin)" and a 503, intermittently."""

import struct
import time

import fpmlib
from fpmlib import _nv, _record

HELLO = "<?php echo 'hi ', getmypid(), ' ', file_get_contents('php://input');\n"


def test_late_empty_stdin(make_fpm):
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 1})
    fpm.script("hello.php", HELLO)
    fpm.start()
    with fpmlib.fcgi_connect(fpm.addr) as s:
        params = fpmlib.php_params(fpm.docroot / "hello.php", "/hello.php")
        pairs = b"".join(_nv(k, v) for k, v in params.items())
        s.sendall(_record(fpmlib.FCGI_BEGIN_REQUEST, 1, struct.pack(">HB5x", 1, 0))
                  + _record(fpmlib.FCGI_PARAMS, 1, pairs) + _record(fpmlib.FCGI_PARAMS, 1))
        try:
            r = fpmlib.fcgi_read(s, timeout=1.5)
        except TimeoutError:
            r = None            # waits for the end of stdin: fine too
        if r is None:
            s.sendall(_record(fpmlib.FCGI_STDIN, 1))
            r = fpmlib.fcgi_read(s, timeout=5)
        else:
            time.sleep(0.2)     # the answer is out; the client writes stdin now
            try:
                s.sendall(_record(fpmlib.FCGI_STDIN, 1))
            except (BrokenPipeError, ConnectionResetError) as e:
                raise AssertionError(
                    "the FPM closed the connection before the client's empty FCGI_STDIN "
                    f"(Apache answers 503 then): {e!r}") from None
            s.settimeout(3)
            assert s.recv(100) == b"", "then the FPM closes its side"
    assert r.status == 200 and r.body.startswith(b"hi "), r
    # the only child is free again (it did not stay blocked draining)
    assert fpm.request("hello.php", timeout=5).status == 200


def test_keep_conn_requests_on_one_connection(make_fpm):
    """FCGI_KEEP_CONN (nginx's fastcgi_keep_conn on, Apache's kept backend
    connections): several requests, with bodies, on one connection, one
    child."""
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 2})
    fpm.script("hello.php", HELLO)
    fpm.start()
    with fpmlib.fcgi_connect(fpm.addr) as s:
        pids = set()
        for i in range(4):
            body = b"body%d" % i * (1 + 20000 * i)      # up to ~360 KB, several records
            params = fpmlib.php_params(fpm.docroot / "hello.php", "/hello.php",
                                       method="POST", content_length=len(body),
                                       content_type="application/octet-stream")
            fpmlib.fcgi_send(s, params, body, rid=1, keep_conn=True)
            r = fpmlib.fcgi_read(s, timeout=5)
            assert r.status == 200 and r.app_status == 0 and r.protocol_status == 0, r
            hi, pid, got = r.body.split(b" ", 2)
            assert got == body
            pids.add(pid)
        assert len(pids) == 1, pids
    assert fpm.request("hello.php").status == 200
