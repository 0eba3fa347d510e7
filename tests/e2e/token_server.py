#!/usr/bin/python3
"""A minimal token server (distribution's token auth spec) for the e2e tests.

    token_server.py DIR USER PASSWORD [HOST]

Makes an RSA key and a self-signed certificate (DIR/token.crt: the
registry's rootcertbundle), listens on a free port of HOST (default
127.0.0.1; written to DIR/token.port once listening) and answers GET /token?service=..&scope=..
with a JWT signed RS256, the certificate in its x5c header. Access is
(pull, push) granted only to requests carrying Basic USER:PASSWORD; anonymous ones get a
token without access, so the registry refuses them; wrong credentials get
401. Every request is logged to DIR/token.log as "anonymous SCOPE",
"user NAME SCOPE" or "refused NAME SCOPE" (any Authorization header that is
not Basic counts as refused, with NAME "-"), so a test can tell whether
credentials reached this server.
Debian packages: python3-jwt, python3-cryptography."""
import base64
import http.server
import json
import os
import secrets
import sys
import time
import urllib.parse

import jwt
from cryptography.hazmat.primitives import serialization

import selfsigned

ISSUER = "hull-test-issuer"

out_dir, want_user, want_pass = sys.argv[1:4]
host = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1"
key, cert, pem = selfsigned.make("hull test token signer")
with open(os.path.join(out_dir, "token.crt"), "wb") as f:
    f.write(selfsigned.cert_pem(cert))
x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        if url.path != "/token":
            self.send_error(404)
            return
        who = None
        scope = q.get("scope", [""])[0]
        auth = self.headers.get("Authorization")
        if auth is not None:
            user, pw = "-", None
            if auth.startswith("Basic "):
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            if (user, pw) != (want_user, want_pass):
                with open(os.path.join(out_dir, "token.log"), "a") as log:
                    log.write("refused %s %s\n" % (user, scope))
                self.send_response(401)
                self.end_headers()
                return
            who = user
        with open(os.path.join(out_dir, "token.log"), "a") as log:
            log.write(("user %s" % who if who else "anonymous") + " " + scope + "\n")
        access = []
        parts = scope.split(":")
        if who and len(parts) == 3 and parts[0] == "repository":
            actions = [a for a in parts[2].split(",") if a in ("pull", "push")]
            access = [{"type": "repository", "name": parts[1], "actions": actions}]
        t = int(time.time())
        claims = {"iss": ISSUER, "sub": who or "", "aud": q.get("service", [""])[0],
                  "exp": t + 300, "nbf": t - 10, "iat": t, "jti": secrets.token_hex(8),
                  "access": access}
        token = jwt.encode(claims, pem, algorithm="RS256", headers={"x5c": [x5c]})
        body = json.dumps({"token": token, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


srv = http.server.HTTPServer((host, 0), Handler)
with open(os.path.join(out_dir, "token.port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(out_dir, "token.port.tmp"), os.path.join(out_dir, "token.port"))
srv.serve_forever()
