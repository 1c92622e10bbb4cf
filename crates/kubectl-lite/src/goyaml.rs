//! YAML exactly as kubectl prints it (sigs.k8s.io/yaml → go-yaml v2 of the JSON object):
//! keys in go-yaml's natural order, sequences in maps not indented, strings that would read
//! back as another type double-quoted, indicator-led strings single-quoted, multi-line
//! strings as literal blocks, long plain/single-quoted strings folded at column 80.

use std::cmp::Ordering;

use serde_json::Value;

use crate::gojson::go_number;

const BEST_WIDTH: usize = 80;

/// The YAML document for `v` (ends with a newline).
pub fn to_string(v: &Value) -> String {
    let mut e = Emitter::default();
    match v {
        Value::Object(m) if !m.is_empty() => e.mapping(m, 0),
        Value::Array(a) if !a.is_empty() => e.sequence(a, 0),
        other => {
            e.scalar(other, 0, false);
            e.out.push('\n');
        }
    }
    e.out
}

/// go-yaml v2's `keyList.Less` for string keys: letters after non-letters, digit runs
/// compared as numbers.
pub fn key_less(a: &str, b: &str) -> Ordering {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

#[derive(Default)]
struct Emitter {
    out: String,
    column: usize,
}

#[derive(PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

impl Emitter {
    fn push(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                self.column = 0;
            } else {
                self.column += 1;
            }
        }
        self.out.push_str(s);
    }

    fn newline_indent(&mut self, indent: usize) {
        self.out.push('\n');
        self.column = 0;
        self.push(&" ".repeat(indent));
    }

    /// A block mapping whose keys start at column `indent`; the cursor is already there.
    fn mapping(&mut self, m: &serde_json::Map<String, Value>, indent: usize) {
        let mut keys: Vec<&String> = m.keys().collect();
        keys.sort_by(|a, b| key_less(a, b));
        for (i, k) in keys.iter().enumerate() {
            if i > 0 {
                self.push(&" ".repeat(indent));
            }
            self.scalar(&Value::String((*k).clone()), indent, true);
            self.push(":");
            self.value_after_key(&m[k.as_str()], indent);
        }
    }

    fn value_after_key(&mut self, v: &Value, indent: usize) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                self.newline_indent(indent + 2);
                self.mapping(m, indent + 2);
            }
            Value::Array(a) if !a.is_empty() => {
                self.newline_indent(indent);
                self.sequence(a, indent);
            }
            other => {
                self.push(" ");
                self.scalar(other, indent + 2, false);
                self.push("\n");
            }
        }
    }

    /// A block sequence whose dashes start at column `indent`; the cursor is already there.
    fn sequence(&mut self, a: &[Value], indent: usize) {
        for (i, item) in a.iter().enumerate() {
            if i > 0 {
                self.push(&" ".repeat(indent));
            }
            self.push("-");
            match item {
                Value::Object(m) if !m.is_empty() => {
                    self.push(" ");
                    self.mapping(m, indent + 2);
                }
                Value::Array(inner) if !inner.is_empty() => {
                    self.push(" ");
                    self.sequence(inner, indent + 2);
                }
                other => {
                    self.push(" ");
                    self.scalar(other, indent + 2, false);
                    self.push("\n");
                }
            }
        }
    }

    /// A scalar (or empty collection); continuation lines go to column `indent`.
    fn scalar(&mut self, v: &Value, indent: usize, simple_key: bool) {
        match v {
            Value::Null => self.push("null"),
            Value::Bool(b) => self.push(if *b { "true" } else { "false" }),
            Value::Number(n) => {
                let s = go_number(n);
                self.push(&s)
            }
            Value::Array(_) => self.push("[]"),
            Value::Object(_) => self.push("{}"),
            Value::String(s) => self.string(s, indent, simple_key),
        }
    }

    fn string(&mut self, s: &str, indent: usize, simple_key: bool) {
        let can_use_plain = resolves_to_str(s) && !is_base60_float(s);
        let mut style = if s.contains('\n') {
            Style::Literal
        } else if can_use_plain {
            Style::Plain
        } else {
            Style::Double
        };
        let a = analyze(s);
        if style == Style::Plain && (!a.block_plain_allowed || (s.is_empty() && simple_key)) {
            style = Style::Single;
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block_allowed || simple_key) {
            style = Style::Double;
        }
        match style {
            Style::Plain => self.write_folded(s, indent, !simple_key, false),
            Style::Single => {
                self.push("'");
                self.write_folded(s, indent, !simple_key, true);
                self.push("'");
            }
            Style::Double => self.write_double(s, indent, !simple_key),
            Style::Literal => self.write_literal(s, indent),
        }
    }

    /// Plain or single-quoted text, breaking at a space once past the best width.
    fn write_folded(&mut self, s: &str, indent: usize, allow_breaks: bool, single: bool) {
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && !next_space
                    && (!single || (i != 0 && i + 1 != chars.len()))
                {
                    self.newline_indent(indent);
                } else {
                    self.push(" ");
                }
                spaces = true;
            } else {
                if single && c == '\'' {
                    self.push("''");
                } else {
                    let mut b = [0u8; 4];
                    self.push(c.encode_utf8(&mut b));
                }
                spaces = false;
            }
            i += 1;
        }
    }

    /// libyaml's double-quoted writer: escapes for non-printable characters, breaks, `"`
    /// and `\\`; folds at a space past the best width (a following space gets a `\\`).
    fn write_double(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.push("\"");
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            let is_break = matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}');
            if !is_printable(c) || c == '\u{feff}' || is_break || c == '"' || c == '\\' {
                let esc = match c {
                    '\0' => "\\0".to_string(),
                    '\u{7}' => "\\a".to_string(),
                    '\u{8}' => "\\b".to_string(),
                    '\t' => "\\t".to_string(),
                    '\n' => "\\n".to_string(),
                    '\u{b}' => "\\v".to_string(),
                    '\u{c}' => "\\f".to_string(),
                    '\r' => "\\r".to_string(),
                    '\u{1b}' => "\\e".to_string(),
                    '"' => "\\\"".to_string(),
                    '\\' => "\\\\".to_string(),
                    '\u{85}' => "\\N".to_string(),
                    '\u{a0}' => "\\_".to_string(),
                    '\u{2028}' => "\\L".to_string(),
                    '\u{2029}' => "\\P".to_string(),
                    c => {
                        let n = c as u32;
                        if n <= 0xff {
                            format!("\\x{n:02X}")
                        } else if n <= 0xffff {
                            format!("\\u{n:04X}")
                        } else {
                            format!("\\U{n:08X}")
                        }
                    }
                };
                self.push(&esc);
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < chars.len()
                {
                    self.newline_indent(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.push("\\");
                    }
                } else {
                    self.push(" ");
                }
                spaces = true;
            } else {
                let mut b = [0u8; 4];
                self.push(c.encode_utf8(&mut b));
                spaces = false;
            }
        }
        self.push("\"");
    }

    fn write_literal(&mut self, s: &str, indent: usize) {
        self.push("|");
        if s.starts_with([' ', '\n']) {
            self.push("2");
        }
        let trailing = s.len() - s.trim_end_matches('\n').len();
        if trailing == 0 {
            self.push("-");
        } else if trailing > 1 || s.len() == 1 {
            self.push("+");
        }
        let body = if trailing > 0 { &s[..s.len() - 1] } else { s };
        for line in body.split('\n') {
            self.out.push('\n');
            self.column = 0;
            if !line.is_empty() {
                self.push(&" ".repeat(indent));
                self.push(line);
            }
        }
    }
}

struct Analysis {
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// go-yaml's `is_printable` (on UTF-8 bytes): no C0/C1 controls but `\n`, no surrogates,
/// no BOM, and nothing outside the Basic Multilingual Plane.
fn is_printable(c: char) -> bool {
    let n = c as u32;
    n == 0x0a
        || (0x20..=0x7e).contains(&n)
        || ((0xa0..=0xd7ff).contains(&n))
        || ((0xe000..=0xfffd).contains(&n) && n != 0xfeff)
}

/// libyaml's `yaml_emitter_analyze_scalar`, reduced to the block context.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = false;
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut previous_space, mut previous_break) =
        (false, false, false, false);
    let mut line_breaks = false;
    let mut special = false;
    if s.starts_with("---") || s.starts_with("...") {
        block_indicators = true;
    }
    let mut preceded_by_ws = true;
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let followed_by_ws = matches!(next, None | Some(' ' | '\t' | '\n' | '\r'));
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == '\n' {
            line_breaks = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == chars.len() {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if c == '\n' || c == '\r' || c == '\u{85}' || c == '\u{2028}' || c == '\u{2029}' {
            if i == 0 {
                leading_break = true;
            }
            if i + 1 == chars.len() {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_ws = matches!(c, ' ' | '\t' | '\n' | '\r');
    }
    let mut a = Analysis {
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// Whether go-yaml v2's `resolve("", s)` gives `!!str` (not null, bool, int, float or
/// timestamp).
fn resolves_to_str(s: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N",
        "no", "No", "NO", "off", "Off", "OFF", "true", "True", "TRUE", "false", "False", "FALSE",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF", "<<",
    ];
    if SPECIAL.contains(&s) {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if !(first.is_ascii_digit() || first == '+' || first == '-' || first == '.') {
        return true;
    }
    if first.is_ascii_digit() && is_timestamp(s) {
        return false;
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if go_parse_int(&plain) {
        return false;
    }
    if is_yaml_float(&plain) {
        return false;
    }
    if let Some(rest) = plain
        .strip_prefix("0b")
        .or_else(|| plain.strip_prefix("-0b"))
    {
        if !rest.is_empty() && rest.chars().all(|c| c == '0' || c == '1') {
            return false;
        }
    }
    true
}

/// `strconv.ParseInt(s, 0, 64)` (or ParseUint) succeeds.
fn go_parse_int(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() {
        return false;
    }
    let (digits, radix) = if let Some(r) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (r, 16)
    } else if let Some(r) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (r, 8)
    } else if let Some(r) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (r, 2)
    } else if body.len() > 1 && body.starts_with('0') {
        (&body[1..], 8)
    } else {
        (body, 10)
    };
    !digits.is_empty() && u64::from_str_radix(digits, radix).is_ok()
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (main, frac) = match body.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (body, None),
    };
    if let Some(f) = frac {
        if !f.chars().all(|c| c.is_ascii_digit() || c == '_') {
            return false;
        }
    }
    let mut parts = main.split(':');
    let head = parts.next().unwrap_or("");
    if !head.starts_with(|c: char| c.is_ascii_digit())
        || !head.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return false;
    }
    let mut n = 0;
    for p in parts {
        n += 1;
        let ok = match p.as_bytes() {
            [d] => d.is_ascii_digit(),
            [a, d] => (b'0'..=b'5').contains(a) && d.is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    n > 0
}

/// go-yaml's `parseTimestamp`: 4 digits, `-`, then a date or date-time layout.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    // 2006-1-2 with optional time part.
    let rest = &s[5..];
    let (date, time) = match rest.find(['T', 't', ' ']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let mut dp = date.split('-');
    let ok_num = |p: Option<&str>, max: u32| {
        p.is_some_and(|p| {
            (1..=2).contains(&p.len())
                && p.chars().all(|c| c.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| (1..=max).contains(&n))
        })
    };
    if !ok_num(dp.next(), 12) || !ok_num(dp.next(), 31) || dp.next().is_some() {
        return false;
    }
    let Some(time) = time else {
        return true;
    };
    // 15:4:5(.fraction)?(Z|±hh:mm)?
    let (clock, zone) = match time.find(['Z', '+', '-']) {
        Some(i) => (&time[..i], &time[i..]),
        None => (time, ""),
    };
    let clock = clock.split('.').next().unwrap_or("");
    let parts: Vec<&str> = clock.split(':').collect();
    if parts.len() != 3
        || !parts
            .iter()
            .all(|p| (1..=2).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit()))
    {
        return false;
    }
    zone.is_empty()
        || zone == "Z"
        || (zone.len() == 6 && zone.as_bytes()[3] == b':')
        || (zone.len() == 3 && zone[1..].chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prints_objects_like_sigs_k8s_io_yaml() {
        let v = json!({
            "metadata": {"name": "x", "resourceVersion": "12", "creationTimestamp": "2026-11-27T22:04:15Z",
                "annotations": {"a": "{\"k\":1}\n", "b": "*", "c": "", "d": "true"}},
            "spec": {"containers": [{"name": "c1", "ports": [{"containerPort": 80}]}], "empty": {}, "list": []},
            "apiVersion": "v1"
        });
        let want = "apiVersion: v1\nmetadata:\n  annotations:\n    a: |\n      {\"k\":1}\n    b: '*'\n    c: \"\"\n    d: \"true\"\n  creationTimestamp: \"2026-11-27T22:04:15Z\"\n  name: x\n  resourceVersion: \"12\"\nspec:\n  containers:\n  - name: c1\n    ports:\n    - containerPort: 80\n  empty: {}\n  list: []\n";
        assert_eq!(to_string(&v), want);
    }

    #[test]
    fn orders_keys_naturally_like_go_yaml() {
        assert_eq!(key_less("a10", "a9"), Ordering::Greater);
        assert_eq!(key_less("app", "app.kubernetes.io/name"), Ordering::Less);
        assert_eq!(key_less("_x", "Ax"), Ordering::Less);
    }

    #[test]
    fn folds_long_plain_strings_at_column_eighty() {
        let long = "word ".repeat(30).trim_end().to_string();
        let out = to_string(&json!({ "message": long }));
        let first = out.lines().next().unwrap();
        assert!(first.len() > 80 && first.len() < 90, "{out}");
        assert!(out.lines().nth(1).unwrap().starts_with("  word"));
    }
}
