//! `hardcoded-ip` and `hardcoded-metadata-ip`: IP address literals used as
//! endpoints in manifests, Helm values and `.env`/`.properties` files.
//!
//! ## What it does
//!
//! Finds IPv4 and IPv6 literals (validated with `std::net`) in the values of
//! Kubernetes objects (ConfigMap data, env values, args and command,
//! `hostAliases`, Service `externalIPs`/`loadBalancerIP`, Endpoints and
//! EndpointSlice addresses, annotations, …), in Helm values files and in
//! `.env`/`.properties` files, and points at the address itself.
//!
//! | address | severity |
//! |---|---|
//! | cloud metadata endpoint `169.254.169.254`, `fd00:ec2::254`, `100.100.100.200` | high, rule `hardcoded-metadata-ip` |
//! | public | medium |
//! | private: RFC 1918, CGNAT `100.64.0.0/10`, benchmarking `198.18.0.0/15`, IPv6 ULA `fc00::/7` | low |
//!
//! Private addresses are low, not medium: they are the common case in
//! on-premises GitOps repositories and rarely a security problem, but still a
//! brittle endpoint (kube-linter and checkov have no such check; users of
//! both expect a hygiene finding not to fail a build at the default
//! `--fail-on medium`).
//!
//! ## What it does not report
//!
//! - CIDRs (`10.0.0.0/8`) and ranges (`10.0.0.1-10.0.0.9`): allow lists and
//!   pools, not endpoints; and whole subtrees under keys that hold them or
//!   describe rather than use an address: `*cidr*`, `ipBlock`, `*sourceRange*`,
//!   `except`, `*allow*`, `*deny*`, `*trusted*`, `NO_PROXY`, `*exclude*`,
//!   `*bind*`, `*listen*`, `nameservers` (a resolver can only be an IP),
//!   `clusterIP(s)`, `podIP(s)`, `hostIP`, `*version*`, `image`, `tag`,
//!   `*digest*`, `*checksum*`, `description`, `pattern`, PromQL `expr`
//!   (an `instance="10.0.0.5:9100"` matcher is a label, not a connection),
//!   `external-dns.alpha.kubernetes.io/target` (the DNS record itself),
//!   labels and the last-applied-configuration annotation;
//! - `0.0.0.0`, `::`, loopback, link-local (other than the metadata
//!   endpoint), multicast, broadcast, netmasks (`255.…`), reserved space;
//! - documentation ranges (`192.0.2.0/24`, `198.51.100.0/24`,
//!   `203.0.113.0/24`, `2001:db8::/32`) and single-digit addresses
//!   (`1.2.3.4`, `2.4.6.8`): examples, not endpoints;
//! - public anycast resolvers (`1.1.1.1`, `8.8.8.8`, `9.9.9.9`, their IPv6
//!   twins, …): a resolver can only be given by address, and these are
//!   meant to be;
//! - version numbers and OIDs: a dotted run of more or fewer than four
//!   numbers, a number after a letter (`v1.2.3.4`) or an image reference's
//!   colon (`repo:1.2.3.4`), or after a `version`/`release`/`tag` word;
//! - Secrets (the secret detectors own them), CustomResourceDefinitions, and
//!   IP-pool and network-attachment resources (`metallb.io`,
//!   `projectcalico.org`, Cilium IP pools, Multus `k8s.cni.cncf.io`).
//!
//! ## Example
//!
//! ```yaml
//! kind: ConfigMap
//! data:
//!   DB_HOST: 203.0.114.7        # medium: public address
//! ```
//!
//! ## Use instead
//!
//! A DNS name: a Service, an `ExternalName` Service, or external DNS, so the
//! endpoint can move without a commit. Block `169.254.169.254` with a
//! NetworkPolicy unless the workload is a deliberate metadata client.

use super::helm_values_secret::is_values_file;
use super::scalars::{Visit, Walk, walk};
use super::{describe, identity, rule_info};
use crate::detect::{Context, Detector, Input, Output};
use crate::finding::RuleInfo;
use crate::finding::{Category, Finding, Severity};
use crate::manifest::{Document, KeyPath, objects_of};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

pub const RULE: &str = "hardcoded-ip";
pub const METADATA_RULE: &str = "hardcoded-metadata-ip";

/// What kind of address a literal is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpClass {
    /// Not an endpoint worth reporting (loopback, unspecified, documentation, …).
    Ignored,
    /// A cloud instance-metadata endpoint.
    Metadata,
    Private,
    Public,
}

/// Classify an address (see the module doc's table).
pub fn classify(ip: IpAddr) -> IpClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify_v4(v4);
            }
            let s = v6.segments();
            if v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
                IpClass::Metadata
            } else if is_public_resolver(IpAddr::V6(v6))
                || v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
            {
                IpClass::Ignored
            } else if (s[0] & 0xfe00) == 0xfc00 {
                IpClass::Private
            } else {
                IpClass::Public
            }
        }
    }
}

/// Public anycast resolvers, meant to be used by address (a resolver cannot
/// be given by name): Cloudflare, Google, Quad9, OpenDNS, Level 3.
const PUBLIC_RESOLVERS: &[&str] = &[
    "1.1.1.1",
    "1.0.0.1",
    "8.8.8.8",
    "8.8.4.4",
    "9.9.9.9",
    "149.112.112.112",
    "208.67.222.222",
    "208.67.220.220",
    "4.2.2.1",
    "4.2.2.2",
    "2606:4700:4700::1111",
    "2606:4700:4700::1001",
    "2001:4860:4860::8888",
    "2001:4860:4860::8844",
    "2620:fe::fe",
    "2620:fe::9",
];

fn is_public_resolver(ip: IpAddr) -> bool {
    PUBLIC_RESOLVERS
        .iter()
        .any(|r| r.parse::<IpAddr>().is_ok_and(|r| r == ip))
}

fn classify_v4(ip: Ipv4Addr) -> IpClass {
    let o = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(100, 100, 100, 200) {
        return IpClass::Metadata;
    }
    // 1.2.3.4, 2.4.6.8, 9.8.7.6: illustrative addresses in docs and examples.
    if o.iter().all(|&x| x <= 9) || is_public_resolver(IpAddr::V4(ip)) {
        return IpClass::Ignored;
    }
    let documentation = matches!(o, [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _]);
    if o[0] == 0 || o[0] == 127 || o[0] >= 224 || (o[0] == 169 && o[1] == 254) || documentation {
        return IpClass::Ignored;
    }
    let cgnat = o[0] == 100 && (64..128).contains(&o[1]);
    let benchmarking = o[0] == 198 && (o[1] == 18 || o[1] == 19);
    if ip.is_private() || cgnat || benchmarking {
        IpClass::Private
    } else {
        IpClass::Public
    }
}

/// An address literal found in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpHit {
    /// Byte range of the literal.
    pub range: Range<usize>,
    pub ip: IpAddr,
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The word just before `at` (skipping `=`, `:`, quotes and blanks), lower-case.
fn previous_word(text: &[u8], at: usize) -> String {
    let mut i = at;
    while i > 0
        && matches!(
            text[i - 1],
            b'=' | b':' | b' ' | b'"' | b'\'' | b'\t' | b'-'
        )
    {
        i -= 1;
    }
    let end = i;
    while i > 0 && text[i - 1].is_ascii_alphabetic() {
        i -= 1;
    }
    String::from_utf8_lossy(&text[i..end]).to_ascii_lowercase()
}

/// Every IPv4 and IPv6 literal in `text` used as an address (see the module
/// doc for what is left out: CIDRs, ranges, versions, OIDs).
pub fn find_ips(text: &[u8]) -> Vec<IpHit> {
    let mut out = Vec::new();
    find_v4(text, &mut out);
    find_v6(text, &mut out);
    out.sort_by_key(|h| h.range.start);
    out
}

/// The maximal run around `at` of bytes satisfying `f`.
fn run_around(text: &[u8], at: usize, f: impl Fn(u8) -> bool) -> (usize, usize) {
    let mut start = at;
    while start > 0 && f(text[start - 1]) {
        start -= 1;
    }
    let mut end = at;
    while end < text.len() && f(text[end]) {
        end += 1;
    }
    (start, end)
}

/// IPv4: candidates are found from their dots (a SIMD search), so text
/// without `digit.digit` costs almost nothing.
fn find_v4(text: &[u8], out: &mut Vec<IpHit>) {
    let n = text.len();
    let mut done = 0;
    for dot in memchr::memchr_iter(b'.', text) {
        if dot < done
            || dot == 0
            || dot + 1 >= n
            || !text[dot - 1].is_ascii_digit()
            || !text[dot + 1].is_ascii_digit()
        {
            continue;
        }
        let (start, end) = run_around(text, dot, |b| b.is_ascii_digit() || b == b'.');
        done = end;
        if start > 0 && is_word(text[start - 1]) {
            continue;
        }
        // A sentence's full stop is not part of the address.
        let mut tok_end = end;
        if text[tok_end - 1] == b'.' {
            tok_end -= 1;
        }
        let tok = &text[start..tok_end];
        if tok.iter().filter(|&&b| b == b'.').count() != 3 {
            continue;
        }
        let Ok(ip) = std::str::from_utf8(tok).unwrap_or("").parse::<Ipv4Addr>() else {
            continue;
        };
        let next = text.get(tok_end).copied();
        let after = text.get(tok_end + 1).copied();
        // CIDR, range, or a longer word (1.2.3.4-rc1, 1.2.3.4a).
        if matches!(next, Some(b'/')) && after.is_some_and(|b| b.is_ascii_digit()) {
            continue;
        }
        if next.is_some_and(|b| is_word(b) || b == b'-') {
            continue;
        }
        if start > 0 {
            let prev = text[start - 1];
            // 10.0.0.1-10.0.0.9 (a range's end), repo:1.2.3.4 (an image tag).
            if prev == b'-' && start >= 2 && text[start - 2].is_ascii_digit() {
                continue;
            }
            if prev == b':'
                && start >= 2
                && (is_word(text[start - 2]) || text[start - 2] == b'-')
                && !text[..start].ends_with(b"::ffff:")
            {
                continue;
            }
        }
        if matches!(
            previous_word(text, start).as_str(),
            "v" | "version" | "ver" | "release" | "tag" | "rev" | "revision" | "build" | "oid"
        ) {
            continue;
        }
        out.push(IpHit {
            range: start..tok_end,
            ip: IpAddr::V4(ip),
        });
    }
}

/// IPv6: candidates are found from colons followed by a hex digit or a
/// colon, so YAML's `key: value` colons are skipped at once.
fn find_v6(text: &[u8], out: &mut Vec<IpHit>) {
    let n = text.len();
    let tok_char = |b: u8| b.is_ascii_hexdigit() || b == b':' || b == b'.';
    let mut done = 0;
    for colon in memchr::memchr_iter(b':', text) {
        if colon < done || colon + 1 >= n || !tok_char(text[colon + 1]) || text[colon + 1] == b'.' {
            continue;
        }
        let (start, end) = run_around(text, colon, tok_char);
        done = end;
        if start > 0 && is_word(text[start - 1]) {
            continue;
        }
        let mut tok_end = end;
        while tok_end > start && text[tok_end - 1] == b'.' {
            tok_end -= 1;
        }
        let tok = &text[start..tok_end];
        let colons = tok.iter().filter(|&&b| b == b':').count();
        if colons < 2 || !tok.iter().any(u8::is_ascii_digit) {
            continue;
        }
        if text
            .get(tok_end)
            .is_some_and(|&b| is_word(b) || b == b'/' || b == b'-')
        {
            continue;
        }
        let Ok(ip) = std::str::from_utf8(tok).unwrap_or("").parse::<Ipv6Addr>() else {
            continue;
        };
        // Mapped IPv4 (`::ffff:10.0.0.1`) is found by the IPv4 scan too.
        if ip.to_ipv4_mapped().is_some() {
            continue;
        }
        out.push(IpHit {
            range: start..tok_end,
            ip: IpAddr::V6(ip),
        });
    }
}

/// Keys (lower-cased, substring) whose subtrees are not endpoints.
const PRUNE_CONTAINS: &[&str] = &[
    "cidr",
    "ipblock",
    "sourcerange",
    "allow",
    "deny",
    "trusted",
    "whitelist",
    "blacklist",
    "exclude",
    "no_proxy",
    "no-proxy",
    "noproxy",
    "bind",
    "listen",
    "nameserver",
    "clusterip",
    "podip",
    "hostip",
    "version",
    "digest",
    "checksum",
    "description",
    "last-applied",
    "pattern",
    "external-dns",
    "expr",
];
/// Keys (lower-cased, exact) whose subtrees are not endpoints.
const PRUNE_EXACT: &[&str] = &["except", "image", "tag", "labels", "oid"];

/// Whether the subtree (or `.env` line) under `key` is left alone.
pub fn prune_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    PRUNE_EXACT.contains(&k.as_str()) || PRUNE_CONTAINS.iter().any(|p| k.contains(p))
}

/// Kinds and API groups that manage address pools rather than use endpoints.
fn skip_object(kind: &str, group: &str) -> bool {
    matches!(kind, "Secret" | "CustomResourceDefinition")
        || group == "metallb.io"
        || group.ends_with("projectcalico.org")
        || group == "k8s.cni.cncf.io"
        || (group == "cilium.io" && (kind.contains("IPPool") || kind.starts_with("CiliumBGP")))
}

pub struct HardcodedIp;

impl Detector for HardcodedIp {
    fn name(&self) -> &'static str {
        RULE
    }

    fn rules(&self) -> Vec<RuleInfo> {
        vec![
            rule_info(
                RULE,
                "Hard-coded IP address",
                Category::HardcodedIp,
                Severity::Medium,
                "An IP address literal used as an endpoint in a manifest, Helm values or an \
                 .env/.properties file: the endpoint cannot move without a commit, and the \
                 address bypasses DNS-based policy. Public addresses are medium, private ones \
                 low; CIDRs, binds, loopback, documentation ranges and versions are ignored.",
                "Use a DNS name (a Service, an ExternalName Service, external DNS).",
            ),
            rule_info(
                METADATA_RULE,
                "Cloud metadata endpoint address",
                Category::HardcodedIp,
                Severity::High,
                "The cloud instance-metadata endpoint (169.254.169.254, fd00:ec2::254, \
                 100.100.100.200) in a manifest or config: it serves node and instance \
                 credentials, and SSRF or a compromised pod that reaches it can take them.",
                "Unless the workload is a deliberate metadata client, remove the address and \
                 block the metadata endpoint with a NetworkPolicy (egress deny to \
                 169.254.169.254/32); use IRSA/Workload Identity instead of instance credentials.",
            ),
        ]
    }

    fn detect(&self, input: &Input<'_>, cx: &Context<'_>, out: &mut Output) {
        let name = input.file_name();
        let lower = name.to_ascii_lowercase();
        let env_like = lower == ".env"
            || lower.starts_with(".env.")
            || lower.ends_with(".env")
            || lower.ends_with(".properties");
        let values_file = is_values_file(name);
        if !env_like && !values_file && !input.is_yaml_or_json() {
            return;
        }
        if !find_ips(input.bytes)
            .iter()
            .any(|h| classify(h.ip) != IpClass::Ignored)
        {
            return;
        }
        if env_like {
            scan_env_file(input, out);
            return;
        }
        if values_file {
            // Non-object documents are reported under the file's name:
            // not the same findings for the same text elsewhere, so no memo.
            let Some(docs) = input.documents() else {
                return;
            };
            let docs: Vec<&Document> = docs.iter().collect();
            check_objects(input, &docs, true, out);
            return;
        }
        // Each distinct document once per history scan (see
        // `Input::check_documents`).
        input.check_documents(
            cx.doc_memo,
            "hardcoded-ip",
            |doc| {
                find_ips(doc)
                    .iter()
                    .any(|h| classify(h.ip) != IpClass::Ignored)
            },
            |docs, out| check_objects(input, docs, false, out),
            out,
        );
    }
}

/// The check over some of a file's documents (`values_file`: a Helm values
/// file by its name, whose plain maps are checked too).
fn check_objects(input: &Input<'_>, docs: &[&Document], values_file: bool, out: &mut Output) {
    let name = input.file_name();
    let how = Walk {
        prune: &prune_key,
        name_value_pairs: true,
    };
    for obj in objects_of(docs.iter().copied()) {
        let is_object = obj.kind.is_some() && obj.api_version.is_some();
        if !is_object && !values_file {
            continue;
        }
        if skip_object(obj.kind.unwrap_or(""), obj.api_group().unwrap_or("")) {
            continue;
        }
        let (desc, id) = if is_object {
            (describe(&obj), identity(&obj))
        } else {
            (name.to_string(), name.to_string())
        };
        let mut hits = Vec::new();
        walk(obj.node, &how, &mut |v: &Visit<'_, '_>| {
            let mut seen: Vec<IpAddr> = Vec::new();
            for h in find_ips(v.text.as_bytes()) {
                let class = classify(h.ip);
                if class == IpClass::Ignored || seen.contains(&h.ip) {
                    continue;
                }
                seen.push(h.ip);
                let location = super::sub_location(input, v.node, h.range.clone());
                hits.push((location, h.ip, class, v.path(&obj.path)));
            }
        });
        for (location, ip, class, path) in hits {
            out.findings
                .push(finding(&desc, &id, &path, ip, class, location));
        }
    }
}

fn finding(
    desc: &str,
    id: &str,
    path: &KeyPath,
    ip: IpAddr,
    class: IpClass,
    location: crate::finding::Location,
) -> Finding {
    let (rule, severity, message) = match class {
        IpClass::Metadata => (
            METADATA_RULE,
            Severity::High,
            format!(
                "{desc}: {path} points at the cloud metadata endpoint {ip}, which serves \
                 instance credentials; unless this is a deliberate metadata client, block it \
                 with a NetworkPolicy"
            ),
        ),
        IpClass::Private => (
            RULE,
            Severity::Low,
            format!(
                "{desc}: {path} hard-codes the private IP address {ip}; use a DNS name so the \
                 endpoint can move"
            ),
        ),
        _ => (
            RULE,
            Severity::Medium,
            format!(
                "{desc}: {path} hard-codes the IP address {ip}; use a DNS name so the endpoint \
                 can move"
            ),
        ),
    };
    Finding::new(rule, Category::HardcodedIp, severity, message, location)
        .with_identity(format!("{id}/{path}={ip}"))
}

/// `.env` and `.properties`: `KEY=value` (or `key: value`) lines.
fn scan_env_file(input: &Input<'_>, out: &mut Output) {
    let bytes = input.bytes;
    let name = input.file_name();
    let mut line_start = 0;
    while line_start < bytes.len() {
        let line_end =
            memchr::memchr(b'\n', &bytes[line_start..]).map_or(bytes.len(), |i| line_start + i);
        let line = &bytes[line_start..line_end];
        let off = line_start;
        line_start = line_end + 1;
        let trimmed = line.trim_ascii_start();
        if trimmed.is_empty() || matches!(trimmed[0], b'#' | b'!' | b';') {
            continue;
        }
        let Some(sep) = line.iter().position(|&b| b == b'=' || b == b':') else {
            continue;
        };
        let key = String::from_utf8_lossy(line[..sep].trim_ascii());
        let key = key
            .strip_prefix("export ")
            .unwrap_or(&key)
            .trim()
            .to_string();
        if key.is_empty() || prune_key(&key) {
            continue;
        }
        let value = &line[sep + 1..];
        let mut seen: Vec<IpAddr> = Vec::new();
        for h in find_ips(value) {
            let class = classify(h.ip);
            if class == IpClass::Ignored || seen.contains(&h.ip) {
                continue;
            }
            seen.push(h.ip);
            let start = off + sep + 1 + h.range.start;
            let end = off + sep + 1 + h.range.end;
            let path = KeyPath::new().key(&key);
            out.findings.push(finding(
                name,
                name,
                &path,
                h.ip,
                class,
                input.location(start, end),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(text: &str) -> Vec<String> {
        find_ips(text.as_bytes())
            .into_iter()
            .map(|h| text[h.range].to_string())
            .collect()
    }

    #[test]
    fn finds_addresses_used_as_endpoints() {
        assert_eq!(ips("host: 8.8.4.4"), ["8.8.4.4"]);
        assert_eq!(ips("http://10.1.2.3:8080/x"), ["10.1.2.3"]);
        assert_eq!(ips("--server=52.1.2.3,52.1.2.4."), ["52.1.2.3", "52.1.2.4"]);
        assert_eq!(ips("[2606:4700::1111]:53"), ["2606:4700::1111"]);
        assert_eq!(ips("fd00:ec2::254"), ["fd00:ec2::254"]);
        assert_eq!(ips("user@52.1.2.3"), ["52.1.2.3"]);
    }

    #[test]
    fn leaves_out_cidrs_ranges_versions_and_oids() {
        for t in [
            "10.0.0.0/8",
            "fd00::/8",
            "10.0.0.1-10.0.0.9",
            "v1.2.3.4",
            "repo/app:1.2.3.4",
            "1.3.6.1.4.1.311",
            "1.2.3",
            "version=1.2.3.4",
            "1.2.3.4-rc1",
            "12:30:45",
            "aa:bb:cc:dd:ee:ff",
            "sha256:0123456789abcdef",
            "std::string",
            "1.2.3.400",
            "01.2.3.4",
        ] {
            assert!(ips(t).is_empty(), "{t}: {:?}", ips(t));
        }
    }

    #[test]
    fn classifies_addresses() {
        let c = |s: &str| classify(s.parse().unwrap());
        assert_eq!(c("169.254.169.254"), IpClass::Metadata);
        assert_eq!(c("fd00:ec2::254"), IpClass::Metadata);
        assert_eq!(c("10.0.0.1"), IpClass::Private);
        assert_eq!(c("172.20.0.1"), IpClass::Private);
        assert_eq!(c("100.64.1.1"), IpClass::Private);
        assert_eq!(c("fd12::1"), IpClass::Private);
        assert_eq!(c("52.95.110.1"), IpClass::Public);
        assert_eq!(c("2606:4700::1111"), IpClass::Public);
        for s in [
            "0.0.0.0",
            "127.0.0.1",
            "169.254.1.1",
            "255.255.255.0",
            "224.0.0.1",
            "192.0.2.10",
            "198.51.100.1",
            "203.0.113.5",
            "::",
            "::1",
            "fe80::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "1.2.3.4",
            "9.8.7.6",
            "8.8.8.8",
            "1.1.1.1",
            "2001:4860:4860::8888",
        ] {
            assert_eq!(c(s), IpClass::Ignored, "{s}");
        }
    }
}
