//! Field selectors (`fieldSelector=metadata.name=x,status.phase!=Running`): parsing with
//! upstream's escaping rules, matching, and the requirement list the server checks against
//! the fields each resource supports (k8s.io/apimachinery/pkg/fields).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

/// `=` (also written `==`) or `!=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldOperator {
    /// `=` or `==`; upstream reports both as `selection.Equals`.
    Equals,
    /// `!=`
    NotEquals,
}

impl FieldOperator {
    /// Upstream's operator string (`"="` or `"!="`).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldOperator::Equals => "=",
            FieldOperator::NotEquals => "!=",
        }
    }
}

/// One `field op value` term, with the value unescaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRequirement {
    /// The field path, e.g. `metadata.name`.
    pub field: String,
    /// The operator.
    pub operator: FieldOperator,
    /// The unescaped value.
    pub value: String,
}

impl FieldRequirement {
    fn matches(&self, actual: &str) -> bool {
        match self.operator {
            FieldOperator::Equals => actual == self.value,
            FieldOperator::NotEquals => actual != self.value,
        }
    }
}

impl fmt::Display for FieldRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}",
            self.field,
            self.operator.as_str(),
            escape_value(&self.value)
        )
    }
}

/// A field selector error whose `Display` is upstream's error string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSelectorError(String);

impl FieldSelectorError {
    /// The message, as upstream's `err.Error()`.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FieldSelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FieldSelectorError {}

/// A field selector: an AND of requirements, or the selector that matches nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSelector {
    /// `None` is upstream's `fields.Nothing()`.
    terms: Option<Vec<FieldRequirement>>,
}

impl Default for FieldSelector {
    fn default() -> Self {
        FieldSelector::everything()
    }
}

impl FieldSelector {
    /// Matches every object.
    pub fn everything() -> Self {
        FieldSelector {
            terms: Some(Vec::new()),
        }
    }

    /// Matches no object.
    pub fn nothing() -> Self {
        FieldSelector { terms: None }
    }

    /// A single `field=value` term (`OneTermEqualSelector`).
    pub fn one_term_equal(field: &str, value: &str) -> Self {
        FieldSelector {
            terms: Some(vec![FieldRequirement {
                field: field.to_string(),
                operator: FieldOperator::Equals,
                value: value.to_string(),
            }]),
        }
    }

    /// Parses `fields.ParseSelector` syntax: comma-separated `field=value`, `field==value`,
    /// `field!=value`; `\` escapes `\`, `,` and `=` inside values. Terms come out sorted by
    /// their text; terms with an empty field and value are dropped.
    pub fn parse(selector: &str) -> Result<Self, FieldSelectorError> {
        let mut parts = split_terms(selector);
        parts.sort();
        let mut terms = Vec::new();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((lhs, op, rhs)) = split_term(part) else {
                return Err(FieldSelectorError(format!(
                    "invalid selector: '{selector}'; can't understand '{part}'"
                )));
            };
            let value = unescape_value(rhs)?;
            if lhs.is_empty() && value.is_empty() {
                continue;
            }
            terms.push(FieldRequirement {
                field: lhs.to_string(),
                operator: op,
                value,
            });
        }
        Ok(FieldSelector { terms: Some(terms) })
    }

    /// The requirements, in parse order (empty for everything and nothing).
    pub fn requirements(&self) -> &[FieldRequirement] {
        self.terms.as_deref().unwrap_or(&[])
    }

    /// True when the selector does not restrict anything; false for `nothing()`.
    pub fn is_empty(&self) -> bool {
        self.terms.as_ref().is_some_and(Vec::is_empty)
    }

    /// Whether every term holds, reading field values through `get`; an absent field reads
    /// as the empty string, as upstream's `Fields.Get` does.
    pub fn matches(&self, get: &dyn Fn(&str) -> Option<String>) -> bool {
        match &self.terms {
            None => false,
            Some(terms) => terms
                .iter()
                .all(|t| t.matches(get(&t.field).as_deref().unwrap_or(""))),
        }
    }

    /// [`FieldSelector::matches`] against a map of field paths to values.
    pub fn matches_map<M: FieldSet + ?Sized>(&self, fields: &M) -> bool {
        self.matches(&|f| fields.get_field(f).map(str::to_string))
    }

    /// The value a `field=value` term requires, if any (`RequiresExactMatch`).
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.requirements()
            .iter()
            .find(|t| t.field == field && t.operator == FieldOperator::Equals)
            .map(|t| t.value.as_str())
    }
}

/// A map of field paths to values a selector can be matched against.
pub trait FieldSet {
    /// The value of `field`, if present.
    fn get_field(&self, field: &str) -> Option<&str>;
}

impl FieldSet for BTreeMap<String, String> {
    fn get_field(&self, field: &str) -> Option<&str> {
        self.get(field).map(String::as_str)
    }
}

impl<S: std::hash::BuildHasher> FieldSet for HashMap<String, String, S> {
    fn get_field(&self, field: &str) -> Option<&str> {
        self.get(field).map(String::as_str)
    }
}

impl FieldSet for [(&str, &str)] {
    fn get_field(&self, field: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == field).map(|(_, v)| *v)
    }
}

impl fmt::Display for FieldSelector {
    /// Upstream's `String()`: terms joined by `,`, values escaped, `==` shown as `=`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.requirements().iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

impl FromStr for FieldSelector {
    type Err = FieldSelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FieldSelector::parse(s)
    }
}

/// Escapes `\`, `,` and `=` with a backslash (`fields.EscapeValue`).
pub fn escape_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Undoes [`escape_value`] (`fields.UnescapeValue`); an unescaped `,`/`=` or an unknown
/// escape is an error with upstream's text.
pub fn unescape_value(s: &str) -> Result<String, FieldSelectorError> {
    if !s.contains(['\\', ',', '=']) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            if !matches!(c, '\\' | ',' | '=') {
                return Err(FieldSelectorError(format!(
                    "invalid field selector: invalid escape sequence: \\{c}"
                )));
            }
            out.push(c);
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            // Go prints the rune with %v, i.e. as its number.
            ',' | '=' => {
                return Err(FieldSelectorError(format!(
                    "invalid field selector: unescaped character in value: {}",
                    c as u32
                )))
            }
            _ => out.push(c),
        }
    }
    if in_slash {
        return Err(FieldSelectorError(
            "invalid field selector: invalid escape sequence: \\".to_string(),
        ));
    }
    Ok(out)
}

/// Splits on commas not preceded by a backslash escape.
fn split_terms(selector: &str) -> Vec<&str> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in selector.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&selector[start..i]);
            start = i + 1;
        }
    }
    terms.push(&selector[start..]);
    terms
}

/// Splits a term at its first operator, trying `!=`, `==`, `=` at each position.
fn split_term(term: &str) -> Option<(&str, FieldOperator, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (op, kind) in [
            ("!=", FieldOperator::NotEquals),
            ("==", FieldOperator::Equals),
            ("=", FieldOperator::Equals),
        ] {
            if let Some(value) = rest.strip_prefix(op) {
                return Some((&term[..i], kind, value));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_field_selectors_parse_into_sorted_requirements() {
        let cases = [
            ("", ""),
            ("metadata.name=x", "metadata.name=x"),
            ("metadata.name==x", "metadata.name=x"),
            ("status.phase!=Running", "status.phase!=Running"),
            ("b=2,a=1", "a=1,b=2"),
            ("a=", "a="),
            ("=", ""),
            (",a=1,", "a=1"),
            ("a=x\\,y", "a=x\\,y"),
            ("a=x\\=y\\\\z", "a=x\\=y\\\\z"),
            ("spec.nodeName=", "spec.nodeName="),
        ];
        for (input, want) in cases {
            let sel = FieldSelector::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(sel.to_string(), want, "{input:?}");
        }
    }

    #[test]
    fn requirements_expose_field_operator_and_unescaped_value() {
        let sel = FieldSelector::parse("metadata.name==a\\,b,status.phase!=Running").unwrap();
        assert_eq!(
            sel.requirements(),
            [
                FieldRequirement {
                    field: "metadata.name".into(),
                    operator: FieldOperator::Equals,
                    value: "a,b".into()
                },
                FieldRequirement {
                    field: "status.phase".into(),
                    operator: FieldOperator::NotEquals,
                    value: "Running".into()
                },
            ]
        );
        assert_eq!(sel.requires_exact_match("metadata.name"), Some("a,b"));
        assert_eq!(sel.requires_exact_match("status.phase"), None);
    }

    #[test]
    fn malformed_field_selectors_fail_with_upstream_messages() {
        let cases = [
            ("abc", "invalid selector: 'abc'; can't understand 'abc'"),
            ("a=1,b", "invalid selector: 'a=1,b'; can't understand 'b'"),
            (
                "a=b=c",
                "invalid field selector: unescaped character in value: 61",
            ),
            (
                "a=b\\,c,d=e,f",
                "invalid selector: 'a=b\\,c,d=e,f'; can't understand 'f'",
            ),
            (
                "a=\\x",
                "invalid field selector: invalid escape sequence: \\x",
            ),
            (
                "a=x\\",
                "invalid field selector: invalid escape sequence: \\",
            ),
        ];
        for (input, want) in cases {
            let err = FieldSelector::parse(input).expect_err(input);
            assert_eq!(err.message(), want, "{input:?}");
        }
        assert_eq!(
            unescape_value("a,b").unwrap_err().message(),
            "invalid field selector: unescaped character in value: 44"
        );
    }

    #[test]
    fn field_selectors_match_with_absent_fields_reading_as_empty() {
        let fields: &[(&str, &str)] = &[("metadata.name", "web"), ("status.phase", "Running")];
        let cases = [
            ("", true),
            ("metadata.name=web", true),
            ("metadata.name=db", false),
            ("status.phase!=Running", false),
            ("status.phase!=Pending", true),
            ("spec.nodeName=", true),
            ("spec.nodeName!=", false),
            ("metadata.name=web,status.phase=Running", true),
        ];
        for (input, want) in cases {
            let sel = FieldSelector::parse(input).unwrap();
            assert_eq!(sel.matches_map(fields), want, "{input:?}");
        }
        assert!(!FieldSelector::nothing().matches(&|_| None));
        assert!(FieldSelector::everything().is_empty());
        assert!(!FieldSelector::nothing().is_empty());
        assert!(
            FieldSelector::one_term_equal("a", "b").matches(&|f| (f == "a").then(|| "b".into()))
        );
    }

    #[test]
    fn escaping_round_trips_backslashes_commas_and_equals() {
        for s in ["", "plain", "a,b", "a=b", "a\\b", "\\,=\\"] {
            assert_eq!(unescape_value(&escape_value(s)).unwrap(), s);
        }
        assert_eq!(escape_value("a\\b,c=d"), "a\\\\b\\,c\\=d");
    }
}
