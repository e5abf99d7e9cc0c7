#!/usr/bin/env python3
"""Runs Schemathesis, an independent API fuzzer, against a live `aidant serve`.

The server runs on a fresh demo database with flood protection off (so the
fuzzer's reports reach the code rather than the limit). A staff API token is
made the way a person makes one, by signing in as the demo analyst and
creating it on the profile page, so the staff operations are fuzzed too.
Then the field app's sync is fuzzed again as the demo officer, a member of
Operation Aidant's teams, with the operation's and a team's real ids, so
that what is generated reaches the records rather than a "not found".
Every check Schemathesis has is on: no server errors, responses that
conform to the document's schemas, only status codes and content types the
document declares, and the rest. Exit status: Schemathesis's own.

    scripts/api-fuzz.py [--binary target/debug/aidant] [--max-examples 100]
"""

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

DEMO_PASSWORD = "aidant-demo-password"
ANALYST = "analyst@beds.police.example"
OFFICER = "officer@beds.police.example"


def start_server(binary, data_dir, key_dir):
    env = {name: value for name, value in os.environ.items() if not name.startswith("AIDANT_")}
    env.update(
        AIDANT_DATA_DIR=data_dir,
        AIDANT_KEY_DIR=key_dir,
        AIDANT_LISTEN="127.0.0.1:0",
        AIDANT_LOG="warn",
        AIDANT_PUBLIC_SUBMISSIONS_PER_MINUTE="0",
        AIDANT_SIGN_INS_PER_MINUTE="0",
    )
    # Enough reports for the demo's story, which brings Operation Aidant.
    subprocess.run([binary, "demo", "--no-serve", "--reports", "120", "--data-dir", data_dir], env=env, check=True, stdout=subprocess.DEVNULL)
    server = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.PIPE, text=True)
    for line in server.stdout:
        found = re.search(r"Aidant is listening on (http://\S+)", line)
        if found:
            return server, found.group(1)
    raise SystemExit("the server stopped before it listened")


class Browser:
    """Just enough of a browser to sign in and use a form: cookies kept
    (the __Host- cookies are Secure, so they are sent back by hand over
    plain HTTP on the loopback), redirects followed."""

    def __init__(self, base):
        self.base = base
        self.cookies = {}

    def request(self, path, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base + path, data=data)
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{name}={value}" for name, value in self.cookies.items()))
        opener = urllib.request.build_opener(NoRedirect)
        try:
            response = opener.open(request)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        if response.status in (302, 303) and response.headers.get("Location"):
            return self.request(response.headers["Location"])
        return response.status, response.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def hidden(body, name):
    found = re.search(rf'name="{name}" value="([^"]*)"', body)
    if not found:
        raise SystemExit(f"no {name} on the page")
    return html.unescape(found.group(1))


def staff_token(base, email=ANALYST):
    browser = Browser(base)
    _, page = browser.request("/staff/sign-in")
    status, page = browser.request(
        "/staff/sign-in", {"sign_in_token": hidden(page, "sign_in_token"), "email": email, "password": DEMO_PASSWORD}
    )
    _, profile = browser.request("/staff/profile")
    _, created = browser.request("/staff/profile/tokens", {"csrf_token": hidden(profile, "csrf_token"), "name": "Schemathesis"})
    token = re.search(r'id="new-token">([^<]+)<', created)
    if not token:
        raise SystemExit(f"could not create a staff API token (sign-in answered {status})")
    return html.unescape(token.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default="target/debug/aidant")
    parser.add_argument("--max-examples", default="100")
    parser.add_argument("--schemathesis", default=shutil.which("schemathesis") or os.path.join(os.path.dirname(sys.executable), "schemathesis"))
    arguments = parser.parse_args()
    root = tempfile.mkdtemp(prefix="aidant-api-fuzz-")
    server = None
    try:
        server, base = start_server(arguments.binary, os.path.join(root, "data"), os.path.join(root, "keys"))
        token = staff_token(base)
        command = [
            arguments.schemathesis,
            "run",
            f"{base}/api/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            arguments.max_examples,
            "--header",
            f"Authorization: Bearer {token}",
            "--seed",
            "20261206",
        ]
        print("==>", " ".join(command).replace(token, "[token]"), flush=True)
        status = subprocess.run(command).returncode
        return status or fuzz_sync(arguments, base, root)
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(root, ignore_errors=True)


def fuzz_sync(arguments, base, root):
    """The sync again, as a team's member, with real ids in the address."""
    token = staff_token(base, OFFICER)
    request = urllib.request.Request(base + "/api/v1/staff/field", headers={"Authorization": f"Bearer {token}"})
    bundle = json.load(urllib.request.urlopen(request))
    if not bundle["briefings"]:
        raise SystemExit("the demo officer is in no team of a running operation")
    briefing = bundle["briefings"][0]
    config = os.path.join(root, "schemathesis.toml")
    with open(config, "w") as file:
        file.write(
            "[[operations]]\n"
            'include-path = "/api/v1/staff/operations/{id}/teams/{team}/records"\n'
            f'parameters = {{ id = "{briefing["operation_id"]}", team = "{briefing["team_id"]}" }}\n'
        )
    command = [
        arguments.schemathesis,
        "--config-file",
        config,
        "run",
        f"{base}/api/openapi.json",
        "--include-path",
        "/api/v1/staff/operations/{id}/teams/{team}/records",
        "--checks",
        "all",
        "--max-examples",
        arguments.max_examples,
        "--header",
        f"Authorization: Bearer {token}",
        "--seed",
        "20261207",
    ]
    print("==>", " ".join(command).replace(token, "[token]"), flush=True)
    return subprocess.run(command).returncode


if __name__ == "__main__":
    sys.exit(main())
