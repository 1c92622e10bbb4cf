//! Image references as containerd normalizes them (`nginx:1.7.9` →
//! `docker.io/library/nginx:1.7.9`), their parse errors, and the digests and image IDs the
//! simulated registry reports.

use std::fmt;
use std::hash::{Hash, Hasher};

/// A parsed, normalized image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// `docker.io`, `quay.io`, `localhost:5000`, ...
    pub domain: String,
    /// `library/nginx`, `fluent/fluentd`, ...
    pub path: String,
    /// The tag, `latest` when neither a tag nor a digest was given.
    pub tag: Option<String>,
    /// `sha256:<hex>` when given.
    pub digest: Option<String>,
}

/// Why a reference does not parse (`docker/distribution/reference` wording).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("couldn't parse image name {image:?}: invalid reference format{detail}")]
pub struct InvalidReference {
    pub image: String,
    detail: String,
}

fn valid_component(c: &str) -> bool {
    // [a-z0-9]+ joined by `.`, `_`, `__` or runs of `-`.
    let mut sep = String::new();
    let mut seen_alnum = false;
    for ch in c.chars() {
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            if !sep.is_empty() {
                if !(sep == "." || sep == "_" || sep == "__" || sep.chars().all(|x| x == '-')) {
                    return false;
                }
                sep.clear();
            }
            seen_alnum = true;
        } else if matches!(ch, '.' | '_' | '-') && seen_alnum {
            sep.push(ch);
        } else {
            return false;
        }
    }
    seen_alnum && sep.is_empty()
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

impl ImageRef {
    /// `reference.ParseNormalizedNamed` plus the default `latest` tag (`TagNameOnly`).
    pub fn parse(image: &str) -> Result<ImageRef, InvalidReference> {
        let bad = |detail: &str| InvalidReference {
            image: image.to_string(),
            detail: detail.to_string(),
        };
        if image.is_empty() || image.trim() != image {
            return Err(bad(""));
        }
        let (rest, digest) = match image.split_once('@') {
            Some((r, d)) => {
                let ok = d.split_once(':').is_some_and(|(alg, hex)| {
                    !alg.is_empty() && hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
                });
                if !ok {
                    return Err(bad(""));
                }
                (r, Some(d.to_string()))
            }
            None => (image, None),
        };
        // The tag is after the last `:` that follows the last `/`.
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (
                &rest[..last_slash + i],
                Some(rest[last_slash + i + 1..].to_string()),
            ),
            None => (rest, None),
        };
        if let Some(t) = &tag {
            if !valid_tag(t) {
                return Err(bad(""));
            }
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, remainder))
                if first.contains('.')
                    || first.contains(':')
                    || first == "localhost"
                    || first.chars().any(|c| c.is_ascii_uppercase()) =>
            {
                (first.to_string(), remainder.to_string())
            }
            _ => ("docker.io".to_string(), name.to_string()),
        };
        let path = if domain == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(bad(&format!(
                ": repository name ({path}) must be lowercase"
            )));
        }
        if path.is_empty() || !path.split('/').all(valid_component) {
            return Err(bad(""));
        }
        let tag = match (&tag, &digest) {
            (None, None) => Some("latest".to_string()),
            _ => tag,
        };
        Ok(ImageRef {
            domain,
            path,
            tag,
            digest,
        })
    }

    /// `docker.io/library/nginx`.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The digest the simulated registry serves for this reference: the given one, or a
    /// stable made-up `sha256:` digest of repository and tag.
    pub fn resolved_digest(&self) -> String {
        if let Some(d) = &self.digest {
            return d.clone();
        }
        format!(
            "sha256:{}",
            fake_sha256(&format!(
                "{}:{}",
                self.repository(),
                self.tag.as_deref().unwrap_or("latest")
            ))
        )
    }

    /// The `imageID` a container status carries: `docker.io/library/nginx@sha256:…`.
    pub fn image_id(&self) -> String {
        format!("{}@{}", self.repository(), self.resolved_digest())
    }
}

impl fmt::Display for ImageRef {
    /// The normalized reference (`docker.io/library/nginx:1.7.9`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.repository())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// 64 hex digits derived from `s` (stable across runs; not a real SHA-256).
pub fn fake_sha256(s: &str) -> String {
    (0..4u64)
        .map(|salt| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            salt.hash(&mut h);
            s.hash(&mut h);
            format!("{:016x}", h.finish())
        })
        .collect()
}

/// 64 random hex digits (container and sandbox IDs).
pub fn random_id() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..4)
        .map(|_| format!("{:016x}", rng.gen::<u64>()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_normalize_like_containerd() {
        let cases = [
            ("nginx", "docker.io/library/nginx:latest"),
            ("nginx:1.7.9", "docker.io/library/nginx:1.7.9"),
            (
                "fluent/fluentd-kubernetes-daemonset:v1",
                "docker.io/fluent/fluentd-kubernetes-daemonset:v1",
            ),
            (
                "quay.io/fluentd_elasticsearch/fluentd:v2.5.2",
                "quay.io/fluentd_elasticsearch/fluentd:v2.5.2",
            ),
            ("localhost:5000/app", "localhost:5000/app:latest"),
            (
                "docker.io/library/busybox:1.36",
                "docker.io/library/busybox:1.36",
            ),
            ("nemo1107/train", "docker.io/nemo1107/train:latest"),
        ];
        for (image, want) in cases {
            assert_eq!(ImageRef::parse(image).unwrap().to_string(), want, "{image}");
        }
        let d = format!("nginx@sha256:{}", "a".repeat(64));
        let r = ImageRef::parse(&d).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(
            r.image_id(),
            format!("docker.io/library/nginx@sha256:{}", "a".repeat(64))
        );
    }

    #[test]
    fn invalid_references_are_reported_as_the_registry_library_does() {
        let e = ImageRef::parse("NGINX").unwrap_err();
        assert_eq!(
            e.to_string(),
            "couldn't parse image name \"NGINX\": invalid reference format: repository name (library/NGINX) must be lowercase"
        );
        for bad in ["nginx:", "nginx::1", "-nginx", "nginx@sha256:xyz", ""] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn made_up_digests_are_stable_and_look_like_sha256() {
        let a = ImageRef::parse("nginx:1.7.9").unwrap();
        assert_eq!(
            a.resolved_digest(),
            ImageRef::parse("docker.io/library/nginx:1.7.9")
                .unwrap()
                .resolved_digest()
        );
        let hex = a
            .resolved_digest()
            .trim_start_matches("sha256:")
            .to_string();
        assert_eq!(hex.len(), 64);
        assert_ne!(
            hex,
            ImageRef::parse("nginx:1.9.1").unwrap().resolved_digest()
        );
        assert_eq!(random_id().len(), 64);
    }
}
