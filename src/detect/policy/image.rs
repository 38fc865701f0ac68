//! Container image references (`[registry/]path[:tag][@digest]`), as the
//! container runtimes read them (the `distribution/reference` grammar): the
//! first path component is a registry only if it has a `.` or a `:` or is
//! `localhost`; otherwise the image is on Docker Hub (`docker.io`), and a
//! single-component name is in `library/` there (`nginx` is
//! `docker.io/library/nginx`).

/// A parsed image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// As written.
    pub raw: &'a str,
    /// The registry host (`docker.io` when implied; Docker Hub's aliases
    /// `index.docker.io`, `registry-1.docker.io` and
    /// `registry.hub.docker.com` are folded into it).
    pub registry: String,
    /// The repository path on the registry (`library/nginx`).
    pub path: String,
    /// The tag, if written.
    pub tag: Option<&'a str>,
    /// Whatever follows `@`, if written.
    pub digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    /// Parse `raw`. `None` for what no runtime would pull as written: an
    /// empty string, whitespace, or a template or variable that a later
    /// step fills in (`${IMAGE}` for Flux post-build substitution,
    /// `{{ .Values.image }}`, `$(VAR)`), which the checks cannot judge.
    pub fn parse(raw: &'a str) -> Option<ImageRef<'a>> {
        if raw.is_empty()
            || raw.contains(char::is_whitespace)
            || raw.contains('$')
            || raw.contains("{{")
        {
            return None;
        }
        let (name_tag, digest) = match raw.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (raw, None),
        };
        let last_slash = name_tag.rfind('/');
        let (name, tag) = match name_tag.rfind(':') {
            Some(i) if last_slash.is_none_or(|s| i > s) => {
                (&name_tag[..i], Some(&name_tag[i + 1..]))
            }
            _ => (name_tag, None),
        };
        if name.is_empty() {
            return None;
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_ascii_lowercase(), rest.to_string())
            }
            _ => ("docker.io".to_string(), name.to_string()),
        };
        let registry = match registry.as_str() {
            "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
                "docker.io".to_string()
            }
            _ => registry,
        };
        let path = if registry == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        Some(ImageRef {
            raw,
            registry,
            path,
            tag,
            digest,
        })
    }

    /// `registry/path`, the name a trusted-registry prefix is matched against.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.registry, self.path)
    }

    /// Whether the digest is a well-formed content digest
    /// (`sha256:` + 64 hex digits, or `sha512:` + 128).
    pub fn has_valid_digest(&self) -> bool {
        let Some(d) = self.digest else { return false };
        let (algo, hex) = d.split_once(':').unwrap_or(("", ""));
        let len = match algo {
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => return false,
        };
        hex.len() == len && hex.bytes().all(|b| b.is_ascii_hexdigit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (raw, registry, path, tag, digest)
    type Case<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, Option<&'a str>);

    #[test]
    fn references() {
        let cases: &[Case<'_>] = &[
            ("nginx", "docker.io", "library/nginx", None, None),
            (
                "nginx:1.27",
                "docker.io",
                "library/nginx",
                Some("1.27"),
                None,
            ),
            (
                "bitnami/redis:7",
                "docker.io",
                "bitnami/redis",
                Some("7"),
                None,
            ),
            ("docker.io/nginx", "docker.io", "library/nginx", None, None),
            (
                "index.docker.io/library/nginx:latest",
                "docker.io",
                "library/nginx",
                Some("latest"),
                None,
            ),
            (
                "ghcr.io/acme/api:v1",
                "ghcr.io",
                "acme/api",
                Some("v1"),
                None,
            ),
            ("localhost:5000/app", "localhost:5000", "app", None, None),
            ("localhost/app:1", "localhost", "app", Some("1"), None),
            (
                "registry.local:5000/team/app:2.0",
                "registry.local:5000",
                "team/app",
                Some("2.0"),
                None,
            ),
            (
                "app@sha256:abc",
                "docker.io",
                "library/app",
                None,
                Some("sha256:abc"),
            ),
            (
                "quay.io/x/y:1@sha256:abc",
                "quay.io",
                "x/y",
                Some("1"),
                Some("sha256:abc"),
            ),
            ("GHCR.IO/acme/api", "ghcr.io", "acme/api", None, None),
        ];
        for &(raw, reg, path, tag, digest) in cases {
            let r = ImageRef::parse(raw).unwrap_or_else(|| panic!("{raw}"));
            assert_eq!(
                (r.registry.as_str(), r.path.as_str(), r.tag, r.digest),
                (reg, path, tag, digest),
                "{raw}"
            );
        }
    }

    #[test]
    fn templates_and_junk_are_not_judged() {
        for raw in [
            "",
            "${IMAGE}",
            "ghcr.io/acme/api:${TAG}",
            "{{ .Values.image }}",
            "a b",
            ":1",
            "$(IMG)",
        ] {
            assert_eq!(ImageRef::parse(raw), None, "{raw}");
        }
    }

    #[test]
    fn digests() {
        let good = format!("nginx@sha256:{}", "a".repeat(64));
        assert!(ImageRef::parse(&good).unwrap().has_valid_digest());
        assert!(
            !ImageRef::parse("nginx@sha256:abc")
                .unwrap()
                .has_valid_digest()
        );
        assert!(!ImageRef::parse("nginx:1").unwrap().has_valid_digest());
        let bad_hex = format!("nginx@sha256:{}", "g".repeat(64));
        assert!(!ImageRef::parse(&bad_hex).unwrap().has_valid_digest());
    }
}
