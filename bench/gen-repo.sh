#!/usr/bin/env bash
# Build a large, realistic GitOps repository deterministically with `git fast-import`.
#
#   bench/gen-repo.sh [OUT_DIR]        (default: $BENCH_CACHE/gen-repo.git)
#
# Environment: GEN_SEED (42), GEN_COMMITS (52000), GEN_APPS (60), GEN_PLANT (120 planted
# secrets), GEN_REPACK (1: `git repack -adf` afterwards, like a real server's repository).
#
# The result is a bare repository with >100,000 blobs: Kustomize bases and overlays, Helm
# charts and per-environment values, .env files, ConfigMaps, Grafana dashboards (JSON),
# Argo CD Applications per cluster, many commits touching few files each, a few release
# branches, tags, and one commit reachable only from a tag (its branch was deleted).
#
# Planted secrets are token-shaped values built here at run time from the seed (AWS key
# ids and secret keys, GitHub tokens with valid CRC32 checksums, GitLab, Slack, Stripe,
# npm tokens, database URLs with passwords, generic passwords). About half are removed
# again in a later commit, some sit only in commit messages, one only behind a tag.
# They are listed in OUT_DIR/bench-planted.tsv (inside the git directory, in no tree),
# which the benchmarks use to report how many each tool finds. Placeholders that must
# NOT be reported (documentation keys, ${VARS}, changeme, digests, UUIDs) are everywhere.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

out=${1:-$GEN_REPO}
seed=${GEN_SEED:-42}
commits=${GEN_COMMITS:-52000}
apps=${GEN_APPS:-60}
plant=${GEN_PLANT:-120}
repack=${GEN_REPACK:-1}
min_blobs=${GEN_MIN_BLOBS:-100000}

ensure_git
ensure_python
[[ $commits =~ ^[0-9]+$ && $commits -ge 10 ]] || die "GEN_COMMITS must be a number >= 10"
[[ $apps =~ ^[0-9]+$ && $apps -ge 2 ]] || die "GEN_APPS must be a number >= 2"
[[ $plant =~ ^[0-9]+$ && $plant -ge 10 ]] || die "GEN_PLANT must be a number >= 10"

if [[ -e $out ]]; then
	[[ -f $out/bench-planted.tsv ]] || die "$out exists and is not a repository this script made; remove it or pick another path"
	note "replacing $out"
fi
tmp=$out.tmp.$$
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
git init --quiet --bare "$tmp"
git -C "$tmp" config core.bigFileThreshold 512m

start=$(now)
note "generating $commits commits over $apps apps (seed $seed) with git fast-import"
python3 - "$seed" "$commits" "$apps" "$plant" "$tmp/bench-planted.tsv" <<'PY' | git -C "$tmp" fast-import --quiet --done
import hashlib
import random
import sys
import zlib

seed, n_commits, n_apps, n_plant = (int(a) for a in sys.argv[1:5])
planted_path = sys.argv[5]
rng = random.Random(seed)
out = sys.stdout.buffer

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
UPPER32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"


def rand(alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


def uuid4():
    h = rand(HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def base62_crc32(data):
    n = zlib.crc32(data.encode()) & 0xFFFFFFFF
    s = ["0"] * 6
    for i in range(5, -1, -1):
        s[i] = ALNUM[n % 62]
        n //= 62
    return "".join(s)


def github_token(prefix):
    body = rand(ALNUM, 30)
    return prefix + body + base62_crc32(body)


# Documentation keys and placeholders: split so no scanner trips on this script.
DOC_AWS_ID = "AKIA" + "IOSFODNN7" + "EXAMPLE"
DOC_AWS_SAK = "wJalrXUtnFEMI" + "/K7MDENG/" + "bPxRfiCY" + "EXAMPLEKEY"

PREFIXES = ["billing", "checkout", "catalog", "search", "auth", "users", "orders", "payments",
            "inventory", "shipping", "notify", "gateway", "ledger", "reports", "media", "profile",
            "reviews", "pricing", "cart", "recommend", "fraud", "audit", "tenant", "quota"]
SUFFIXES = ["api", "worker", "svc", "web", "sync", "cron", "proxy", "ingest", "index", "stream"]
ENVS = ["dev", "staging", "prod-eu", "prod-us"]
CLUSTERS = ["dev-1", "staging-1", "prod-eu-1", "prod-us-1"]
REGISTRIES = ["ghcr.io/acme", "registry.acme.internal/platform", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"]
PEOPLE = [("Ada Byron", "ada"), ("Alan Turing", "alan"), ("Grace Hopper", "grace"),
          ("Linus Tor", "linus"), ("Margaret Ham", "margaret"), ("Ken Thom", "ken"),
          ("Dennis Rich", "dennis"), ("Barbara Lis", "barbara"), ("Edsger Dijk", "edsger"),
          ("Frances Allen", "frances"), ("Donald Knu", "donald"), ("Radia Perl", "radia"),
          ("Tim Bern", "tim"), ("Vint Cerf", "vint"), ("Bjarne Str", "bjarne"),
          ("Guido Ross", "guido"), ("Hedy Lamarr", "hedy"), ("John Backus", "john"),
          ("Katherine Johns", "katherine"), ("Leslie Lamp", "leslie"), ("flux-bot", "flux-bot"),
          ("renovate[bot]", "renovate"), ("argocd-image-updater", "image-updater")]

names = []
while len(names) < n_apps:
    n = f"{rng.choice(PREFIXES)}-{rng.choice(SUFFIXES)}"
    if n in names:
        n = f"{n}-{len(names)}"
    names.append(n)


class App:
    def __init__(self, name):
        self.name = name
        self.registry = rng.choice(REGISTRIES)
        self.port = rng.choice([8080, 8443, 3000, 9090, 5000])
        self.tag = {e: (1, rng.randrange(0, 30), 0) for e in ENVS}
        self.digest = {e: rand(HEX, 64) for e in ENVS}
        self.replicas = {e: (1 if e == "dev" else rng.randrange(2, 6)) for e in ENVS}
        self.cpu = rng.choice([100, 200, 250, 500])
        self.mem = rng.choice([128, 256, 512, 1024])
        self.config = {f"FEATURE_{rand('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 6)}": rng.choice(["true", "false"])
                       for _ in range(rng.randrange(4, 10))}
        self.config_rev = 0
        self.env_rev = {e: 0 for e in ENVS}
        self.env_session = {e: uuid4() for e in ENVS}
        self.chart = [0, 1, 0]
        self.panels = rng.randrange(6, 14)
        self.dash_rev = 0
        self.extra = {}  # path -> list of planted lines


apps_ = [App(n) for n in names]


def tag_str(t):
    return f"v{t[0]}.{t[1]}.{t[2]}"


def with_extra(path, text):
    lines = STATE_EXTRA.get(path)
    if lines:
        text += "".join(l + "\n" for l in lines)
    return text


STATE_EXTRA = {}


def r_deployment(a):
    e = "prod-eu"
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {a.name}
  labels:
    app: {a.name}
    owner: team-{a.name.split('-')[0]}
spec:
  replicas: 2
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app: {a.name}
  template:
    metadata:
      labels:
        app: {a.name}
      annotations:
        checksum/config: {hashlib.sha256(repr(sorted(a.config.items())).encode()).hexdigest()}
        prometheus.io/scrape: "true"
        prometheus.io/port: "{a.port}"
    spec:
      serviceAccountName: {a.name}
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: {a.name}
          image: {a.registry}/{a.name}:{tag_str(a.tag[e])}@sha256:{a.digest[e]}
          ports:
            - containerPort: {a.port}
              name: http
          env:
            - name: LOG_LEVEL
              value: info
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: {a.name}-db
                  key: password
            - name: API_TOKEN
              value: "${{API_TOKEN}}"
          envFrom:
            - configMapRef:
                name: {a.name}-config
          resources:
            requests:
              cpu: {a.cpu}m
              memory: {a.mem}Mi
            limits:
              cpu: {a.cpu * 2}m
              memory: {a.mem * 2}Mi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
          livenessProbe:
            httpGet:
              path: /livez
              port: http
            initialDelaySeconds: 15
"""


def r_service(a):
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {a.name}
  labels:
    app: {a.name}
spec:
  selector:
    app: {a.name}
  ports:
    - name: http
      port: 80
      targetPort: {a.port}
"""


def r_kustomization_base(a):
    return f"""apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
  - service.yaml
  - configmap.yaml
commonLabels:
  app.kubernetes.io/name: {a.name}
  app.kubernetes.io/part-of: shop
"""


def r_configmap(a):
    data = "".join(f"  {k}: \"{v}\"\n" for k, v in sorted(a.config.items()))
    return f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {a.name}-config
  annotations:
    config-revision: "{a.config_rev}"
data:
  SERVICE_NAME: {a.name}
  DATABASE_HOST: {a.name}-db.{a.name}.svc.cluster.local
  DATABASE_PASSWORD: "${{DATABASE_PASSWORD}}"
  CACHE_URL: redis://{a.name}-cache:6379/0
{data}"""


def r_overlay(a, e):
    return f"""apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: {a.name}-{e}
resources:
  - ../../base
images:
  - name: {a.registry}/{a.name}
    newTag: {tag_str(a.tag[e])}
    digest: sha256:{a.digest[e]}
replicas:
  - name: {a.name}
    count: {a.replicas[e]}
"""


def r_values_env(a, e):
    return f"""# Helm values for {a.name} in {e}
replicaCount: {a.replicas[e]}
image:
  repository: {a.registry}/{a.name}
  tag: "{tag_str(a.tag[e])}"
  pullPolicy: IfNotPresent
ingress:
  enabled: {"true" if e != "dev" else "false"}
  className: nginx
  hosts:
    - host: {a.name}.{e}.acme.example
      paths: ["/"]
resources:
  requests: {{cpu: {a.cpu}m, memory: {a.mem}Mi}}
  limits: {{cpu: {a.cpu * 2}m, memory: {a.mem * 2}Mi}}
autoscaling:
  enabled: {"true" if e.startswith("prod") else "false"}
  minReplicas: {a.replicas[e]}
  maxReplicas: {a.replicas[e] * 4}
database:
  host: {a.name}-db
  user: {a.name.replace('-', '_')}
  password: changeme
  existingSecret: {a.name}-db
auth:
  apiKey: "{{{{ .Values.global.apiKey }}}}"
  clientSecret: "<your-client-secret>"
podAnnotations:
  deploy-id: "{a.env_session[e]}"
"""


def r_dotenv(a, e):
    return f"""# {a.name} local settings for {e}; real values come from the secret store
APP_ENV={e}
LISTEN_PORT={a.port}
AWS_REGION=eu-west-1
AWS_ACCESS_KEY_ID={DOC_AWS_ID}
AWS_SECRET_ACCESS_KEY={DOC_AWS_SAK}
SECRET_KEY=<your-secret-key>
SESSION_ID={a.env_session[e]}
BUILD_SHA={hashlib.sha1(f"{a.name}{e}{a.env_rev[e]}".encode()).hexdigest()}
DATABASE_URL=postgres://app:${{DB_PASSWORD}}@{a.name}-db:5432/app
REVISION={a.env_rev[e]}
"""


def r_chart(a):
    return f"""apiVersion: v2
name: {a.name}
description: Helm chart for {a.name}
type: application
version: {a.chart[0]}.{a.chart[1]}.{a.chart[2]}
appVersion: "{tag_str(a.tag['prod-eu'])}"
dependencies:
  - name: common
    version: 2.x.x
    repository: oci://registry.acme.internal/charts
"""


def r_values(a):
    return f"""# Default values for {a.name}
nameOverride: ""
service:
  type: ClusterIP
  port: 80
  targetPort: {a.port}
serviceAccount:
  create: true
  automount: false
podSecurityContext:
  runAsNonRoot: true
  runAsUser: 10001
securityContext:
  readOnlyRootFilesystem: true
  allowPrivilegeEscalation: false
resources:
  requests: {{cpu: {a.cpu}m, memory: {a.mem}Mi}}
secrets:
  token: ""
  password: "${{DB_PASSWORD}}"
nodeSelector: {{}}
tolerations: []
"""


def r_dashboard(a):
    panels = []
    for i in range(a.panels):
        panels.append(f"""    {{
      "id": {i + 1},
      "type": "timeseries",
      "title": "{a.name} panel {i + 1}",
      "datasource": {{"type": "prometheus", "uid": "{hashlib.md5(f'{a.name}{i}'.encode()).hexdigest()[:9]}"}},
      "gridPos": {{"h": 8, "w": 12, "x": {(i % 2) * 12}, "y": {(i // 2) * 8}}},
      "targets": [
        {{"expr": "sum(rate(http_requests_total{{app=\\"{a.name}\\", code=~\\"5..\\"}}[5m])) by (pod)", "refId": "A"}},
        {{"expr": "histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{{app=\\"{a.name}\\"}}[5m])) by (le))", "refId": "B"}}
      ],
      "fieldConfig": {{"defaults": {{"unit": "reqps", "thresholds": {{"mode": "absolute", "steps": [{{"color": "green", "value": null}}, {{"color": "red", "value": {80 + i}}}]}}}}}}
    }}""")
    joined = ",\n".join(panels)
    return f"""{{
  "uid": "{hashlib.sha1(a.name.encode()).hexdigest()[:12]}",
  "title": "{a.name}",
  "version": {a.dash_rev},
  "schemaVersion": 39,
  "tags": ["{a.name}", "generated"],
  "panels": [
{joined}
  ]
}}
"""


def r_cluster_apps(c):
    env = ENVS[CLUSTERS.index(c)]
    items = []
    for a in apps_:
        items.append(f"""---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {a.name}-{env}
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://git.acme.example/platform/gitops.git
    targetRevision: HEAD
    path: apps/{a.name}/overlays/{env}
  destination:
    server: https://kubernetes.default.svc
    namespace: {a.name}-{env}
  syncPolicy:
    automated: {{prune: true, selfHeal: true}}
""")
    return "".join(items)


WORDS = ("the of to and a in is it that for on with as was be by this are from or an at which "
         "field resource spec status controller reconcile namespace selector label annotation "
         "secret config webhook certificate issuer duration renew template replicas value key "
         "must should may default optional required list map object string integer boolean").split()
VENDOR = {"cert-manager": [1, 14, 0], "argo-cd": [2, 10, 0], "prometheus-operator": [0, 72, 0],
          "ingress-nginx": [1, 10, 0], "external-secrets": [0, 9, 0]}


def r_vendor(name):
    """A vendored upstream install bundle (CRDs with long schemas), like many GitOps repos keep."""
    v = VENDOR[name]
    vr = random.Random(f"{name}-{v[0]}.{v[1]}.{v[2]}")  # same version -> same bundle
    docs = [f"# Vendored {name} v{v[0]}.{v[1]}.{v[2]}; do not edit, run `make vendor`\n"]
    for c in range(vr.randrange(6, 12)):
        kind = "".join(w.capitalize() for w in vr.sample(WORDS, 2))
        props = []
        for f in range(vr.randrange(40, 90)):
            desc = " ".join(vr.choice(WORDS) for _ in range(vr.randrange(8, 30)))
            typ = vr.choice(["string", "integer", "boolean", "object", "array"])
            props.append(f"""                    {vr.choice(WORDS)}{f}:
                      description: {desc}
                      type: {typ}
""")
        docs.append(f"""---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {kind.lower()}s.{name}.io
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/version: v{v[0]}.{v[1]}.{v[2]}
spec:
  group: {name}.io
  names:
    kind: {kind}
    plural: {kind.lower()}s
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                config:
                  type: object
                  properties:
{"".join(props)}""")
    return "".join(docs)


def paths_of(a):
    p = f"apps/{a.name}"
    d = {f"{p}/base/deployment.yaml": lambda: r_deployment(a),
         f"{p}/base/service.yaml": lambda: r_service(a),
         f"{p}/base/kustomization.yaml": lambda: r_kustomization_base(a),
         f"{p}/base/configmap.yaml": lambda: r_configmap(a),
         f"charts/{a.name}/Chart.yaml": lambda: r_chart(a),
         f"charts/{a.name}/values.yaml": lambda: r_values(a),
         f"monitoring/dashboards/{a.name}.json": lambda: r_dashboard(a)}
    for e in ENVS:
        d[f"{p}/overlays/{e}/kustomization.yaml"] = (lambda e=e: r_overlay(a, e))
        d[f"charts/{a.name}/values-{e}.yaml"] = (lambda e=e: r_values_env(a, e))
        d[f"{p}/config/.env.{e}"] = (lambda e=e: r_dotenv(a, e))
    return d


RENDER = {}
for a in apps_:
    RENDER.update(paths_of(a))
for c in CLUSTERS:
    RENDER[f"clusters/{c}/apps.yaml"] = (lambda c=c: r_cluster_apps(c))
for v in VENDOR:
    RENDER[f"platform/vendor/{v}/install.yaml"] = (lambda v=v: r_vendor(v))
RENDER["README.md"] = lambda: "# platform gitops\n\nFleet configuration for the shop platform. Secrets live in the secret store.\n"
RENDER[".sops.yaml"] = lambda: "creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\n"


def content(path):
    return with_extra(path, RENDER[path]()).encode()


# ---- planted secrets ------------------------------------------------------
KINDS = ["aws", "github", "gitlab", "slack", "stripe", "npm", "db-url", "password"]


def make_secret(kind, a):
    """-> (list of (kind, secret, alt) recorded, target path, lines to add)"""
    e = rng.choice(ENVS)
    if kind == "aws":
        kid = "AKIA" + rand(UPPER32, 16)
        sk = rand(B64, 40)
        return ([("aws-access-key-id", kid, ""), ("aws-secret-access-key", sk, "")],
                f"apps/{a.name}/config/.env.{e}",
                [f"AWS_ACCESS_KEY_ID={kid}", f"AWS_SECRET_ACCESS_KEY={sk}"])
    if kind == "github":
        t = github_token("ghp_")
        return [("github-pat", t, "")], f"charts/{a.name}/values-{e}.yaml", [f"githubToken: {t}"]
    if kind == "gitlab":
        t = "glpat-" + rand(ALNUM + "-_", 20)
        return [("gitlab-pat", t, "")], f"apps/{a.name}/config/.env.{e}", [f"GITLAB_TOKEN={t}"]
    if kind == "slack":
        t = f"xoxb-{rand('0123456789', 12)}-{rand('0123456789', 13)}-{rand(ALNUM, 24)}"
        return [("slack-bot-token", t, "")], f"apps/{a.name}/base/configmap.yaml", [f"  SLACK_BOT_TOKEN: \"{t}\""]
    if kind == "stripe":
        t = "sk_live_" + rand(ALNUM, 24)
        return [("stripe-secret-key", t, "")], f"charts/{a.name}/values-{e}.yaml", [f"stripeSecretKey: {t}"]
    if kind == "npm":
        t = github_token("npm_")
        return [("npm-token", t, "")], f"apps/{a.name}/base/configmap.yaml", [f"  NPM_TOKEN: {t}"]
    if kind == "db-url":
        pw = rand(ALNUM, 20)
        url = f"postgresql://{a.name.replace('-', '_')}:{pw}@{a.name}-db.prod.acme.internal:5432/{a.name.split('-')[0]}"
        return [("db-url-password", pw, url)], f"charts/{a.name}/values-{e}.yaml", [f"databaseUrl: \"{url}\""]
    pw = rand(ALNUM + "!#%+", 22)
    return [("generic-password", pw, "")], f"charts/{a.name}/values.yaml", [f"adminPassword: \"{pw}\""]


n_msg = max(2, n_plant // 40)      # secrets only in commit messages
n_tag = 1                          # a secret only behind a tag whose branch was deleted
n_file = n_plant - n_msg - n_tag
plant_at = {}
for c in rng.sample(range(50, n_commits - 100), n_file):
    plant_at[c] = "file"
for c in rng.sample(sorted(set(range(50, n_commits - 100)) - set(plant_at)), n_msg):
    plant_at[c] = "msg"
remove_at = {}  # commit index -> (path, lines, ids)
records = []    # planted rows

# ---- the stream -------------------------------------------------------------
t0 = 1546300800  # 2019-01-01
clock = [t0]
mark = [0]
marks = {}  # commit index -> mark


def w(b):
    out.write(b)


def commit(ref, msg, changes, idx=None, frm=None):
    clock[0] += rng.randrange(300, 7200)
    name, user = rng.choice(PEOPLE)
    mark[0] += 1
    m = mark[0]
    if idx is not None:
        marks[idx] = m
    mb = msg.encode()
    w(f"commit {ref}\nmark :{m}\n".encode())
    who = f"{name} <{user}@acme.example> {clock[0]} +0000\n".encode()
    w(b"author " + who + b"committer " + who)
    w(f"data {len(mb)}\n".encode() + mb + b"\n")
    if frm is not None:
        w(f"from :{frm}\n".encode())
    for path, data in changes:
        if data is None:
            w(f"D {path}\n".encode())
        else:
            w(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
    w(b"\n")
    return m


# initial commit: everything
commit("refs/heads/main", "Initial import of the platform fleet",
       [(p, content(p)) for p in sorted(RENDER)], idx=0)

releases = 0
for i in range(1, n_commits):
    a = rng.choice(apps_)
    e = rng.choice(ENVS)
    r = rng.random()
    touched = []
    if r < 0.30:
        t = a.tag[e]
        t = (t[0], t[1], t[2] + 1) if rng.random() < 0.8 else (t[0], t[1] + 1, 0)
        a.tag[e] = t
        a.digest[e] = rand(HEX, 64)
        touched = [f"apps/{a.name}/overlays/{e}/kustomization.yaml", f"charts/{a.name}/values-{e}.yaml"]
        if e == "prod-eu":
            touched.append(f"apps/{a.name}/base/deployment.yaml")
        msg = f"{a.name}: deploy {tag_str(t)} to {e}"
    elif r < 0.45:
        a.replicas[e] = max(1, a.replicas[e] + rng.choice([-1, 1, 1]))
        touched = [f"charts/{a.name}/values-{e}.yaml", f"apps/{a.name}/overlays/{e}/kustomization.yaml"]
        msg = f"{a.name}: scale {e} to {a.replicas[e]} replicas"
    elif r < 0.65:
        k = rng.choice(sorted(a.config))
        a.config[k] = rng.choice(["true", "false", str(rng.randrange(1, 1000))])
        a.config_rev += 1
        a.env_rev[e] += 1
        touched = [f"apps/{a.name}/base/configmap.yaml", f"apps/{a.name}/base/deployment.yaml",
                   f"apps/{a.name}/config/.env.{e}"]
        msg = f"{a.name}: set {k}={a.config[k]}"
    elif r < 0.78:
        a.cpu = max(50, a.cpu + rng.choice([-50, 50, 100]))
        a.mem = max(64, a.mem + rng.choice([-64, 64, 128]))
        touched = [f"apps/{a.name}/base/deployment.yaml", f"charts/{a.name}/values.yaml"]
        msg = f"{a.name}: tune resources ({a.cpu}m/{a.mem}Mi)"
    elif r < 0.88:
        a.dash_rev += 1
        if rng.random() < 0.3:
            a.panels = max(4, min(20, a.panels + rng.choice([-1, 1])))
        touched = [f"monitoring/dashboards/{a.name}.json"]
        msg = f"dashboards: update {a.name} (rev {a.dash_rev})"
    elif r < 0.96:
        a.env_rev[e] += 1
        a.env_session[e] = uuid4()
        touched = [f"apps/{a.name}/config/.env.{e}", f"charts/{a.name}/values-{e}.yaml"]
        msg = f"{a.name}: rotate deploy id for {e}"
    elif r < 0.975:
        v = rng.choice(sorted(VENDOR))
        ver = VENDOR[v]
        ver[2] += 1
        if rng.random() < 0.2:
            ver[1], ver[2] = ver[1] + 1, 0
        touched = [f"platform/vendor/{v}/install.yaml"]
        msg = f"vendor: bump {v} to v{ver[0]}.{ver[1]}.{ver[2]}"
    else:
        a.chart[2] += 1
        touched = [f"charts/{a.name}/Chart.yaml", f"charts/{a.name}/values.yaml",
                   f"clusters/{CLUSTERS[ENVS.index(e)]}/apps.yaml"]
        msg = f"{a.name}: release chart {a.chart[0]}.{a.chart[1]}.{a.chart[2]}"

    what = plant_at.get(i)
    if what == "file":
        kind = KINDS[len(records) % len(KINDS)]
        recs, path, lines = make_secret(kind, a)
        STATE_EXTRA.setdefault(path, []).extend(lines)
        touched.append(path)
        ids = []
        for kind_, sec, alt in recs:
            records.append([kind_, sec, alt, i, path, "file"])
            ids.append(len(records) - 1)
        if rng.random() < 0.5:
            later = rng.randrange(i + 1, min(n_commits, i + 2000))
            while later in plant_at or later in remove_at:
                later += 1
            if later < n_commits:
                remove_at[later] = (path, lines, ids)
        msg += "\n\nAdd integration credentials for the staging rollout."
    elif what == "msg":
        recs, _, _ = make_secret(rng.choice(["github", "slack", "aws"]), a)
        for kind_, sec, alt in recs:
            records.append([kind_, sec, alt, i, "<commit-message>", "message"])
        msg += "\n\nTemporary: use " + " / ".join(s for _, s, _ in recs) + " until the vault role works."
    rm = remove_at.get(i)
    if rm:
        path, lines, ids = rm
        for l in lines:
            STATE_EXTRA[path].remove(l)
        touched.append(path)
        for j in ids:
            records[j][5] = "file-removed"
        msg += "\n\nRemove credentials committed by mistake."

    seen = set()
    changes = []
    for p in touched:
        if p not in seen:
            seen.add(p)
            changes.append((p, content(p)))
    commit("refs/heads/main", msg, changes, idx=i)

    # release branches with a few fixes each; tags on main
    if i % 5000 == 0:
        releases += 1
        rel = f"refs/heads/release-{releases}.x"
        base = marks[i]
        w(f"reset {rel}\nfrom :{base}\n\n".encode())
        for k in range(3):
            p = f"charts/{a.name}/values-prod-eu.yaml"
            hot = content(p) + f"# hotfix {releases}.{k}\n".encode()
            commit(rel, f"release-{releases}.x: hotfix {k} for {a.name}", [(p, hot)])
    if i % 1000 == 0:
        w(f"reset refs/tags/v{i // 1000}.0.0\nfrom :{marks[i]}\n\n".encode())

# a commit reachable only from a tag: its branch is deleted after the import
a = apps_[0]
recs, path, lines = make_secret("github", a)
p = f"apps/{a.name}/config/.env.dev"
data = content(p) + "".join(l.replace("githubToken: ", "GITHUB_TOKEN=") + "\n" for l in lines).encode()
commit("refs/heads/bench-deleted-branch", "experiment: call the GitHub API from the job",
       [(p, data)], frm=marks[n_commits - 1])
for kind_, sec, alt in recs:
    records.append([kind_, sec, alt, n_commits, p, "tag-only"])
w(b"reset refs/tags/archive/experiment\nfrom :" + str(mark[0]).encode() + b"\n\n")
w(b"done\n")
out.flush()

with open(planted_path, "w") as f:
    f.write("kind\tsecret\talt\tcommit_index\tpath\twhere\tsha256\tsha1\talt_sha256\talt_sha1\n")
    for kind_, sec, alt, idx, path, where in records:
        h = lambda s, fn: fn(s.encode()).hexdigest() if s else ""
        f.write("\t".join([kind_, sec, alt or "-", str(idx), path, where,
                           h(sec, hashlib.sha256), h(sec, hashlib.sha1),
                           h(alt, hashlib.sha256) or "-", h(alt, hashlib.sha1) or "-"]) + "\n")
PY
git -C "$tmp" update-ref -d refs/heads/bench-deleted-branch
git -C "$tmp" symbolic-ref HEAD refs/heads/main
note "fast-import done in $(elapsed "$start") s"
if [[ $repack == 1 ]]; then
	s2=$(now)
	note "repacking (git repack -adf, like a server-side repository; a few minutes)"
	git -C "$tmp" repack -adfq --window=10 --depth=50
	note "repack done in $(elapsed "$s2") s"
fi

blobs=$(git -C "$tmp" cat-file --batch-all-objects --batch-check='%(objecttype)' | grep -c '^blob$' || true)
ncommits=$(git -C "$tmp" rev-list --all | wc -l)
if [[ $blobs -lt $min_blobs ]]; then
	die "generated repository has only $blobs blobs (< $min_blobs); raise GEN_COMMITS or lower GEN_MIN_BLOBS"
fi
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT

planted=$out/bench-planted.tsv
total=$(($(wc -l <"$planted") - 1))
at_head=$(awk -F'\t' 'NR > 1 && $6 == "file"' "$planted" | wc -l)
in_msg=$(awk -F'\t' 'NR > 1 && $6 == "message"' "$planted" | wc -l)
removed=$(awk -F'\t' 'NR > 1 && $6 == "file-removed"' "$planted" | wc -l)
tag_only=$(awk -F'\t' 'NR > 1 && $6 == "tag-only"' "$planted" | wc -l)
echo
echo "## Generated repository: $out"
echo
echo "| what | value |"
echo "|---|---|"
echo "| seed / commits requested | $seed / $commits |"
echo "| commits (all refs) | $ncommits |"
echo "| blobs | $blobs |"
echo "| refs | $(git -C "$out" for-each-ref | wc -l) |"
echo "| pack size | $(du -sh "$out/objects" | cut -f1) |"
echo "| HEAD | $(git -C "$out" rev-parse HEAD) |"
echo "| planted secrets (distinct) | $total |"
echo "| … still at HEAD | $at_head |"
echo "| … removed in a later commit | $removed |"
echo "| … only in commit messages | $in_msg |"
echo "| … only behind a tag | $tag_only |"
echo "| built in | $(elapsed "$start") s |"
