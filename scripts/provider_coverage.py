#!/usr/bin/env python3
"""Regenerate docs/provider-coverage.md: which providers the four anchor
projects detect, which of them at least two detect, and which of those
gitops-guard covers.

Usage: scripts/provider_coverage.py MIRROR_DIR > docs/provider-coverage.md

MIRROR_DIR holds bare clones named like `mongodb+kingfisher/repo`
(Kingfisher, gitleaks, Betterleaks, TruffleHog, Nosey Parker). Only file
and directory *names* are read: a provider is a rule file (Kingfisher, Nosey
Parker, gitleaks/Betterleaks) or a detector directory (TruffleHog). Names are
normalised (lower case, alphanumerics only, product suffixes such as
`apikey`/`personalaccesstoken`/`oauth` stripped, then ALIASES), so the
counts are an approximation a reader can check line by line.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

ANCHORS = [
    # (column, display name, [(mirror, path, kind)])
    ("KF", "Kingfisher", [("mongodb+kingfisher", "data/rules/", "file")]),
    (
        "GL",
        "Betterleaks/gitleaks",
        [
            ("gitleaks+gitleaks", "cmd/generate/config/rules/", "file"),
            ("betterleaks+betterleaks", "cmd/generate/config/rules/", "file"),
        ],
    ),
    ("TH", "TruffleHog", [("trufflesecurity+trufflehog", "pkg/detectors/", "dir")]),
    (
        "NP",
        "Nosey Parker",
        [("praetorian-inc+noseyparker", "crates/noseyparker/data/default/builtin/rules/", "file")],
    ),
]

# Names that are not providers (helpers, generic rules, tests).
IGNORE = {
    "config.tmpl", "generic", "generic_api_key_filter", "generic_api_key_filter_test",
    "stopwords", "common", "custom_detectors", "custom_regex", "test", "utils",
    "credentials", "hashes", "securestring", "privacy", "user", "host", "verifier",
    "trufflehogenterprise", "manifest", "parsers", "moderation", "react", "getemail",
    "uri", "http", "postbacks", "tru", "wit",
}

SUFFIXES = [
    "personalaccesstoken", "managementapitoken", "organizationapi", "personalapikey",
    "applicationdefaultcredentials", "subscriptionkey", "connectionstring",
    "accesstoken", "personaltoken", "referencetoken", "directmanagementkey",
    "insightsinsertkey", "insightsquerykey", "mobileapptoken", "browserkey",
    "licensekey", "userkey", "apptoken", "apikey", "apitoken", "adminkey", "querykey",
    "projectkey", "writekey", "readkey", "publishkey", "subscriptionkey", "bottoken",
    "orgtoken", "serviceaccount", "apppassword", "webhook", "oauth2", "oauth", "token",
    "key", "auth", "v2", "v1", "yaml",
]

ALIASES = {
    "adobeio": "adobe", "adafruitio": "adafruit", "boxcom": "box", "particleio": "particle", "airbrakeproject": "airbrake", "airbrakeuser": "airbrake",
    "anypointo": "anypoint", "asanao": "asana", "atlassiandatacenter": "atlassian",
    "jira": "atlassian", "jiratoken": "atlassian", "avaza": "avaza",
    "azure_entra": "azure", "azureentra": "azure", "azurebatch": "azure",
    "azurecosmosdb": "azure", "azureapimanagement": "azureapim",
    "azureappconfig": "azure", "azurecontainerregistry": "azure",
    "azurefunction": "azure", "azuresas": "azurestorage", "azuresearchquery": "azuresearch",
    "azuresearchadmin": "azuresearch", "azuredirectmanagement": "azureapim",
    "bitly": "bitly", "boxo": "box", "braintreepayments": "braintree",
    "calendly": "calendly", "clickuppersonal": "clickup", "closecrm": "close",
    "cloudflareca": "cloudflare", "cloudflareglobal": "cloudflare",
    "cockroachlabs": "cockroachdb", "contentfulpersonal": "contentful",
    "cratesio": "crates", "datadogapi": "datadog", "databricks": "databricks",
    "digitalocean": "digitalocean", "discordbot": "discord", "duffel": "duffel",
    "fastlypersonal": "fastly", "figmapersonal": "figma", "frame": "frameio",
    "fullstory": "fullstory", "gcp": "google", "googleoauth": "google",
    "googlegemini": "google", "gemini": "gemini", "githuboauth": "github", "githubapp": "github",
    "gitlaboauth": "gitlab", "grafanaservice": "grafana", "hashicorpvault": "vault",
    "hashicorpvaultauth": "vault", "hashicorp_vault": "vault", "hubspot": "hubspot",
    "ibmclouduser": "ibm", "larksuite": "lark", "lokalise": "lokalise",
    "linearapi": "linear", "linemessaging": "line", "mailjetbasic": "mailjet",
    "mailjetsms": "mailjet", "mattermostpersonal": "mattermost", "maxmindlicense": "maxmind",
    "microsoftteams": "teams", "microsoft_teams": "teams", "mongo": "mongodb",
    "newrelicpersonal": "newrelic", "npmtokenv": "npm", "nvapi": "nvidia", "ngc": "nvidia",
    "nexmo": "vonage", "openaiadmin": "openai", "paypalo": "paypal",
    "pagerduty": "pagerduty", "plaid": "plaid", "planetscaledb": "planetscale",
    "portainer": "portainer", "pubnubpublish": "pubnub", "pubnubsubscription": "pubnub",
    "pushbullet": "pushbullet", "pusherchannel": "pusher", "salesforcerefresh": "salesforce",
    "satismeter": "satismeter", "sauce": "saucelabs", "scaleway": "scaleway",
    "sendinblue": "brevo", "sendbirdorganization": "sendbird", "sentryorg": "sentry",
    "shodan": "shodan", "shopifyo": "shopify", "slackweb": "slack", "snyk": "snyk",
    "sonar": "sonarqube", "sonarcloud": "sonarqube", "sourcegraphcody": "sourcegraph",
    "spotify": "spotify", "splunkobservability": "splunk", "squareapp": "square",
    "squareup": "square", "storyblokpersonal": "storyblok", "stripepaymentintent": "stripe",
    "sumologic": "sumologic", "supabase": "supabase", "telegrambot": "telegram",
    "terraformcloud": "terraform", "terraformcloudpersonal": "terraform",
    "trello": "trello", "twilio": "twilio", "twitchaccess": "twitch",
    "twitterconsumer": "twitter", "twitter_v1": "twitter", "vagrantcloudpersonal": "vagrantcloud",
    "vultr": "vultr", "webexbot": "webex", "youtube": "google", "zendesk": "zendesk",
    "zendeskapi": "zendesk", "zapier": "zapier", "tines": "tines", "dockerhub": "docker",
    "privkey": "privatekey", "pem": "privatekey", "teams": "teams", "travisci": "travis",
    "droneci": "drone", "weightsandbiases": "wandb", "cloudflare": "cloudflare",
    "sentry": "sentry", "kimi": "moonshot", "stabilityai": "stability", "togetherai": "together",
    "aws": "aws", "box": "box", "saladcloud": "saladcloud", "hive": "hive",
    "asanapersonal": "asana", "airtablepersonal": "airtable", "bitbucketapp": "bitbucket",
    "auth0management": "auth0", "helpscout": "helpscout", "coinbase": "coinbase",
    "openvpn": "openvpn", "railwayapp": "railway", "robinhoodcrypto": "robinhood",
    "solarwindsobservability": "solarwinds", "azuredevops": "azuredevops",
    "azureopenai": "azureopenai", "azure_openai": "azureopenai", "azure_storage": "azurestorage",
    "azure_cosmosdb": "azure", "azure_batch": "azure", "gcnotify": "gcnotify",
    "pipedream": "pipedream", "maxmindlicense_v2": "maxmind", "pganalyzeread": "pganalyze",
    "particle": "particle", "crates": "crates", "hex": "hex", "ldap": "ldap", "skrapio": "skrappio", "chatfuel": "chatfule",
    "mysql": "mysql", "sqlserver": "mssql", "flyio": "fly", "fly": "fly",
}


def norm(name: str) -> str:
    n = name.lower()
    if n in ALIASES:
        return ALIASES[n]
    n = re.sub(r"[^a-z0-9_]", "", n)
    if n in ALIASES:
        return ALIASES[n]
    n = n.replace("_", "")
    for _ in range(3):
        if n in ALIASES:
            return ALIASES[n]
        for s in SUFFIXES:
            if n.endswith(s) and len(n) > len(s) + 2:
                n = n[: -len(s)]
                break
        else:
            break
    return ALIASES.get(n, n)


def names(mirror_dir: Path, mirror: str, path: str, kind: str) -> set:
    repo = mirror_dir / mirror / "repo"
    args = ["git", "-C", str(repo), "ls-tree", "--name-only", "HEAD", path]
    if kind == "dir":
        args.insert(4, "-d")
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    result = set()
    for line in out.splitlines():
        base = line.rsplit("/", 1)[-1]
        base = re.sub(r"\.(yml|yaml|go)$", "", base)
        if base in IGNORE or base.endswith("_test"):
            continue
        result.add(base)
    return result


# gitops-guard rule-id prefixes (tokens joined) that cover a provider key
# where the id does not start with the key itself.
OUR_ALIASES = {
    "gcp": "google", "url": "uri", "postgres": "postgres", "kubeconfig": "kubernetes",
    "kubernetes": "kubernetes", "dockerhub": "docker", "docker": "docker",
    "private": None, "privatekey": "privatekey", "jwk": "privatekey", "teams": "teams",
    "brevo": "brevo", "travis": "travis", "drone": "drone", "vault": "vault",
    "consul": "consul", "nomad": "nomad", "mssql": "mssql", "ado": "odbc",
    "jdbc": "jdbc", "netrc": "netrc", "crates": "crates", "hex": "hex",
    "flyio": "fly", "moonshot": "moonshot", "firebase": "google", "terraform": "terraform",
    "jfrog": "artifactory", "mongodb": "mongodb", "npmrc": "npm", "http": "http",
    "bearer": "http", "curl": "curl", "onepassword": "1password", "age": "age",
    "aws": "aws", "azure": "azure", "frameio": "frameio", "sonarqube": "sonarqube",
    "elastic": "elastic", "grafana": "grafana", "atlassian": "atlassian",
}


# Providers covered by a rule whose id names the format, not the provider.
OUR_EXTRA = {
    "url-credentials": ["ftp", "uri"],
    "amqp-url-password": ["rabbitmq"],
    "terraform-cloud-token": ["hashicorp"],
    "vault-service-token": ["hashicorp"],
    "cisco-meraki-api-key": ["meraki"],
    "teamwork-api-token": ["teamworkcrm", "teamworkdesk", "teamworkspaces"],
    "web3storage-api-token": ["web3storage"],
}

PREFIX_KEYS: set = set()

# Why a provider is still missing (shown in the document).
NOTES = {
    "psexec": "a context rule (`psexec -p`, `net use /user: … password`), issue 12 item 2",
    "tines": "a webhook URL whose secret part the anchors do not agree on; not verified",
    "cloudconvert": "a JWT-like token of 800+ characters, beyond the ±1 KiB window a hit's line is clipped to",
    "paperform": "an opaque token of 850+ characters, beyond the ±1 KiB clip",
    "storychief": "an opaque token of 940+ characters, beyond the ±1 KiB clip",
    "tallyfy": "a JWT-like token of ~1000 characters, beyond the ±1 KiB clip",
    "lendflow": "a token of ~900 characters, beyond the ±1 KiB clip",
    "viewneo": "a token of 900+ characters, beyond the ±1 KiB clip",
    "timezoneapi": "20 letters only: no example generator for a letters-only alphabet yet",
    "tly": "the name `tly` is too short to serve as the provider word of a prefix-less key",
    "column": "`test_`/`live_` + 27 characters next to the common word `column`: too noisy",
    "formbucket": "an unbounded dotted token (`x.y.z`) with no fixed length: too noisy",
    "kickbox": "an unbounded token with no prefix the anchors agree on",
}


def our_rules(root: Path) -> dict:
    """Provider key -> list of our rule ids."""
    covered = {}
    for f in sorted((root / "patterns").glob("*.toml")):
        for m in re.finditer(r'^id = "([a-z0-9-]+)"', f.read_text(), re.M):
            rid = m.group(1)
            toks = rid.split("-")
            keys = set()
            for k in range(1, len(toks) + 1):
                joined = "".join(toks[:k])
                keys.add(norm(joined))
                if joined in OUR_ALIASES and OUR_ALIASES[joined]:
                    keys.add(OUR_ALIASES[joined])
            # ids named after the product (`ipqualityscore-…`) rather than
            # the anchors' file name (`ipquality`)
            flat = "".join(toks)
            keys |= {k for k in PREFIX_KEYS if len(k) >= 5 and flat.startswith(k)}
            for extra in OUR_EXTRA.get(rid, []):
                keys.add(extra)
            for key in keys:
                covered.setdefault(key, []).append(rid)
    return covered


def main() -> None:
    mirror_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror")
    root = Path(__file__).resolve().parent.parent
    per_project = {}
    raw = {}
    for col, _, sources in ANCHORS:
        keys = set()
        for mirror, path, kind in sources:
            for n in names(mirror_dir, mirror, path, kind):
                k = norm(n)
                keys.add(k)
                raw.setdefault(k, set()).add(n)
        per_project[col] = keys
    PREFIX_KEYS.update(set().union(*per_project.values()))
    ours = our_rules(root)
    allkeys = sorted(set().union(*per_project.values()))
    multi = [k for k in allkeys if sum(k in per_project[c] for c, _, _ in ANCHORS) >= 2]
    covered = [k for k in multi if k in ours]
    cols = [c for c, _, _ in ANCHORS]
    print("# Provider coverage\n")
    print("Generated by `scripts/provider_coverage.py` from the file and directory names of")
    print("the four anchor projects (no rule text is read). A provider is a rule file")
    print("(Kingfisher `data/rules/*.yml`, gitleaks and Betterleaks")
    print("`cmd/generate/config/rules/*.go`, Nosey Parker `data/default/builtin/rules/*.yml`)")
    print("or a detector directory (TruffleHog `pkg/detectors/*`); names are normalised")
    print("(product suffixes such as `apikey`, `oauth`, `personalaccesstoken` dropped, a")
    print("few aliases), so treat a row as a provider, not a rule.\n")
    print("Target (issue 12, item 1): every provider that at least two of the four detect")
    print("has a rule here, with examples and counter-examples.\n")
    print("| anchor | providers |\n|---|---|")
    for c, name, _ in ANCHORS:
        print(f"| {name} ({c}) | {len(per_project[c])} |")
    print(f"\n**{len(multi)} providers are detected by at least two anchors; "
          f"{len(covered)} of them have a gitops-guard rule; "
          f"{len(multi) - len(covered)} do not.**\n")
    missing = [k for k in multi if k not in ours]
    if missing:
        print("Not covered yet, and why:\n")
        for k in missing:
            print(f"- `{k}`: {NOTES.get(k, 'not yet written')}")
        print()
    print("| provider | " + " | ".join(cols) + " | anchors | gitops-guard rules |")
    print("|---|" + "---|" * len(cols) + "---|---|")
    for k in multi:
        marks = ["x" if k in per_project[c] else "" for c in cols]
        n = sum(1 for m in marks if m)
        rules = ours.get(k, [])
        shown = ", ".join(f"`{r}`" for r in rules[:4]) + (f" +{len(rules) - 4}" if len(rules) > 4 else "")
        print(f"| {k} | " + " | ".join(marks) + f" | {n} | {shown or '**missing**'} |")


if __name__ == "__main__":
    main()
