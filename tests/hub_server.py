"""A tiny stand-in for the Hugging Face Hub's HTTP API, on 127.0.0.1, for push tests.

It answers the calls huggingface_hub makes for create_repo, create_branch and
upload_folder (preupload + an NDJSON commit, optionally as a pull request) and
keeps what arrived: `server.repos[repo_id][revision][path] = bytes` (model and dataset repos alike). Everything
else is answered 404 and recorded in `server.unhandled`, so a test sees a new call.
"""
import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse

import yaml


class HubHandler(BaseHTTPRequestHandler):
    server_version = "FakeHub/1.0"

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _json(self, status: int, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_POST(self):  # noqa: N802 - http.server's naming
        hub = self.server
        url = urlparse(self.path)
        parts = url.path.strip("/").split("/")
        body = self._body()
        hub.requests.append(("POST", url.path, {k.lower(): v for k, v in self.headers.items()}))
        if hub.expected_token and self.headers.get("Authorization") != f"Bearer {hub.expected_token}":
            return self._json(401, {"error": "Invalid credentials"})
        if url.path == "/api/validate-yaml":
            # The Hub checks a model card's front matter before a commit; so do we, with PyYAML.
            try:
                yaml.safe_load(json.loads(body)["content"].split("---")[1])
            except (yaml.YAMLError, IndexError) as e:
                return self._json(400, {"errors": [{"message": str(e)}]})
            hub.validated.append(json.loads(body)["content"])
            return self._json(200, {"errors": [], "warnings": []})
        if url.path == "/api/repos/create":
            req = json.loads(body)
            repo_id = f"{req.get('organization') or 'user'}/{req['name']}" if "/" not in req["name"] else req["name"]
            hub.repos.setdefault(repo_id, {"main": {}})
            return self._json(200, {"url": f"{hub.url}/{repo_id}", "name": repo_id})
        # /api/{models|datasets}/{org}/{name}/{action}/{revision...}
        if len(parts) >= 5 and parts[0] == "api" and parts[1] in ("models", "datasets"):
            repo_id, action, revision = f"{parts[2]}/{parts[3]}", parts[4], unquote("/".join(parts[5:]))
            if repo_id not in hub.repos:
                return self._json(404, {"error": "Repository not found"})
            if action == "preupload":
                files = json.loads(body)["files"]
                return self._json(200, {"files": [
                    {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]})
            if action == "discussions" and not revision:
                # create_pr: the client opens a pull request, then commits to refs/pr/<num>.
                req = json.loads(body)
                num = len(hub.prs) + 1
                hub.prs.append({"num": num, "repo_id": repo_id, "title": req["title"],
                                "is_pull_request": bool(req.get("pullRequest"))})
                hub.repos[repo_id][f"refs/pr/{num}"] = dict(hub.repos[repo_id]["main"])
                return self._json(200, {"num": num})
            if action == "branch":
                hub.repos[repo_id].setdefault(revision, dict(hub.repos[repo_id]["main"]))
                return self._json(200, {})
            if action == "commit":
                target = revision
                files = dict(hub.repos[repo_id].get(revision, {}))
                header = {}
                for line in body.decode().splitlines():
                    item = json.loads(line)
                    if item["key"] == "header":
                        header = item["value"]
                    elif item["key"] == "file":
                        value = item["value"]
                        files[value["path"]] = base64.b64decode(value["content"])
                    elif item["key"] == "deletedFile":
                        files.pop(item["value"]["path"], None)
                hub.repos[repo_id][target] = files
                oid = hashlib.sha1(json.dumps(sorted(files)).encode() + body).hexdigest()
                hub.commits.append({"repo_id": repo_id, "revision": target, "header": header, "oid": oid})
                answer = {"commitUrl": f"{hub.url}/{repo_id}/commit/{oid}", "commitOid": oid}
                if target.startswith("refs/pr/"):
                    answer["pullRequestUrl"] = f"{hub.url}/{repo_id}/discussions/{target.rsplit('/', 1)[1]}"
                return self._json(200, answer)
        hub.unhandled.append(("POST", self.path))
        return self._json(404, {"error": f"not handled: {self.path}"})

    def do_GET(self):  # noqa: N802
        hub = self.server
        url = urlparse(self.path)
        parts = url.path.strip("/").split("/")
        hub.requests.append(("GET", url.path, {k.lower(): v for k, v in self.headers.items()}))
        if len(parts) == 6 and parts[:2] == ["api", "models"] and parts[4] == "discussions":
            pr = next((p for p in hub.prs if str(p["num"]) == parts[5]), None)
            if pr:
                return self._json(200, {
                    "num": pr["num"], "title": pr["title"], "status": "draft", "isPullRequest": pr["is_pull_request"],
                    "createdAt": "2026-01-01T00:00:00.000Z", "author": {"name": "tester"},
                    "repo": {"name": pr["repo_id"], "type": "model"}, "events": [],
                    "changes": {"base": "refs/heads/main"}, "filesWithConflicts": []})
        hub.unhandled.append(("GET", self.path))
        return self._json(404, {"error": f"not handled: {self.path}"})


class FakeHub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, expected_token: str | None = None):
        super().__init__(("127.0.0.1", 0), HubHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.expected_token = expected_token
        self.repos: dict = {}
        self.commits: list = []
        self.validated: list = []
        self.prs: list = []
        self.requests: list = []
        self.unhandled: list = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
