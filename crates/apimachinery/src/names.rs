//! Object-name and label syntax checks (`k8s.io/apimachinery/pkg/util/validation`,
//! `pkg/api/validate/content`) with upstream's exact messages, and the random name suffixes
//! of `names.SimpleNameGenerator` / `util/rand`.

use rand::Rng;

/// Maximum length of an RFC 1123 label.
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;
/// Maximum length of an RFC 1123 subdomain.
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;
/// Maximum length of an RFC 1035 label.
pub const DNS1035_LABEL_MAX_LENGTH: usize = 63;
/// Maximum length of a label value (and of the name part of a label key).
pub const LABEL_VALUE_MAX_LENGTH: usize = 63;
/// Longest prefix `generate_name` keeps from its base (63 minus the 5 random characters).
pub const MAX_GENERATED_NAME_LENGTH: usize = 58;
/// The alphabet of upstream's `util/rand`: no vowels (no accidental words) and no look-alikes.
pub const ALPHANUMS: &str = "bcdfghjklmnpqrstvwxz2456789";

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const LABEL_KEY_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_KEY_ERR_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/// Which wording a "too long" message uses: `util/validation` says characters, the newer
/// `api/validate/content` (label keys and values) says bytes.
#[derive(Clone, Copy)]
enum LenUnit {
    Characters,
    Bytes,
}

fn max_len_error(length: usize, unit: LenUnit) -> String {
    match unit {
        LenUnit::Characters => format!("must be no more than {length} characters"),
        LenUnit::Bytes => format!("must be no more than {length} bytes"),
    }
}

/// Upstream's `RegexError`: the message, the examples, then the regex.
pub fn regex_error(msg: &str, regex: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{regex}')");
    }
    let mut out = format!("{msg} (e.g. ");
    for (i, example) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push('\'');
        out.push_str(example);
        out.push_str("', ");
    }
    out.push_str("regex used for validation is '");
    out.push_str(regex);
    out.push_str("')");
    out
}

/// `[first]([middle]*[last])?` on the whole string, where the first and last characters
/// come from `edge` and the inner ones from `edge` or `inner`.
fn matches_edged(
    value: &str,
    first: fn(u8) -> bool,
    edge: fn(u8) -> bool,
    inner: fn(u8) -> bool,
) -> bool {
    let b = value.as_bytes();
    match b.len() {
        0 => false,
        1 => first(b[0]),
        n => first(b[0]) && edge(b[n - 1]) && b[1..n - 1].iter().all(|&c| edge(c) || inner(c)),
    }
}

fn lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn is_dash(c: u8) -> bool {
    c == b'-'
}

fn matches_dns1123_label(value: &str) -> bool {
    matches_edged(value, lower_alnum, lower_alnum, is_dash)
}

fn matches_dns1123_subdomain(value: &str) -> bool {
    value.split('.').all(matches_dns1123_label)
}

fn matches_label_key_name(value: &str) -> bool {
    fn alnum(c: u8) -> bool {
        c.is_ascii_alphanumeric()
    }
    fn ext(c: u8) -> bool {
        c == b'-' || c == b'_' || c == b'.'
    }
    matches_edged(value, alnum, alnum, ext)
}

/// Checks an RFC 1123 label (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters), e.g. a
/// namespace or Service name. Returns upstream's messages; empty when valid.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH, LenUnit::Characters));
    }
    if !matches_dns1123_label(value) {
        if matches_dns1123_subdomain(value) {
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_ERR_MSG,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// Checks an RFC 1123 subdomain (dot-separated labels, at most 253 characters), the rule for
/// most object names. Returns upstream's messages; empty when valid.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    subdomain_errors(value, LenUnit::Characters)
}

fn subdomain_errors(value: &str, unit: LenUnit) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH, unit));
    }
    if !matches_dns1123_subdomain(value) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// Checks an RFC 1035 label (`[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters), the rule
/// for Service names. Returns upstream's messages; empty when valid.
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1035_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1035_LABEL_MAX_LENGTH, LenUnit::Characters));
    }
    if !matches_edged(value, |c| c.is_ascii_lowercase(), lower_alnum, is_dash) {
        errs.push(regex_error(
            DNS1035_LABEL_ERR_MSG,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// Checks a "qualified name", i.e. a label or annotation key: an optional DNS subdomain
/// prefix and `/`, then a name of at most 63 characters. Returns upstream's messages
/// (`content.IsLabelKey`); empty when valid.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                errs.extend(
                    subdomain_errors(prefix, LenUnit::Bytes)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a valid label key {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(LABEL_KEY_ERR_MSG, LABEL_KEY_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(format!(
            "name part {}",
            max_len_error(LABEL_VALUE_MAX_LENGTH, LenUnit::Bytes)
        ));
    }
    if !matches_label_key_name(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                LABEL_KEY_ERR_MSG,
                LABEL_KEY_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// Checks a label value: empty, or at most 63 alphanumerics, `-`, `_`, `.` starting and ending
/// with an alphanumeric. Returns upstream's messages (`content.IsLabelValue`); empty when valid.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(max_len_error(LABEL_VALUE_MAX_LENGTH, LenUnit::Bytes));
    }
    if !value.is_empty() && !matches_label_key_name(value) {
        errs.push(regex_error(
            LABEL_VALUE_ERR_MSG,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// `n` random characters from [`ALPHANUMS`] (upstream `rand.String`).
pub fn random_suffix(n: usize) -> String {
    let alphabet = ALPHANUMS.as_bytes();
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

/// The name for an object created with `metadata.generateName`: the base cut to 58 bytes,
/// then 5 random characters (upstream `names.SimpleNameGenerator`).
pub fn generate_name(base: &str) -> String {
    let mut cut = base.len().min(MAX_GENERATED_NAME_LENGTH);
    while !base.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{}", &base[..cut], random_suffix(5))
}

/// Maps every character `c` of `s` to `ALPHANUMS[c % 27]` (upstream `rand.SafeEncodeString`,
/// used for pod-template hashes). Like upstream, the output has as many bytes as the input:
/// a multi-byte character yields one output character and the tail is padded with NULs.
pub fn safe_encode_string(s: &str) -> String {
    let alphabet = ALPHANUMS.as_bytes();
    let mut out = vec![0u8; s.len()];
    for (i, c) in s.chars().enumerate() {
        out[i] = alphabet[c as usize % alphabet.len()];
    }
    String::from_utf8(out).expect("alphabet and NUL are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const KEY_REGEX_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    #[test]
    fn regex_errors_list_examples_like_upstream_including_its_double_space() {
        assert_eq!(
            regex_error("m", "r", &[]),
            "m (regex used for validation is 'r')"
        );
        assert_eq!(
            regex_error("m", "r", &["a", "b"]),
            "m (e.g. 'a',  or 'b', regex used for validation is 'r')"
        );
    }

    #[test]
    fn dns1123_subdomains_accept_dotted_lowercase_names_and_reject_others() {
        let long = "a".repeat(254);
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("example.com", vec![]),
            ("a", vec![]),
            ("1-2.x-y", vec![]),
            ("", vec![SUBDOMAIN_MSG]),
            ("Example", vec![SUBDOMAIN_MSG]),
            ("a..b", vec![SUBDOMAIN_MSG]),
            ("-a", vec![SUBDOMAIN_MSG]),
            ("a-", vec![SUBDOMAIN_MSG]),
            ("a_b", vec![SUBDOMAIN_MSG]),
            ("a.", vec![SUBDOMAIN_MSG]),
            (long.as_str(), vec!["must be no more than 253 characters"]),
        ];
        for (input, want) in cases {
            assert_eq!(is_dns1123_subdomain(input), want, "{input:?}");
        }
    }

    #[test]
    fn dns1123_labels_reject_dots_with_a_dedicated_message() {
        let long = "a".repeat(64);
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("my-name", vec![]),
            ("0", vec![]),
            ("a.b", vec!["must not contain dots"]),
            ("A", vec![LABEL_MSG]),
            ("", vec![LABEL_MSG]),
            (long.as_str(), vec!["must be no more than 63 characters"]),
        ];
        for (input, want) in cases {
            assert_eq!(is_dns1123_label(input), want, "{input:?}");
        }
    }

    #[test]
    fn dns1035_labels_must_start_with_a_letter() {
        assert!(is_dns1035_label("abc-1").is_empty());
        assert_eq!(
            is_dns1035_label("1abc"),
            vec!["a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"]
        );
    }

    #[test]
    fn qualified_names_check_prefix_and_name_parts_separately() {
        let name_msg = format!("name part {KEY_REGEX_MSG}");
        let long_name = "a".repeat(64);
        let cases: Vec<(&str, Vec<String>)> = vec![
            ("app", vec![]),
            ("app.kubernetes.io/name", vec![]),
            ("A_b.c-D", vec![]),
            ("/name", vec!["prefix part must be non-empty".into()]),
            ("example.com/", vec!["name part must be non-empty".into(), name_msg.clone()]),
            ("Example.com/x", vec![format!("prefix part {SUBDOMAIN_MSG}")]),
            ("a b", vec![name_msg.clone()]),
            (long_name.as_str(), vec!["name part must be no more than 63 bytes".into()]),
            (
                "a/b/c",
                vec![format!("a valid label key {KEY_REGEX_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")],
            ),
        ];
        for (input, want) in cases {
            assert_eq!(is_qualified_name(input), want, "{input:?}");
        }
    }

    #[test]
    fn label_values_may_be_empty_but_not_malformed() {
        let msg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
        let long = "a".repeat(64);
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("", vec![]),
            ("v1.2_x-y", vec![]),
            ("-x", vec![msg]),
            ("a b", vec![msg]),
            (long.as_str(), vec!["must be no more than 63 bytes"]),
        ];
        for (input, want) in cases {
            assert_eq!(is_valid_label_value(input), want, "{input:?}");
        }
    }

    #[test]
    fn generated_names_keep_at_most_58_characters_of_the_base_and_add_5_random_ones() {
        let short = generate_name("web-");
        assert_eq!(short.len(), 9);
        assert!(short.starts_with("web-"));
        assert!(short[4..]
            .bytes()
            .all(|b| ALPHANUMS.as_bytes().contains(&b)));
        let long = generate_name(&"x".repeat(80));
        assert_eq!(long.len(), 63);
        assert!(long.starts_with(&"x".repeat(58)));
    }

    #[test]
    fn random_suffixes_use_only_the_upstream_alphabet() {
        let s = random_suffix(200);
        assert_eq!(s.len(), 200);
        assert!(s.bytes().all(|b| ALPHANUMS.as_bytes().contains(&b)));
    }

    #[test]
    fn safe_encoding_maps_each_character_modulo_the_alphabet() {
        let cases: [(&str, &[u8]); 4] = [
            ("", b""),
            ("0", b"4"),
            ("5d8f", b"9zd4"),
            ("\u{e9}", &[b'w', 0]),
        ];
        for (input, want) in cases {
            assert_eq!(safe_encode_string(input).as_bytes(), want, "{input:?}");
        }
    }
}
