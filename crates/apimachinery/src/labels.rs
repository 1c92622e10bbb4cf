//! Label selectors: the string syntax of `labels.Parse`, `metav1.LabelSelector` conversion
//! (`LabelSelectorAsSelector`), matching, and the canonical `String()` form
//! (k8s.io/apimachinery/pkg/labels).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::gofmt::go_quote;
use crate::names::{is_qualified_name, is_valid_label_value};

/// A selector operator (`selection.Operator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `=`
    Equals,
    /// `==`
    DoubleEquals,
    /// `!=`
    NotEquals,
    /// `in (...)`
    In,
    /// `notin (...)`
    NotIn,
    /// bare key
    Exists,
    /// `!key`
    DoesNotExist,
    /// `>`
    GreaterThan,
    /// `<`
    LessThan,
}

impl Operator {
    /// Upstream's string for the operator (`"="`, `"in"`, `"exists"`, `"gt"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

/// The binary operators, in upstream's order, as listed in "expected:" parse errors.
const BINARY_OPERATORS: &str = "in, notin, =, ==, !=, gt, lt";

/// A selector error whose `Display` is upstream's error string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(String);

impl ParseError {
    fn new(msg: impl Into<String>) -> Self {
        ParseError(msg.into())
    }

    /// The message, as upstream's `err.Error()`.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

/// A key → value lookup a selector can be matched against.
pub trait Labels {
    /// The value of `key`, if the label is present.
    fn lookup(&self, key: &str) -> Option<&str>;
}

impl Labels for serde_json::Map<String, Value> {
    fn lookup(&self, key: &str) -> Option<&str> {
        self.get(key).map(|v| v.as_str().unwrap_or(""))
    }
}

impl Labels for BTreeMap<String, String> {
    fn lookup(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl<S: std::hash::BuildHasher> Labels for HashMap<String, String, S> {
    fn lookup(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl Labels for [(&str, &str)] {
    fn lookup(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

/// Labels of a JSON value: an object of strings (e.g. `metadata.labels`); anything else,
/// including null, is the empty set.
impl Labels for Value {
    fn lookup(&self, key: &str) -> Option<&str> {
        self.as_object().and_then(|m| m.lookup(key))
    }
}

/// One `key op values` term of a selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

/// One field error of `NewRequirement`, rendered `path: Invalid value: <json>: detail`.
fn invalid(path: &str, bad_value: &str, detail: &str) -> String {
    format!("{path}: Invalid value: {bad_value}: {detail}")
}

fn json_strings(values: Option<&[String]>) -> String {
    match values {
        None => "null".to_string(),
        Some(v) => serde_json::to_string(v).unwrap_or_default(),
    }
}

/// Upstream's aggregate error text: one error alone, several as `[e1, e2]` (duplicates dropped).
fn aggregate(errors: Vec<String>) -> Option<ParseError> {
    let mut unique: Vec<String> = Vec::new();
    for e in errors {
        if !unique.contains(&e) {
            unique.push(e);
        }
    }
    match unique.len() {
        0 => None,
        1 => Some(ParseError(unique.remove(0))),
        _ => Some(ParseError(format!("[{}]", unique.join(", ")))),
    }
}

impl Requirement {
    /// Builds a validated requirement (`labels.NewRequirement`): the key must be a qualified
    /// name, values valid label values; `in`/`notin` need values, `=`/`==`/`!=` exactly one,
    /// `exists`/`!` none, `gt`/`lt` one integer.
    pub fn new(key: &str, operator: Operator, values: Vec<String>) -> Result<Self, ParseError> {
        Self::build(key, operator, Some(values))
    }

    /// `values == None` stands for a Go nil slice (printed `null` in errors).
    fn build(
        key: &str,
        operator: Operator,
        values: Option<Vec<String>>,
    ) -> Result<Self, ParseError> {
        let mut errors = Vec::new();
        let key_errors = is_qualified_name(key);
        if !key_errors.is_empty() {
            errors.push(invalid("key", &go_quote(key), &key_errors.join("; ")));
        }
        let vals = values.as_deref().unwrap_or(&[]);
        let bad_values = json_strings(values.as_deref());
        match operator {
            Operator::In | Operator::NotIn => {
                if vals.is_empty() {
                    errors.push(invalid(
                        "values",
                        &bad_values,
                        "for 'in', 'notin' operators, values set can't be empty",
                    ));
                }
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals => {
                if vals.len() != 1 {
                    errors.push(invalid(
                        "values",
                        &bad_values,
                        "exact-match compatibility requires one single value",
                    ));
                }
            }
            Operator::Exists | Operator::DoesNotExist => {
                if !vals.is_empty() {
                    errors.push(invalid(
                        "values",
                        &bad_values,
                        "values set must be empty for exists and does not exist",
                    ));
                }
            }
            Operator::GreaterThan | Operator::LessThan => {
                if vals.len() != 1 {
                    errors.push(invalid(
                        "values",
                        &bad_values,
                        "for 'Gt', 'Lt' operators, exactly one value is required",
                    ));
                }
                for (i, v) in vals.iter().enumerate() {
                    if go_parse_int(v).is_none() {
                        errors.push(invalid(
                            &format!("values[{i}]"),
                            &go_quote(v),
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        ));
                    }
                }
            }
        }
        for (i, v) in vals.iter().enumerate() {
            let value_errors = is_valid_label_value(v);
            if !value_errors.is_empty() {
                errors.push(invalid(
                    &format!("values[{i}][{key}]"),
                    &go_quote(v),
                    &value_errors.join("; "),
                ));
            }
        }
        match aggregate(errors) {
            Some(e) => Err(e),
            None => Ok(Requirement {
                key: key.to_string(),
                operator,
                values: values.unwrap_or_default(),
            }),
        }
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values as given (not sorted).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    fn has_value(&self, value: &str) -> bool {
        self.values.iter().any(|v| v == value)
    }

    /// Whether `labels` satisfy this requirement. `notin`/`!=` match when the key is absent;
    /// `gt`/`lt` need the label to parse as an integer.
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                labels.lookup(&self.key).is_some_and(|v| self.has_value(v))
            }
            Operator::NotIn | Operator::NotEquals => {
                labels.lookup(&self.key).is_none_or(|v| !self.has_value(v))
            }
            Operator::Exists => labels.lookup(&self.key).is_some(),
            Operator::DoesNotExist => labels.lookup(&self.key).is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let Some(actual) = labels.lookup(&self.key).and_then(go_parse_int) else {
                    return false;
                };
                let [wanted] = self.values.as_slice() else {
                    return false;
                };
                let Some(wanted) = go_parse_int(wanted) else {
                    return false;
                };
                if self.operator == Operator::GreaterThan {
                    actual > wanted
                } else {
                    actual < wanted
                }
            }
        }
    }
}

/// Go's `strconv.ParseInt(s, 10, 64)`: optional sign, decimal digits.
fn go_parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for Requirement {
    /// Upstream's `Requirement.String()`: `!k`, `k`, `k=v`, `k in (a,b)` with values sorted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let (op, parens) = match self.operator {
            Operator::Equals => ("=", false),
            Operator::DoubleEquals => ("==", false),
            Operator::NotEquals => ("!=", false),
            Operator::In => (" in ", true),
            Operator::NotIn => (" notin ", true),
            Operator::GreaterThan => (">", false),
            Operator::LessThan => ("<", false),
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
        };
        f.write_str(op)?;
        if parens {
            f.write_str("(")?;
        }
        let mut sorted: Vec<&str> = self.values.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        f.write_str(&sorted.join(","))?;
        if parens {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A label selector: an AND of requirements, or the selector that matches nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    /// `None` is upstream's `labels.Nothing()`.
    requirements: Option<Vec<Requirement>>,
}

impl Default for Selector {
    fn default() -> Self {
        Selector::everything()
    }
}

impl Selector {
    /// The selector that matches every object (empty string form).
    pub fn everything() -> Self {
        Selector {
            requirements: Some(Vec::new()),
        }
    }

    /// The selector that matches no object (what a null `metav1.LabelSelector` becomes).
    pub fn nothing() -> Self {
        Selector { requirements: None }
    }

    /// Parses the string syntax of `labels.Parse`, e.g. `app=web,tier in (a,b),!canary`.
    pub fn parse(selector: &str) -> Result<Self, ParseError> {
        let mut requirements = Parser::new(selector).parse()?;
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Selector {
            requirements: Some(requirements),
        })
    }

    /// A selector matching exactly these `key=value` pairs (`SelectorFromSet`, unvalidated).
    pub fn from_set<'a, I>(labels: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut requirements: Vec<Requirement> = labels
            .into_iter()
            .map(|(k, v)| Requirement {
                key: k.to_string(),
                operator: Operator::Equals,
                values: vec![v.to_string()],
            })
            .collect();
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Selector {
            requirements: Some(requirements),
        }
    }

    /// Converts a `metav1.LabelSelector` JSON value (`LabelSelectorAsSelector`): null matches
    /// nothing, `{}` (no labels, no expressions) matches everything; `matchLabels` become `=`
    /// requirements and `matchExpressions` use `In`/`NotIn`/`Exists`/`DoesNotExist`.
    pub fn from_label_selector(selector: &Value) -> Result<Self, ParseError> {
        let obj = match selector {
            Value::Null => return Ok(Selector::nothing()),
            Value::Object(o) => o,
            other => {
                return Err(ParseError::new(format!(
                    "json: cannot unmarshal {} into Go value of type v1.LabelSelector",
                    json_kind(other)
                )))
            }
        };
        let empty = serde_json::Map::new();
        let match_labels = match obj.get("matchLabels") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(m)) => m,
            Some(other) => {
                return Err(ParseError::new(format!(
                    "json: cannot unmarshal {} into Go struct field LabelSelector.matchLabels of type map[string]string",
                    json_kind(other)
                )))
            }
        };
        let no_exprs = Vec::new();
        let expressions = match obj.get("matchExpressions") {
            None | Some(Value::Null) => &no_exprs,
            Some(Value::Array(a)) => a,
            Some(other) => {
                return Err(ParseError::new(format!(
                    "json: cannot unmarshal {} into Go struct field LabelSelector.matchExpressions of type []v1.LabelSelectorRequirement",
                    json_kind(other)
                )))
            }
        };
        if match_labels.is_empty() && expressions.is_empty() {
            return Ok(Selector::everything());
        }
        let mut requirements = Vec::with_capacity(match_labels.len() + expressions.len());
        for (k, v) in match_labels {
            let Some(v) = v.as_str() else {
                return Err(ParseError::new(format!(
                    "json: cannot unmarshal {} into Go struct field LabelSelector.matchLabels of type string",
                    json_kind(v)
                )));
            };
            requirements.push(Requirement::build(
                k,
                Operator::Equals,
                Some(vec![v.to_string()]),
            )?);
        }
        for expr in expressions {
            let key = expr.get("key").and_then(Value::as_str).unwrap_or("");
            let op_name = expr.get("operator").and_then(Value::as_str).unwrap_or("");
            let operator = match op_name {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(ParseError::new(format!(
                        "{} is not a valid label selector operator",
                        go_quote(other)
                    )))
                }
            };
            let values: Option<Vec<String>> = match expr.get("values") {
                Some(Value::Array(items)) if !items.is_empty() => Some(
                    items
                        .iter()
                        .map(|v| v.as_str().unwrap_or_default().to_string())
                        .collect(),
                ),
                _ => None,
            };
            requirements.push(Requirement::build(key, operator, values)?);
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Selector {
            requirements: Some(requirements),
        })
    }

    /// True when the selector does not restrict anything (`Empty()`); false for `nothing()`.
    pub fn is_empty(&self) -> bool {
        self.requirements.as_ref().is_some_and(Vec::is_empty)
    }

    /// True only for [`Selector::nothing`].
    pub fn matches_nothing(&self) -> bool {
        self.requirements.is_none()
    }

    /// The requirements, sorted by key (empty for `nothing()`).
    pub fn requirements(&self) -> &[Requirement] {
        self.requirements.as_deref().unwrap_or(&[])
    }

    /// Adds a requirement, keeping requirements sorted by key (`Selector.Add`).
    pub fn add_requirement(mut self, requirement: Requirement) -> Self {
        if let Some(reqs) = self.requirements.as_mut() {
            reqs.push(requirement);
            reqs.sort_by(|a, b| a.key.cmp(&b.key));
        }
        self
    }

    /// Whether every requirement matches `labels` (never for `nothing()`).
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        match &self.requirements {
            None => false,
            Some(reqs) => reqs.iter().all(|r| r.matches(labels)),
        }
    }

    /// The single value the selector requires for `label`, if any (`RequiresExactMatch`).
    pub fn requires_exact_match(&self, label: &str) -> Option<&str> {
        let r = self.requirements().iter().find(|r| r.key == label)?;
        match (r.operator, r.values.as_slice()) {
            (Operator::Equals | Operator::DoubleEquals | Operator::In, [v]) => Some(v),
            _ => None,
        }
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl fmt::Display for Selector {
    /// Upstream's `String()`: requirements joined by `,` (empty for everything and nothing).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements().iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl FromStr for Selector {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Selector::parse(s)
    }
}

/// Lexer tokens of the selector syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    Error,
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

fn keyword(s: &[u8]) -> Option<Token> {
    Some(match s {
        b")" => Token::ClosedPar,
        b"," => Token::Comma,
        b"!" => Token::DoesNotExist,
        b"==" => Token::DoubleEquals,
        b"=" => Token::Equals,
        b">" => Token::GreaterThan,
        b"in" => Token::In,
        b"<" => Token::LessThan,
        b"!=" => Token::NotEquals,
        b"notin" => Token::NotIn,
        b"(" => Token::OpenPar,
        _ => return None,
    })
}

fn is_whitespace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(c: u8) -> bool {
    matches!(c, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

/// Byte lexer mirroring upstream's: a NUL byte reads like the end of input.
struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Lexer<'_> {
    fn read(&mut self) -> u8 {
        if self.pos < self.s.len() {
            self.pos += 1;
            self.s[self.pos - 1]
        } else {
            0
        }
    }

    fn unread(&mut self) {
        self.pos -= 1;
    }

    fn lex(&mut self) -> (Token, String) {
        let mut ch = self.read();
        while is_whitespace(ch) {
            ch = self.read();
        }
        if ch == 0 {
            (Token::EndOfString, String::new())
        } else if is_special(ch) {
            self.unread();
            self.scan_special()
        } else {
            self.unread();
            self.scan_identifier()
        }
    }

    fn scan_identifier(&mut self) -> (Token, String) {
        let mut buf = Vec::new();
        loop {
            let ch = self.read();
            if ch == 0 {
                break;
            }
            if is_special(ch) || is_whitespace(ch) {
                self.unread();
                break;
            }
            buf.push(ch);
        }
        let lit = String::from_utf8_lossy(&buf).into_owned();
        match keyword(&buf) {
            Some(tok) => (tok, lit),
            None => (Token::Identifier, lit),
        }
    }

    fn scan_special(&mut self) -> (Token, String) {
        let mut buf = Vec::new();
        let mut last: Option<(Token, String)> = None;
        loop {
            let ch = self.read();
            if ch == 0 {
                break;
            }
            if !is_special(ch) {
                self.unread();
                break;
            }
            buf.push(ch);
            if let Some(tok) = keyword(&buf) {
                last = Some((tok, String::from_utf8_lossy(&buf).into_owned()));
            } else if last.is_some() {
                self.unread();
                break;
            }
        }
        last.unwrap_or_else(|| {
            (
                Token::Error,
                format!(
                    "error expected: keyword found '{}'",
                    String::from_utf8_lossy(&buf)
                ),
            )
        })
    }
}

/// Whether `in`/`notin` read as operators (after a key) or as plain values.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

struct Parser {
    items: Vec<(Token, String)>,
    position: usize,
}

impl Parser {
    fn new(selector: &str) -> Self {
        let mut lexer = Lexer {
            s: selector.as_bytes(),
            pos: 0,
        };
        let mut items = Vec::new();
        loop {
            let item = lexer.lex();
            let end = item.0 == Token::EndOfString;
            items.push(item);
            if end {
                break;
            }
        }
        Parser { items, position: 0 }
    }

    fn adjust(tok: Token, ctx: Context) -> Token {
        match (ctx, tok) {
            (Context::Values, Token::In | Token::NotIn) => Token::Identifier,
            _ => tok,
        }
    }

    fn lookahead(&self, ctx: Context) -> (Token, String) {
        let (tok, lit) = &self.items[self.position.min(self.items.len() - 1)];
        (Self::adjust(*tok, ctx), lit.clone())
    }

    fn consume(&mut self, ctx: Context) -> (Token, String) {
        let item = self.lookahead(ctx);
        self.position += 1;
        item
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, ParseError> {
        let mut requirements = Vec::new();
        loop {
            let (tok, lit) = self.lookahead(Context::Values);
            match tok {
                Token::Identifier | Token::DoesNotExist => {
                    let r = self.parse_requirement().map_err(|e| {
                        ParseError::new(format!("unable to parse requirement: {e}"))
                    })?;
                    requirements.push(r);
                    let (t, l) = self.consume(Context::Values);
                    match t {
                        Token::EndOfString => return Ok(requirements),
                        Token::Comma => {
                            let (t2, l2) = self.lookahead(Context::Values);
                            if t2 != Token::Identifier && t2 != Token::DoesNotExist {
                                return Err(ParseError::new(format!(
                                    "found '{l2}', expected: identifier after ','"
                                )));
                            }
                        }
                        _ => {
                            return Err(ParseError::new(format!(
                                "found '{l}', expected: ',' or 'end of string'"
                            )))
                        }
                    }
                }
                Token::EndOfString => return Ok(requirements),
                _ => {
                    return Err(ParseError::new(format!(
                        "found '{lit}', expected: !, identifier, or 'end of string'"
                    )))
                }
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, ParseError> {
        let (key, operator) = self.parse_key_and_infer_operator()?;
        if let Some(op @ (Operator::Exists | Operator::DoesNotExist)) = operator {
            return Requirement::build(&key, op, Some(Vec::new()));
        }
        let operator = self.parse_operator()?;
        let values = match operator {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        Requirement::build(&key, operator, Some(values))
    }

    fn parse_key_and_infer_operator(&mut self) -> Result<(String, Option<Operator>), ParseError> {
        let mut operator = None;
        let (mut tok, mut lit) = self.consume(Context::Values);
        if tok == Token::DoesNotExist {
            operator = Some(Operator::DoesNotExist);
            (tok, lit) = self.consume(Context::Values);
        }
        if tok != Token::Identifier {
            return Err(ParseError::new(format!(
                "found '{lit}', expected: identifier"
            )));
        }
        let key_errors = is_qualified_name(&lit);
        if !key_errors.is_empty() {
            return Err(ParseError::new(invalid(
                "<nil>",
                &go_quote(&lit),
                &key_errors.join("; "),
            )));
        }
        let (next, _) = self.lookahead(Context::Values);
        if (next == Token::EndOfString || next == Token::Comma) && operator.is_none() {
            operator = Some(Operator::Exists);
        }
        Ok((lit, operator))
    }

    fn parse_operator(&mut self) -> Result<Operator, ParseError> {
        let (tok, lit) = self.consume(Context::KeyAndOperator);
        Ok(match tok {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            _ => {
                return Err(ParseError::new(format!(
                    "found '{lit}', expected: {BINARY_OPERATORS}"
                )))
            }
        })
    }

    /// `(a,b,...)`; returns the values sorted and deduplicated, like upstream's string set.
    fn parse_values(&mut self) -> Result<Vec<String>, ParseError> {
        let (tok, lit) = self.consume(Context::Values);
        if tok != Token::OpenPar {
            return Err(ParseError::new(format!("found '{lit}' expected: '('")));
        }
        let (tok, lit) = self.lookahead(Context::Values);
        match tok {
            Token::Identifier | Token::Comma => {
                let values = self.parse_identifiers_list()?;
                let (tok, _) = self.consume(Context::Values);
                if tok != Token::ClosedPar {
                    return Err(ParseError::new(format!("found '{lit}', expected: ')'")));
                }
                Ok(values)
            }
            Token::ClosedPar => {
                self.consume(Context::Values);
                Ok(vec![String::new()])
            }
            _ => Err(ParseError::new(format!(
                "found '{lit}', expected: ',', ')' or identifier"
            ))),
        }
    }

    fn parse_identifiers_list(&mut self) -> Result<Vec<String>, ParseError> {
        let mut set = std::collections::BTreeSet::new();
        loop {
            let (tok, lit) = self.consume(Context::Values);
            match tok {
                Token::Identifier => {
                    set.insert(lit);
                    let (tok2, lit2) = self.lookahead(Context::Values);
                    match tok2 {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(set.into_iter().collect()),
                        _ => {
                            return Err(ParseError::new(format!(
                                "found '{lit2}', expected: ',' or ')'"
                            )))
                        }
                    }
                }
                Token::Comma => {
                    if set.is_empty() {
                        set.insert(String::new());
                    }
                    let (tok2, _) = self.lookahead(Context::Values);
                    if tok2 == Token::ClosedPar {
                        set.insert(String::new());
                        return Ok(set.into_iter().collect());
                    }
                    if tok2 == Token::Comma {
                        set.insert(String::new());
                    }
                }
                _ => {
                    return Err(ParseError::new(format!(
                        "found '{lit}', expected: ',', or identifier"
                    )))
                }
            }
        }
    }

    fn parse_exact_value(&mut self) -> Result<Vec<String>, ParseError> {
        let (tok, _) = self.lookahead(Context::Values);
        if tok == Token::EndOfString || tok == Token::Comma {
            return Ok(vec![String::new()]);
        }
        let (tok, lit) = self.consume(Context::Values);
        if tok == Token::Identifier {
            return Ok(vec![lit]);
        }
        Err(ParseError::new(format!(
            "found '{lit}', expected: identifier"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn valid_selectors_parse_and_print_in_canonical_form() {
        let cases = [
            ("", ""),
            ("x=a", "x=a"),
            ("x==a", "x==a"),
            ("x!=a", "x!=a"),
            ("  x = a  ,  y  ", "x=a,y"),
            ("y,x=a", "x=a,y"),
            ("!x", "!x"),
            ("x in (b,a,a)", "x in (a,b)"),
            ("x notin (a)", "x notin (a)"),
            ("x in ()", "x in ()"),
            ("x in (,a)", "x in (,a)"),
            ("x in (in)", "x in (in)"),
            ("x>1,y<20", "x>1,y<20"),
            ("x=", "x="),
            ("x=,z= ", "x=,z="),
            ("example.com/app=web", "example.com/app=web"),
            ("x=a,\n\ty=b", "x=a,y=b"),
        ];
        for (input, want) in cases {
            let sel = Selector::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(sel.to_string(), want, "{input:?}");
        }
    }

    #[test]
    fn malformed_selectors_fail_with_upstream_messages() {
        let key_msg = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
        let value_msg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
        let cases: Vec<(&str, String)> = vec![
            ("x y", "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt".into()),
            ("x=a,", "found '', expected: identifier after ','".into()),
            (",x", "found ',', expected: !, identifier, or 'end of string'".into()),
            ("x=a=b", "found '=', expected: ',' or 'end of string'".into()),
            ("x in a", "unable to parse requirement: found 'a' expected: '('".into()),
            ("x in (a", "unable to parse requirement: found '', expected: ',' or ')'".into()),
            ("x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'".into()),
            ("x in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier".into()),
            ("x=(", "unable to parse requirement: found '(', expected: identifier".into()),
            ("!x=a", "found '=', expected: ',' or 'end of string'".into()),
            ("x<-2", "unable to parse requirement: values[0][x]: Invalid value: \"-2\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".into()),
            ("x>a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer".into()),
            ("x=a b", "found 'b', expected: ',' or 'end of string'".into()),
            ("x=a\ty=b", "found 'y', expected: ',' or 'end of string'".into()),
            ("-x=a", format!("unable to parse requirement: <nil>: Invalid value: \"-x\": {key_msg}")),
            ("x=-a", format!("unable to parse requirement: values[0][x]: Invalid value: \"-a\": {value_msg}")),
            ("x!!a", "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt".into()),
        ];
        for (input, want) in cases {
            let err = Selector::parse(input).expect_err(input);
            assert_eq!(err.to_string(), want, "{input:?}");
        }
    }

    #[test]
    fn selectors_match_labels_by_operator() {
        let l = labels(&[("app", "web"), ("tier", "front"), ("n", "5")]);
        let cases = [
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app=db", false),
            ("app!=db", true),
            ("missing!=x", true),
            ("app in (db,web)", true),
            ("app notin (db,web)", false),
            ("missing notin (a)", true),
            ("missing in (a)", false),
            ("app", true),
            ("missing", false),
            ("!missing", true),
            ("!app", false),
            ("n>4", true),
            ("n>5", false),
            ("n<6", true),
            ("app>1", false),
            ("missing<1", false),
            ("app=web,tier=back", false),
            ("app=web,tier=front", true),
        ];
        for (input, want) in cases {
            let sel = Selector::parse(input).unwrap();
            assert_eq!(sel.matches(&l), want, "{input:?}");
        }
        let json_labels = json!({"app": "web"});
        assert!(Selector::parse("app=web").unwrap().matches(&json_labels));
        assert!(!Selector::parse("app").unwrap().matches(&Value::Null));
    }

    #[test]
    fn everything_and_nothing_differ_in_emptiness_and_matching() {
        let l = labels(&[("a", "b")]);
        assert!(Selector::everything().is_empty());
        assert!(Selector::everything().matches(&l));
        assert!(!Selector::nothing().is_empty());
        assert!(!Selector::nothing().matches(&l));
        assert!(Selector::nothing().matches_nothing());
        assert_eq!(Selector::nothing().to_string(), "");
        assert!(Selector::parse("").unwrap().is_empty());
        assert!(!Selector::parse("a").unwrap().is_empty());
    }

    #[test]
    fn label_selector_objects_convert_like_label_selector_as_selector() {
        let cases: Vec<(Value, Result<&str, &str>)> = vec![
            (json!(null), Ok("")),
            (json!({}), Ok("")),
            (json!({"matchLabels": {}}), Ok("")),
            (json!({"matchLabels": {"b": "2", "a": "1"}}), Ok("a=1,b=2")),
            (
                json!({"matchLabels": {"app": "web"}, "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["z", "a"]},
                    {"key": "env", "operator": "NotIn", "values": ["prod"]},
                    {"key": "x", "operator": "Exists"},
                    {"key": "canary", "operator": "DoesNotExist", "values": []}
                ]}),
                Ok("app=web,!canary,env notin (prod),tier in (a,z),x"),
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}),
                Err("\"Gt\" is not a valid label selector operator"),
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "In"}]}),
                Err("values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"),
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}),
                Err("values: Invalid value: [\"x\"]: values set must be empty for exists and does not exist"),
            ),
            (
                json!({"matchExpressions": [{"key": "a b", "operator": "In", "values": ["-x"]}]}),
                Err("[key: Invalid value: \"a b\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'), values[0][a b]: Invalid value: \"-x\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')]"),
            ),
        ];
        for (input, want) in cases {
            let got = Selector::from_label_selector(&input);
            match (got, want) {
                (Ok(sel), Ok(s)) => assert_eq!(sel.to_string(), s, "{input}"),
                (Err(e), Err(m)) => assert_eq!(e.message(), m, "{input}"),
                (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
            }
        }
        let l = labels(&[("a", "1")]);
        assert!(!Selector::from_label_selector(&json!(null))
            .unwrap()
            .matches(&l));
        assert!(Selector::from_label_selector(&json!({}))
            .unwrap()
            .matches(&l));
    }

    #[test]
    fn label_selector_string_form_sorts_values_without_deduplicating() {
        let sel = Selector::from_label_selector(
            &json!({"matchExpressions": [{"key": "k", "operator": "In", "values": ["b", "a", "b"]}]}),
        )
        .unwrap();
        assert_eq!(sel.to_string(), "k in (a,b,b)");
        assert_eq!(sel.requirements()[0].values(), ["b", "a", "b"]);
    }

    #[test]
    fn exact_match_is_reported_for_single_value_equality_and_in() {
        let sel = Selector::parse("a=1,b in (2),c in (3,4),d!=5").unwrap();
        assert_eq!(sel.requires_exact_match("a"), Some("1"));
        assert_eq!(sel.requires_exact_match("b"), Some("2"));
        assert_eq!(sel.requires_exact_match("c"), None);
        assert_eq!(sel.requires_exact_match("d"), None);
        assert_eq!(sel.requires_exact_match("z"), None);
    }

    #[test]
    fn sets_and_added_requirements_stay_sorted_by_key() {
        let sel = Selector::from_set([("b", "2"), ("a", "1")]);
        assert_eq!(sel.to_string(), "a=1,b=2");
        let sel = sel.add_requirement(Requirement::new("aa", Operator::Exists, vec![]).unwrap());
        assert_eq!(sel.to_string(), "a=1,aa,b=2");
        assert_eq!(
            Requirement::new("x", Operator::Equals, vec![])
                .unwrap_err()
                .message(),
            "values: Invalid value: []: exact-match compatibility requires one single value"
        );
    }
}
