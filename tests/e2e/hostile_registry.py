#!/usr/bin/python3
"""A registry that misbehaves on purpose, for the e2e tests of what a real
registry will not do: it serves one OCI image layout (the first manifest of
its index.json, whatever the tag) over HTTPS and plain HTTP.

    hostile_registry.py DIR LAYOUT

Listens on two free ports of 127.0.0.1: HTTPS (a throwaway self-signed
certificate: hull reaches it as an insecure registry) and plain HTTP, both
serving the same routes; writes "HTTPS_PORT HTTP_PORT" to DIR/ports once
listening, and logs every request to DIR/requests.log as "https PATH" or
"http PATH". The first component of the repository picks the misbehaviour,
/v2/MODE/NAME/{manifests,blobs}/...:

  plain       serves the image as it is
  tohttp      redirects blobs (307) to the same blob over plain HTTP
  tohttps     redirects blobs (307) to the same blob over HTTPS
  short       the manifest declares each layer SHORT bytes smaller than it
              is; the blob comes whole, with its true Content-Length
  shortnolen  the same, the blob sent without a Content-Length (the body
              ends when the connection closes)
  hold        serves the image as it is, but answers a manifest request
              only once DIR/release exists (the request is logged first),
              so that a test can look at the client while it waits
Debian packages: python3-cryptography (tests/e2e/selfsigned.py)."""
import http.server
import json
import os
import ssl
import sys
import threading
import time

import selfsigned

SHORT = 100

out_dir, layout = sys.argv[1:3]


def blob_path(digest):
    algo, _, hexd = digest.partition(":")
    if algo != "sha256" or len(hexd) != 64 or not all(c in "0123456789abcdef" for c in hexd):
        return None
    return os.path.join(layout, "blobs", "sha256", hexd)


with open(os.path.join(layout, "index.json")) as f:
    top = json.load(f)["manifests"][0]
with open(blob_path(top["digest"]), "rb") as f:
    manifest = f.read()
mt = top.get("mediaType", "application/vnd.oci.image.manifest.v1+json")
m = json.loads(manifest)
for layer in m["layers"]:
    layer["size"] -= SHORT
short_manifest = json.dumps(m).encode()

_, cert, key_pem = selfsigned.make("127.0.0.1")
crt, pem = os.path.join(out_dir, "tls.crt"), os.path.join(out_dir, "tls.key")
with open(crt, "wb") as f:
    f.write(selfsigned.cert_pem(cert))
with open(pem, "wb") as f:
    f.write(key_pem)
log_lock = threading.Lock()
ports = {}


class Handler(http.server.BaseHTTPRequestHandler):
    scheme = "http"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", ctype=None, headers=(), length=True):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for h, v in headers:
            self.send_header(h, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client stopped reading: that may be the point

    def do_GET(self):
        with log_lock, open(os.path.join(out_dir, "requests.log"), "a") as log:
            log.write("%s %s\n" % (self.scheme, self.path))
        if self.path == "/v2/":
            self.answer(200, b"{}", "application/json")
            return
        parts = self.path.split("/")
        # /v2/MODE/NAME.../(manifests|blobs)/REF
        if len(parts) < 6 or parts[1] != "v2" or parts[-2] not in ("manifests", "blobs"):
            self.answer(404)
            return
        mode, kind, ref = parts[2], parts[-2], parts[-1]
        repo = "/".join(parts[3:-2])
        if kind == "manifests" and mode == "hold":
            while not os.path.exists(os.path.join(out_dir, "release")):
                time.sleep(0.01)
        if kind == "manifests":
            body = short_manifest if mode.startswith("short") else manifest
            self.answer(200, body, mt)
            return
        path = blob_path(ref)
        if not path or not os.path.isfile(path):
            self.answer(404)
            return
        if mode in ("tohttp", "tohttps"):
            scheme = mode[2:]
            loc = "%s://127.0.0.1:%d/v2/plain/%s/blobs/%s" % (scheme, ports[scheme], repo, ref)
            self.answer(307, headers=[("Location", loc)])
            return
        with open(path, "rb") as f:
            self.answer(200, f.read(), "application/octet-stream",
                        length=mode != "shortnolen")


class TLSHandler(Handler):
    scheme = "https"


def serve(scheme, handler):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if scheme == "https":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, pem)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    ports[scheme] = srv.server_address[1]
    return srv


servers = [serve("https", TLSHandler), serve("http", Handler)]
with open(os.path.join(out_dir, "ports.tmp"), "w") as f:
    f.write("%d %d\n" % (ports["https"], ports["http"]))
os.rename(os.path.join(out_dir, "ports.tmp"), os.path.join(out_dir, "ports"))
threading.Thread(target=servers[1].serve_forever, daemon=True).start()
servers[0].serve_forever()
