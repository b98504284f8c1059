"""A Hub-compatible HTTP endpoint on 127.0.0.1, for offline round trips through the real clients.

Point ``huggingface_hub`` (and through it ``sentence-transformers`` and ``datasets``) at it with
``HF_ENDPOINT=<LocalHub.url>`` and ``HF_HUB_DISABLE_XET=1``. Every route answers what the client code in
``huggingface_hub`` 2.4 reads, route by route (the function that calls it is named in each handler):

- repos: ``POST /api/repos/create`` (``HfApi.create_repo``), ``DELETE /api/repos/delete``,
  ``PUT /api/{type}s/{repo}/settings``, ``GET /api/whoami-v2``, ``POST /api/validate-yaml``;
- info: ``GET /api/{type}s/{repo}[/revision/{rev}]`` (``model_info``/``dataset_info``, ``sha`` + ``siblings``);
- writes: ``POST .../preupload/{rev}`` (``_fetch_upload_modes``: ``uploadMode``, ``shouldIgnore``, ``oid``),
  ``POST [/datasets]/{repo}.git/info/lfs/objects/batch`` (``post_lfs_batch_info``, basic transfer, upload +
  verify actions), ``PUT`` of the bytes to the upload ``href`` (sha256 and size checked) and
  ``POST .../commit/{rev}`` (``_send_commit``: NDJSON ``header``/``file``/``lfsFile``/``deletedFile``/
  ``deletedFolder``, ``parentCommit`` and ``create_pr`` honoured; all-or-nothing);
- refs: ``POST|DELETE .../branch/{name}``, ``GET .../refs``, ``GET .../commits/{rev}``;
- reads: ``GET .../tree/{rev}[/{path}]`` and ``POST .../paths-info/{rev}`` (``HfFileSystem``), ``HEAD|GET
  [/datasets]/{repo}/resolve/{rev}/{path}`` with ``X-Repo-Commit``/``ETag``; LFS files redirect to a separate
  "CDN" origin with ``X-Linked-Etag``/``X-Linked-Size`` as the Hub does, which serves byte ranges.

Errors carry the ``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``) and
``X-Error-Message`` headers that ``hf_raise_for_status`` maps to typed exceptions. Tests inject failures with
:meth:`LocalHub.fail` (e.g. two HTTP 500 on commit) and read the request log in :attr:`LocalHub.requests`.

Written with the standard library only, so the test tooling does not depend on what it tests.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

# The .gitattributes the Hub puts in every new repo (abridged to the patterns that matter here): files
# matching them are stored through LFS, which is what makes preupload answer ``uploadMode: "lfs"``.
DEFAULT_GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lz4",
        "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb",
        "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "*.tar", "*.tflite", "*.tgz",
        "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*",
    )
)
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024  # the Hub stores any file above 10 MB through LFS
COMMIT_HASH = re.compile(r"^[0-9a-f]{40}$")


def git_blob_oid(data: bytes) -> str:
    """Git's object id of a blob: sha1 over ``blob <size>\\0<data>`` (what the Hub returns as ``oid``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass(frozen=True)
class Blob:
    """A file in a commit: its git oid, size, and the sha256 when its bytes live in LFS storage."""

    oid: str
    size: int
    lfs_sha256: str | None = None


@dataclass
class Commit:
    sha: str
    parent: str | None
    title: str
    message: str
    date: str
    files: dict[str, Blob]


@dataclass
class Repo:
    type: str
    id: str
    private: bool
    created_at: str
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    prs: int = 0

    def resolve(self, rev: str) -> str | None:
        if rev in self.branches:
            return self.branches[rev]
        if COMMIT_HASH.match(rev) and rev in self.commits:
            return rev
        return None


class HubError(Exception):
    """An HTTP error answer, shaped like the Hub's: JSON ``{"error": ...}`` plus the X-Error-* headers."""

    def __init__(self, status: int, message: str, code: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.extra = status, message, code, extra or {}


@dataclass
class _FailRule:
    status: int
    times: int
    method: str | None
    path: re.Pattern | None


class LocalHub:
    """The endpoint's state and its two servers (the Hub API and the "CDN" origin that serves LFS bytes).

    ``tokens`` maps a token to its user; ``orgs`` maps a user to the organisations it can write to. A write needs
    a token whose user or organisation is the namespace (403 otherwise, 404 if no such namespace exists).
    """

    def __init__(self, tokens: dict[str, str], orgs: dict[str, list[str]] | None = None):
        self.tokens = dict(tokens)
        self.orgs = {user: list(names) for user, names in (orgs or {}).items()}
        self.repos: dict[tuple[str, str], Repo] = {}
        self.objects: dict[str, bytes] = {}  # git oid -> bytes of regular files
        self.lfs: dict[str, bytes] = {}  # sha256 -> bytes of LFS files
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status); never headers (tokens)
        self._rules: list[_FailRule] = []
        self._lock = threading.RLock()
        self._api = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self, cdn=False))
        self._cdn = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self, cdn=True))
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._api.server_address[1]}"

    @property
    def cdn_url(self) -> str:
        return f"http://127.0.0.1:{self._cdn.server_address[1]}"

    def start(self) -> LocalHub:
        for server in (self._api, self._cdn):
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in (self._api, self._cdn):
            server.shutdown()
            server.server_close()

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- test controls -----------------------------------------------------------------------------------
    def fail(self, status: int, times: int = 1, *, method: str | None = None, path: str | None = None) -> None:
        """Answer the next ``times`` matching requests with ``status`` (``path`` is a regex searched in the URL)."""
        with self._lock:
            self._rules.append(_FailRule(status, times, method, re.compile(path) if path else None))

    def clear_failures(self) -> None:
        """Forget the failures :meth:`fail` injected that have not been used up."""
        with self._lock:
            self._rules.clear()

    def _injected_failure(self, method: str, path: str) -> int | None:
        with self._lock:
            for rule in self._rules:
                if rule.times > 0 and rule.method in (None, method) and (not rule.path or rule.path.search(path)):
                    rule.times -= 1
                    return rule.status
        return None

    def file_bytes(self, repo_type: str, repo_id: str, path: str, revision: str = "main") -> bytes:
        """The bytes of a file as stored (for assertions that bypass the clients)."""
        repo = self.repos[(repo_type, repo_id)]
        blob = repo.commits[repo.resolve(revision)].files[path]
        return self.lfs[blob.lfs_sha256] if blob.lfs_sha256 else self.objects[blob.oid]

    # -- helpers -----------------------------------------------------------------------------------------
    def user_for(self, authorization: str | None) -> str | None:
        if not authorization:
            return None
        token = authorization.removeprefix("Bearer ").strip()
        if token not in self.tokens:
            raise HubError(401, "Invalid credentials in Authorization header")
        return self.tokens[token]

    def namespaces_of(self, user: str | None) -> set[str]:
        return set() if user is None else {user, *self.orgs.get(user, [])}

    def known_namespaces(self) -> set[str]:
        return set(self.tokens.values()) | {org for names in self.orgs.values() for org in names}

    def get_repo(self, repo_type: str, repo_id: str, user: str | None, write: bool = False) -> Repo:
        repo = self.repos.get((repo_type, repo_id))
        namespace = repo_id.split("/")[0]
        if repo is None or (repo.private and namespace not in self.namespaces_of(user)):
            raise HubError(401 if user is None else 404, "Repository not found", "RepoNotFound")
        if write and namespace not in self.namespaces_of(user):
            raise HubError(403, f"You don't have the rights to write to {repo_type} repo {repo_id}")
        return repo

    def commit_for(self, repo: Repo, rev: str) -> Commit:
        sha = repo.resolve(rev)
        if sha is None:
            raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        return repo.commits[sha]

    def repo_url(self, repo: Repo) -> str:
        return f"{self.url}/{'' if repo.type == 'model' else repo.type + 's/'}{repo.id}"

    def store(self, data: bytes, lfs: bool) -> Blob:
        if lfs:
            sha256 = hashlib.sha256(data).hexdigest()
            self.lfs[sha256] = data
            return Blob(git_blob_oid(lfs_pointer(sha256, len(data))), len(data), sha256)
        oid = git_blob_oid(data)
        self.objects[oid] = data
        return Blob(oid, len(data))

    def new_commit(self, repo: Repo, parent: str | None, title: str, message: str, files: dict[str, Blob]) -> Commit:
        sha = hashlib.sha1(f"{repo.id}{parent}{title}{secrets.token_hex(8)}".encode()).hexdigest()
        commit = Commit(sha, parent, title, message, _now(), files)
        repo.commits[sha] = commit
        return commit

    def is_lfs_path(self, commit: Commit, path: str) -> bool:
        blob = commit.files.get(".gitattributes")
        patterns = DEFAULT_GITATTRIBUTES if blob is None else self.objects.get(blob.oid, b"").decode()
        for line in patterns.splitlines():
            parts = line.split()
            if len(parts) > 1 and "filter=lfs" in parts[1:]:
                pattern = parts[0]
                if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path.rsplit("/", 1)[-1], pattern):
                    return True
        return False

    def entry(self, repo: Repo, commit: Commit, path: str, expand: bool) -> dict:
        """One tree / paths-info entry, as ``RepoFile(**)`` / ``RepoFolder(**)`` parse it."""
        blob = commit.files.get(path)
        if blob is None:
            item = {"type": "directory", "oid": hashlib.sha1(f"{commit.sha}:{path}".encode()).hexdigest(),
                    "size": 0, "path": path}
        else:
            item = {"type": "file", "oid": blob.oid, "size": blob.size, "path": path}
            if blob.lfs_sha256:
                item["lfs"] = {"oid": blob.lfs_sha256, "size": blob.size,
                               "pointerSize": len(lfs_pointer(blob.lfs_sha256, blob.size))}
        if expand:
            last = self.last_commit_touching(repo, commit, path)
            item["lastCommit"] = {"id": last.sha, "title": last.title, "date": last.date}
        return item

    def last_commit_touching(self, repo: Repo, commit: Commit, path: str) -> Commit:
        def view(c: Commit) -> dict:
            return {p: b for p, b in c.files.items() if p == path or p.startswith(path + "/")}

        current = commit
        while current.parent is not None and view(repo.commits[current.parent]) == view(current):
            current = repo.commits[current.parent]
        return current


def _make_handler(hub: LocalHub, cdn: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(_HubHandler):
        pass

    Handler.hub, Handler.cdn = hub, cdn
    return Handler


class _HubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients' pooled connections expect
    hub: LocalHub
    cdn: bool

    def log_message(self, format: str, *args) -> None:  # quiet: the request log lives in LocalHub.requests
        pass

    # -- plumbing ----------------------------------------------------------------------------------------
    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _json_body(self) -> dict:
        raw = self._body()
        return json.loads(raw) if raw else {}

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json", length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._status = status

    def _send_json(self, value, status: int = 200, headers: dict[str, str] | None = None,
                   content_type: str = "application/json") -> None:
        self._send(status, json.dumps(value).encode(), headers, content_type)

    def _handle(self) -> None:
        self._status = 0
        split = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        self.segments = [unquote(s) for s in split.path.strip("/").split("/")]
        try:
            injected = self.hub._injected_failure(self.command, split.path)
            if injected is not None:
                self._body()
                raise HubError(injected, f"injected failure {injected}")
            with self.hub._lock:
                self._route_cdn() if self.cdn else self._route()
        except HubError as err:
            headers = {"X-Error-Message": err.message}
            if err.code:
                headers["X-Error-Code"] = err.code
            self._send_json({"error": err.message, **err.extra}, err.status, headers)
        finally:
            self.hub.requests.append((self.command, split.path, self._status))

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _handle

    # -- routing -----------------------------------------------------------------------------------------
    def _route(self) -> None:
        s, method = self.segments, self.command
        if s[:2] == ["__lfs", "upload"] and method == "PUT":  # signed storage URL: no Hub auth, like S3
            return self._lfs_put(s[2])
        user = self.hub.user_for(self.headers.get("Authorization"))
        if s[0] == "api":
            return self._route_api(s[1:], method, user)
        if s[0] == "__lfs" and s[1:2] == ["verify"]:
            return self._lfs_verify()
        repo_type = "dataset" if s[0] == "datasets" else "space" if s[0] == "spaces" else "model"
        rest = s[1:] if repo_type != "model" else s
        if len(rest) >= 2 and rest[1].endswith(".git") and rest[2:] == ["info", "lfs", "objects", "batch"]:
            return self._lfs_batch(repo_type, f"{rest[0]}/{rest[1].removesuffix('.git')}", user)
        if len(rest) >= 5 and rest[2] == "resolve" and method in ("GET", "HEAD"):
            return self._resolve(repo_type, "/".join(rest[:2]), rest[3], "/".join(rest[4:]), user)
        raise HubError(404, f"no route {method} {self.path}")

    def _route_api(self, s: list[str], method: str, user: str | None) -> None:
        if s == ["repos", "create"] and method == "POST":
            return self._create_repo(user)
        if s == ["repos", "delete"] and method == "DELETE":
            return self._delete_repo(user)
        if s == ["validate-yaml"] and method == "POST":
            self._body()
            return self._send_json({"errors": [], "warnings": []})
        if s == ["whoami-v2"] and method == "GET":
            if user is None:
                raise HubError(401, "Invalid credentials in Authorization header")
            orgs = [{"name": org, "type": "org"} for org in self.hub.orgs.get(user, [])]
            return self._send_json({"type": "user", "name": user, "fullname": user, "orgs": orgs,
                                    "auth": {"type": "access_token", "accessToken": {"role": "write"}}})
        if len(s) < 3 or s[0] not in ("models", "datasets", "spaces"):
            raise HubError(404, f"no route {method} {self.path}")
        repo_type, repo_id, action, args = s[0][:-1], f"{s[1]}/{s[2]}", s[3] if len(s) > 3 else "", s[4:]
        write = method in ("POST", "PUT", "DELETE") and action not in ("paths-info",)
        repo = self.hub.get_repo(repo_type, repo_id, user, write=write)
        handlers = {
            ("GET", ""): lambda: self._info(repo, "main"),
            ("GET", "revision"): lambda: self._info(repo, "/".join(args)),
            ("POST", "preupload"): lambda: self._preupload(repo, args[0]),
            ("POST", "commit"): lambda: self._commit(repo, args[0]),
            ("GET", "tree"): lambda: self._tree(repo, args[0], "/".join(args[1:])),
            ("POST", "paths-info"): lambda: self._paths_info(repo, args[0]),
            ("GET", "refs"): lambda: self._refs(repo),
            ("POST", "branch"): lambda: self._create_branch(repo, args[0]),
            ("DELETE", "branch"): lambda: self._delete_branch(repo, args[0]),
            ("GET", "commits"): lambda: self._commits(repo, args[0] if args else "main"),
            ("PUT", "settings"): lambda: self._settings(repo),
        }
        handler = handlers.get((method, action))
        if handler is None:
            raise HubError(404, f"no route {method} {self.path}")
        return handler()

    # -- repos -------------------------------------------------------------------------------------------
    def _create_repo(self, user: str | None) -> None:
        """``HfApi.create_repo``: 409 if it exists (``exist_ok`` relies on it), ``url`` in the answer."""
        body = self._json_body()
        if user is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        namespace = body.get("organization") or user
        repo_type, repo_id = body.get("type") or "model", f"{namespace}/{body['name']}"
        if namespace not in self.hub.known_namespaces():
            raise HubError(404, f"Namespace {namespace} not found")
        if namespace not in self.hub.namespaces_of(user):
            raise HubError(403, f'You don\'t have the rights to create a {repo_type} under the namespace "{namespace}"')
        existing = self.hub.repos.get((repo_type, repo_id))
        if existing is not None:  # the Hub's 409 still carries the url: create_repo(exist_ok=True) returns it
            raise HubError(409, f"You already created this {repo_type} repo", extra={"url": self.hub.repo_url(existing)})
        private = body.get("visibility") == "private" or bool(body.get("private"))
        repo = Repo(repo_type, repo_id, private, _now())
        first = self.hub.new_commit(repo, None, "initial commit", "",
                                    {".gitattributes": self.hub.store(DEFAULT_GITATTRIBUTES.encode(), lfs=False)})
        repo.branches["main"] = first.sha
        self.hub.repos[(repo_type, repo_id)] = repo
        self._send_json({"url": self.hub.repo_url(repo), "name": repo_id, "id": secrets.token_hex(12)})

    def _delete_repo(self, user: str | None) -> None:
        body = self._json_body()
        namespace = body.get("organization") or user
        repo_type = body.get("type") or "model"
        self.hub.get_repo(repo_type, f"{namespace}/{body['name']}", user, write=True)
        del self.hub.repos[(repo_type, f"{namespace}/{body['name']}")]
        self._send_json({})

    def _settings(self, repo: Repo) -> None:
        body = self._json_body()
        if "private" in body:
            repo.private = bool(body["private"])
        if "visibility" in body:
            repo.private = body["visibility"] == "private"
        self._send_json({"private": repo.private})

    def _info(self, repo: Repo, rev: str) -> None:
        """``model_info`` / ``dataset_info``: ``sha`` and ``siblings`` (with sizes/LFS when ``blobs=True``)."""
        commit = self.hub.commit_for(repo, rev)
        blobs = self.query.get("blobs", "").lower() in ("1", "true")
        siblings = []
        for path, blob in sorted(commit.files.items()):
            sibling: dict = {"rfilename": path}
            if blobs:
                sibling.update(size=blob.size, blobId=blob.oid)
                if blob.lfs_sha256:
                    sibling["lfs"] = {"size": blob.size, "sha256": blob.lfs_sha256,
                                      "pointerSize": len(lfs_pointer(blob.lfs_sha256, blob.size))}
            siblings.append(sibling)
        self._send_json({
            "_id": hashlib.sha1(repo.id.encode()).hexdigest()[:24], "id": repo.id, "author": repo.id.split("/")[0],
            "sha": commit.sha, "lastModified": commit.date, "createdAt": repo.created_at, "private": repo.private,
            "gated": False, "disabled": False, "downloads": 0, "likes": 0, "tags": [], "siblings": siblings,
            "usedStorage": sum(b.size for b in commit.files.values()),
        })

    # -- writes ------------------------------------------------------------------------------------------
    def _preupload(self, repo: Repo, rev: str) -> None:
        """``_fetch_upload_modes``: LFS for .gitattributes patterns, binary samples and files over 10 MB."""
        commit = self.hub.commit_for(repo, rev)
        files = []
        for item in self._json_body().get("files", []):
            sample = base64.b64decode(item.get("sample", ""))
            lfs = (self.hub.is_lfs_path(commit, item["path"]) or item.get("size", 0) > LFS_SIZE_THRESHOLD
                   or b"\0" in sample)
            existing = commit.files.get(item["path"])
            # The remote oid lets the client skip unchanged files: sha256 for LFS files, git oid for others.
            oid = None if existing is None else (existing.lfs_sha256 or existing.oid)
            files.append({"path": item["path"], "uploadMode": "lfs" if lfs else "regular",
                          "shouldIgnore": False, "oid": oid})
        self._send_json({"files": files, "commitOid": commit.sha})

    def _commit(self, repo: Repo, rev: str) -> None:
        """``_send_commit``: apply every NDJSON operation to a copy, then move the ref (all or nothing)."""
        lines = [json.loads(line) for line in self._body().splitlines() if line.strip()]
        create_pr = self.query.get("create_pr") in ("1", "true")
        base = self.hub.commit_for(repo, rev)
        if rev not in repo.branches and not create_pr:
            raise HubError(400, f"Invalid rev id: {rev} is not a branch")
        header = next((line["value"] for line in lines if line["key"] == "header"), {})
        if header.get("parentCommit") and header["parentCommit"] != base.sha:
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        files = dict(base.files)
        for line in lines:
            key, value = line["key"], line["value"]
            if key == "file":
                data = base64.b64decode(value["content"])
                files[value["path"]] = self.hub.store(data, lfs=False)
            elif key == "lfsFile":
                if value["oid"] not in self.hub.lfs:
                    raise HubError(422, f"Your push was rejected because an LFS pointer pointed to a file that "
                                        f"does not exist: {value['path']}")
                files[value["path"]] = Blob(git_blob_oid(lfs_pointer(value["oid"], len(self.hub.lfs[value["oid"]]))),
                                            len(self.hub.lfs[value["oid"]]), value["oid"])
            elif key == "deletedFile":
                if files.pop(value["path"], None) is None:
                    raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
            elif key == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                doomed = [p for p in files if p.startswith(prefix)]
                if not doomed:
                    raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
                for path in doomed:
                    del files[path]
        commit = self.hub.new_commit(repo, base.sha, header.get("summary", ""), header.get("description", ""), files)
        answer = {"success": True, "commitOid": commit.sha, "commitUrl": f"{self.hub.repo_url(repo)}/commit/{commit.sha}",
                  "hookOutput": ""}
        if create_pr:
            repo.prs += 1
            repo.branches[f"refs/pr/{repo.prs}"] = commit.sha
            answer["pullRequestUrl"] = f"{self.hub.repo_url(repo)}/discussions/{repo.prs}"
        else:
            repo.branches[rev] = commit.sha
        self._send_json(answer)

    def _lfs_batch(self, repo_type: str, repo_id: str, user: str | None) -> None:
        """``post_lfs_batch_info``: basic transfer; no ``actions`` for objects already stored."""
        body = self._json_body()
        self.hub.get_repo(repo_type, repo_id, user, write=body.get("operation") == "upload")
        objects = []
        for obj in body.get("objects", []):
            item = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if obj["oid"] not in self.hub.lfs:
                item["actions"] = {
                    "upload": {"href": f"{self.hub.url}/__lfs/upload/{obj['oid']}?size={obj['size']}"},
                    "verify": {"href": f"{self.hub.url}/__lfs/verify"},
                }
            objects.append(item)
        self._send_json({"transfer": "basic", "objects": objects}, content_type="application/vnd.git-lfs+json")

    def _lfs_put(self, oid: str) -> None:
        data = self._body()
        if hashlib.sha256(data).hexdigest() != oid or len(data) != int(self.query.get("size", len(data))):
            raise HubError(400, "uploaded bytes do not match the announced sha256 / size")
        self.hub.lfs[oid] = data
        self._send(200, b"", {"ETag": f'"{hashlib.md5(data).hexdigest()}"'})

    def _lfs_verify(self) -> None:
        body = self._json_body()
        if body.get("oid") not in self.hub.lfs or len(self.hub.lfs[body["oid"]]) != body.get("size"):
            raise HubError(404, "LFS object not found")
        self._send_json({"success": True})

    # -- refs --------------------------------------------------------------------------------------------
    def _create_branch(self, repo: Repo, branch: str) -> None:
        body = self._json_body()
        if branch in repo.branches:
            raise HubError(409, f"Reference already exists: refs/heads/{branch}")
        repo.branches[branch] = self.hub.commit_for(repo, body.get("startingPoint") or "main").sha
        self._send_json({})

    def _delete_branch(self, repo: Repo, branch: str) -> None:
        if branch not in repo.branches or branch == "main":
            raise HubError(404 if branch != "main" else 403, f"Cannot delete branch {branch}", "RevisionNotFound")
        del repo.branches[branch]
        self._send_json({})

    def _refs(self, repo: Repo) -> None:
        def ref(name: str, prefix: str) -> dict:
            return {"name": name, "ref": f"{prefix}{name}", "targetCommit": repo.branches[name]}

        branches = [ref(b, "refs/heads/") for b in repo.branches if not b.startswith("refs/pr/")]
        prs = [{"name": b, "ref": b, "targetCommit": c} for b, c in repo.branches.items() if b.startswith("refs/pr/")]
        answer = {"branches": branches, "converts": [], "tags": []}
        if self.query.get("include_prs") in ("1", "true", "True"):
            answer["pullRequests"] = prs
        self._send_json(answer)

    def _commits(self, repo: Repo, rev: str) -> None:
        commit: Commit | None = self.hub.commit_for(repo, rev)
        history = []
        while commit is not None:
            history.append({"id": commit.sha, "title": commit.title, "message": commit.message,
                            "authors": [{"user": repo.id.split("/")[0]}], "date": commit.date})
            commit = repo.commits.get(commit.parent) if commit.parent else None
        self._send_json(history)

    # -- reads -------------------------------------------------------------------------------------------
    def _tree(self, repo: Repo, rev: str, path: str) -> None:
        """``list_repo_tree``: children of ``path`` (all descendants if ``recursive``); 404 EntryNotFound if absent."""
        commit = self.hub.commit_for(repo, rev)
        recursive = self.query.get("recursive", "").lower() in ("1", "true")
        expand = self.query.get("expand", "").lower() in ("1", "true")
        prefix = f"{path.strip('/')}/" if path.strip("/") else ""
        paths: set[str] = set()
        for file in commit.files:
            if not file.startswith(prefix):
                continue
            parts = file[len(prefix):].split("/")
            depth = len(parts) if recursive else 1
            for i in range(1, min(depth, len(parts)) + 1):
                paths.add(prefix + "/".join(parts[:i]))
        if prefix and not paths:
            raise HubError(404, f"{path} does not exist on {rev}", "EntryNotFound")
        entries = [self.hub.entry(repo, commit, p, expand) for p in sorted(paths)]
        self._send_json(sorted(entries, key=lambda e: (e["type"] != "directory", e["path"])))

    def _paths_info(self, repo: Repo, rev: str) -> None:
        """``get_paths_info`` (form-encoded ``paths``): entries for the paths that exist, silently skipping others."""
        form = parse_qs(self._body().decode())
        commit = self.hub.commit_for(repo, rev)
        expand = form.get("expand", ["False"])[-1].lower() in ("1", "true")
        answer = []
        for path in form.get("paths", []):
            path = path.strip("/")
            is_dir = any(f.startswith(path + "/") for f in commit.files)
            if path in commit.files or is_dir:
                answer.append(self.hub.entry(self.hub.repos[(repo.type, repo.id)], commit, path, expand))
        self._send_json(answer)

    def _resolve(self, repo_type: str, repo_id: str, rev: str, path: str, user: str | None) -> None:
        """``get_hf_file_metadata`` / ``http_get``: inline bytes for git files, a CDN redirect for LFS files."""
        repo = self.hub.get_repo(repo_type, repo_id, user)
        commit = self.hub.commit_for(repo, rev)
        blob = commit.files.get(path)
        if blob is None:
            raise HubError(404, f"{path} does not exist on {rev}", "EntryNotFound")
        headers = {"X-Repo-Commit": commit.sha, "ETag": f'"{blob.oid}"', "Accept-Ranges": "bytes"}
        if blob.lfs_sha256:
            headers.update({"Location": f"{self.hub.cdn_url}/__cdn/{blob.lfs_sha256}", "X-Linked-Etag": f'"{blob.lfs_sha256}"',
                            "X-Linked-Size": str(blob.size)})
            return self._send(302, b"", headers, content_type="text/plain")
        self._send_range(self.hub.objects[blob.oid], headers)

    def _send_range(self, data: bytes, headers: dict[str, str]) -> None:
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "").strip())
        if not match:
            return self._send(200, data, headers, content_type="application/octet-stream")
        start_s, end_s = match.groups()
        if start_s == "":
            start, end = max(0, len(data) - int(end_s)), len(data) - 1
        else:
            start, end = int(start_s), min(int(end_s) if end_s else len(data) - 1, len(data) - 1)
        if start >= len(data) and len(data) > 0:
            return self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
        headers = {**headers, "Content-Range": f"bytes {start}-{end}/{len(data)}"}
        self._send(206, data[start:end + 1], headers, content_type="application/octet-stream")

    def _route_cdn(self) -> None:
        """The storage origin LFS downloads are redirected to: content-addressed, no Hub auth header."""
        s = self.segments
        if len(s) == 2 and s[0] == "__cdn" and self.command in ("GET", "HEAD") and s[1] in self.hub.lfs:
            return self._send_range(self.hub.lfs[s[1]], {"ETag": f'"{s[1]}"', "Accept-Ranges": "bytes"})
        raise HubError(404, "NoSuchKey")
