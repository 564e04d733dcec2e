#!/usr/bin/env python3
"""Write the multipart/form-data fixtures of tests/unit/test_multipart.c:
real bodies from real encoders, each as NAME.form holding the request's
Content-Type, a LF, then the body exactly as it came on the wire.

    python3 tests/unit/multipart/make-fixtures.py

Encoders: curl -F (a local capture server), Python's urllib3
(encode_multipart_formdata, as requests uses it) and email package
(MIMEMultipart, which writes RFC 2231 filename*), and Chromium, headless:
fetch() with a FormData, and a plain <form> submitted with an empty file
input.  Needs curl, chromium and urllib3; the boundaries are random, so a
rerun changes the files but not what the tests expect.  Nothing leaves
127.0.0.1.
"""
import email.generator
import email.mime.application
import email.mime.multipart
import email.mime.text
import http.server
import io
import os
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))

# A file that is hard on a parser: every byte value, CRLFs, "--" and a
# boundary-like line inside.
BLOB = bytes(range(256)) + b"\r\n--\r\n--not-the-boundary\r\n\r\n-\r" + \
    bytes(range(255, -1, -1))
TEXT = "first line\r\nsecond line, caf\u00e9\n"


def save(name, ctype, body):
    with open(os.path.join(HERE, name + ".form"), "wb") as f:
        f.write(ctype.encode("latin-1") + b"\n" + body)
    print("wrote %s.form (%d bytes)" % (name, len(body)))


class Capture(http.server.BaseHTTPRequestHandler):
    got = {}
    pages = {}

    def do_GET(self):
        body = self.pages.get(self.path, "").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.got[self.path.lstrip("/")] = (self.headers["Content-Type"],
                                          self.rfile.read(n))
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a):
        pass


def from_curl(base, tmp):
    blob = os.path.join(tmp, "blob.bin")
    text = os.path.join(tmp, "notes.txt")
    with open(blob, "wb") as f:
        f.write(BLOB)
    with open(text, "w", encoding="utf-8", newline="") as f:
        f.write(TEXT)
    runs = {
        "curl-basic": ["-F", "note=hello world", "-F", "file=@" + text],
        "curl-files": ["-F", "file=@%s;type=application/octet-stream" % blob,
                       "-F", "empty=",
                       "-F", "many=@%s;filename=a.txt" % text,
                       "-F", "many=@%s;filename=b.txt" % text,
                       "-F", 'odd=@%s;filename="sub/we;ird \\"q\\" '
                             'caf\u00e9.txt"' % text],
    }
    for name, args in runs.items():
        subprocess.run(["curl", "-sS", "-o", "/dev/null"] + args +
                       [base + "/" + name], check=True)
        save(name, *Capture.got[name])


def from_urllib3():
    import urllib3
    body, ctype = urllib3.encode_multipart_formdata([
        ("title", "caf\u00e9 \u2615"),
        ("upload", ("r\u00e9sum\u00e9 \"v2\".pdf", BLOB, "application/pdf")),
        ("upload", ("../../etc/passwd", b"root:x:0:0\n", "text/plain")),
    ])
    save("urllib3", ctype, body)


def from_email():
    form = email.mime.multipart.MIMEMultipart("form-data")
    field = email.mime.text.MIMEText("plain value", "plain", "utf-8")
    field.add_header("Content-Disposition", "form-data", name="comment")
    form.attach(field)
    part = email.mime.application.MIMEApplication(BLOB[:64], "octet-stream")
    # A non-ASCII filename: the email package writes it as RFC 2231
    # filename*=utf-8''..., what filename* (RFC 8187) parses.
    part.add_header("Content-Disposition", "form-data", name="doc",
                    filename=("utf-8", "", "\u20ac rates.bin"))
    form.attach(part)
    out = io.BytesIO()
    gen = email.generator.BytesGenerator(out, policy=email.policy.HTTP)
    gen.flatten(form, linesep="\r\n")
    raw = out.getvalue()
    head, _, body = raw.partition(b"\r\n\r\n")
    ctype = form["Content-Type"]
    save("python-email", ctype, body)


CHROME_FETCH = """<!doctype html><meta charset="utf-8"><script>
(async () => {
  const blob = new Uint8Array(%s);
  const fd = new FormData();
  fd.append("note", "line one\\nline two\\r\\ncaf\\u00e9");
  fd.append("file", new Blob([blob], {type: "application/octet-stream"}),
            'we"ird\\nname caf\\u00e9.bin');
  fd.append("text", new File(["hello\\r\\n"], "C:\\\\Users\\\\me\\\\hi.txt",
                             {type: "text/plain"}));
  await fetch("/chromium-fetch", {method: "POST", body: fd});
  document.title = "done";
})();
</script>"""

CHROME_FORM = """<!doctype html><meta charset="utf-8">
<form method="post" action="/chromium-form" enctype="multipart/form-data">
<input name="user" value="j\\u00fcrgen">
<textarea name="bio">two
lines</textarea>
<input type="checkbox" name="tag" value="a" checked>
<input type="checkbox" name="tag" value="b" checked>
<input type="file" name="avatar">
</form><script>document.forms[0].submit();</script>"""


def from_chromium(base):
    Capture.pages["/fetch"] = CHROME_FETCH % list(BLOB)
    Capture.pages["/form"] = CHROME_FORM.replace("\\u00fc", "\u00fc")
    for page, name in (("/fetch", "chromium-fetch"), ("/form", "chromium-form")):
        with tempfile.TemporaryDirectory() as prof:
            subprocess.run(["chromium", "--headless", "--no-sandbox",
                            "--disable-gpu", "--user-data-dir=" + prof,
                            "--virtual-time-budget=5000", "--dump-dom",
                            base + page], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=60)
        if name not in Capture.got:
            sys.exit("chromium sent nothing for " + page)
        save(name, *Capture.got[name])


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % srv.server_address[1]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            from_curl(base, tmp)
        from_urllib3()
        from_email()
        from_chromium(base)
    finally:
        srv.shutdown()


if __name__ == "__main__":
    import email.policy  # noqa: F401  (used by from_email)
    main()
