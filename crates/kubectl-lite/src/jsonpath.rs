//! kubectl's JSONPath (`-o jsonpath=TEMPLATE`) and `-o custom-columns=SPEC`: the subset
//! of client-go's `util/jsonpath` that people type — fields, `['key']`, indexes (negative
//! too), slices, `[*]`, `.*`, `..field`, string literals, `range`/`end` — with its printing
//! rules (strings raw, maps and lists as compact JSON, the results of one `{}` separated by
//! spaces, missing keys allowed), and filters `[?(@.a.b == "x")]` with `==`, `!=`, `<`, `>`,
//! `<=`, `>=` against a literal or another path, or existence `[?(@.status)]`.

use anyhow::{anyhow, Result};
use serde_json::Value;

use crate::gojson;
use crate::table::tabwrite;

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Field(String),
    Index(i64),
    Slice(Option<i64>, Option<i64>),
    All,
    Recursive(String),
    Filter(Box<Filter>),
}

/// `[?(LEFT OP RIGHT)]`, or `[?(LEFT)]` (existence) when `op` is `None`.
#[derive(Clone, Debug, PartialEq)]
struct Filter {
    left: Vec<Step>,
    op: Option<String>,
    right: Operand,
}

#[derive(Clone, Debug, PartialEq)]
enum Operand {
    Path(Vec<Step>),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// Splits a filter's text as client-go's `^([^!<>=]+)([!<>=]+)(.+?)$` does.
fn parse_filter(text: &str) -> Result<Filter> {
    let is_op = |c: char| "!<>=".contains(c);
    let Some(start) = text.find(is_op).filter(|&i| i > 0) else {
        return Ok(Filter {
            left: parse_path(text)?,
            op: None,
            right: Operand::Bool(true),
        });
    };
    let end = text[start..]
        .find(|c: char| !is_op(c))
        .map_or(text.len(), |i| start + i);
    let (left, op, right) = (&text[..start], &text[start..end], text[end..].trim());
    if right.is_empty() {
        return Err(anyhow!("unrecognized filter: {text}"));
    }
    let right = if let Some(q) = right
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .or_else(|| right.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')))
    {
        Operand::Str(unquote(q))
    } else if right == "true" || right == "false" {
        Operand::Bool(right == "true")
    } else if let Ok(i) = right.parse::<i64>() {
        Operand::Int(i)
    } else if let Ok(f) = right.parse::<f64>() {
        Operand::Float(f)
    } else {
        Operand::Path(parse_path(right)?)
    };
    Ok(Filter {
        left: parse_path(left)?,
        op: Some(op.to_string()),
        right,
    })
}

/// The end (index of `]`) of a filter starting at `[?(`: the first `)` outside quotes.
fn filter_end(chars: &[char], open: usize) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut i = open + 3;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) if c == q && chars[i - 1] != '\\' => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == ')' => return (chars.get(i + 1) == Some(&']')).then_some(i + 1),
            None => {}
        }
        i += 1;
    }
    None
}

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Text(String),
    Path(Vec<Step>),
    Range(Vec<Step>),
    End,
}

fn parse_path(expr: &str) -> Result<Vec<Step>> {
    let bad = || anyhow!("unrecognized character in action: {expr}");
    let s = expr.trim();
    let s = s
        .strip_prefix('$')
        .or_else(|| s.strip_prefix('@'))
        .unwrap_or(s);
    let chars: Vec<char> = s.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    let ident = |i: &mut usize| {
        let start = *i;
        while *i < chars.len() && !matches!(chars[*i], '.' | '[') {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>()
    };
    while i < chars.len() {
        match chars[i] {
            '.' if chars.get(i + 1) == Some(&'.') => {
                i += 2;
                steps.push(Step::Recursive(ident(&mut i)));
            }
            '.' => {
                i += 1;
                let name = ident(&mut i);
                steps.push(if name == "*" {
                    Step::All
                } else {
                    Step::Field(name)
                });
            }
            '[' if chars[i..].starts_with(&['[', '?', '(']) => {
                let close = filter_end(&chars, i).ok_or_else(|| anyhow!("unterminated filter"))?;
                let text: String = chars[i + 3..close - 1].iter().collect();
                steps.push(Step::Filter(Box::new(parse_filter(&text)?)));
                i = close + 1;
            }
            '[' => {
                let close = chars[i..].iter().position(|&c| c == ']').ok_or_else(bad)? + i;
                let inner: String = chars[i + 1..close].iter().collect();
                let inner = inner.trim();
                i = close + 1;
                if inner == "*" {
                    steps.push(Step::All);
                } else if let Some(q) = inner
                    .strip_prefix('\'')
                    .and_then(|r| r.strip_suffix('\''))
                    .or_else(|| inner.strip_prefix('"').and_then(|r| r.strip_suffix('"')))
                {
                    steps.push(Step::Field(q.to_string()));
                } else if let Some((a, b)) = inner.split_once(':') {
                    let num = |t: &str| -> Result<Option<i64>> {
                        let t = t.split(':').next().unwrap_or("").trim();
                        if t.is_empty() {
                            Ok(None)
                        } else {
                            t.parse().map(Some).map_err(|_| bad())
                        }
                    };
                    steps.push(Step::Slice(num(a)?, num(b)?));
                } else {
                    steps.push(Step::Index(inner.parse().map_err(|_| bad())?));
                }
            }
            _ => steps.push(Step::Field(ident(&mut i))),
        }
    }
    Ok(steps)
}

fn unquote(lit: &str) -> String {
    let mut out = String::new();
    let mut it = lit.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn parse(template: &str) -> Result<Vec<Node>> {
    let mut nodes = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            nodes.push(Node::Text(rest[..open].to_string()));
        }
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| anyhow!("unclosed action"))?
            + open;
        let action = rest[open + 1..close].trim();
        nodes.push(if action == "end" {
            Node::End
        } else if let Some(p) = action.strip_prefix("range ") {
            Node::Range(parse_path(p)?)
        } else if let Some(lit) = action.strip_prefix('"').and_then(|a| a.strip_suffix('"')) {
            Node::Text(unquote(lit))
        } else {
            Node::Path(parse_path(action)?)
        });
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        nodes.push(Node::Text(rest.to_string()));
    }
    Ok(nodes)
}

fn recurse<'a>(v: &'a Value, name: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.get(name) {
                out.push(x);
            }
            for x in m.values() {
                recurse(x, name, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| recurse(x, name, out)),
        _ => {}
    }
}

/// A JSON value against a filter operand, as Go templates' `eq`/`lt` compare: strings
/// with strings, integers with integers, floats with floats; bools only for equality.
fn compare(left: &Value, op: &str, right: &Value) -> Result<bool> {
    use std::cmp::Ordering;
    let incompatible = || anyhow!("incompatible types for comparison");
    let ord: Option<Ordering> = match (left, right) {
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            (None, None) => a
                .as_f64()
                .zip(b.as_f64())
                .and_then(|(x, y)| x.partial_cmp(&y)),
            _ => return Err(incompatible()),
        },
        (Value::Bool(a), Value::Bool(b)) => match op {
            "==" => return Ok(a == b),
            "!=" => return Ok(a != b),
            _ => return Err(anyhow!("invalid type for comparison")),
        },
        (Value::Null, _) | (_, Value::Null) => return Err(anyhow!("invalid type for comparison")),
        (Value::Object(_) | Value::Array(_), _) | (_, Value::Object(_) | Value::Array(_)) => {
            return Err(anyhow!("invalid type for comparison"))
        }
        _ => return Err(incompatible()),
    };
    let Some(ord) = ord else { return Ok(false) };
    Ok(match op {
        "==" => ord == Ordering::Equal,
        "!=" => ord != Ordering::Equal,
        "<" => ord == Ordering::Less,
        ">" => ord == Ordering::Greater,
        "<=" => ord != Ordering::Greater,
        ">=" => ord != Ordering::Less,
        other => return Err(anyhow!("unrecognized filter operator {other}")),
    })
}

/// Whether one element passes a filter (client-go's `evalFilter`: no value on either side
/// drops the element, more than one is an error).
fn passes(elem: &Value, f: &Filter) -> Result<bool> {
    let lefts = eval(elem, &f.left)?;
    let Some(op) = &f.op else {
        return Ok(!lefts.is_empty());
    };
    let left = match lefts.as_slice() {
        [] => return Ok(false),
        [one] => *one,
        _ => return Err(anyhow!("can only compare one element at a time")),
    };
    let literal;
    let right = match &f.right {
        Operand::Path(p) => match eval(elem, p)?.as_slice() {
            [] => return Ok(false),
            [one] => *one,
            _ => return Err(anyhow!("can only compare one element at a time")),
        },
        Operand::Str(s) => {
            literal = Value::String(s.clone());
            &literal
        }
        Operand::Int(i) => {
            literal = Value::from(*i);
            &literal
        }
        Operand::Float(x) => {
            literal = serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number);
            &literal
        }
        Operand::Bool(b) => {
            literal = Value::Bool(*b);
            &literal
        }
    };
    compare(left, op, right)
}

fn eval<'a>(root: &'a Value, steps: &[Step]) -> Result<Vec<&'a Value>> {
    let mut cur = vec![root];
    for step in steps {
        let mut next = Vec::new();
        for v in cur {
            match step {
                Step::Field(f) if f.is_empty() => next.push(v),
                Step::Field(f) => next.extend(v.get(f.as_str())),
                Step::All => match v {
                    Value::Array(a) => next.extend(a.iter()),
                    Value::Object(m) => next.extend(m.values()),
                    _ => {}
                },
                Step::Index(i) => {
                    if let Some(a) = v.as_array() {
                        let idx = if *i < 0 { a.len() as i64 + i } else { *i };
                        next.extend(usize::try_from(idx).ok().and_then(|k| a.get(k)));
                    }
                }
                Step::Slice(from, to) => {
                    if let Some(a) = v.as_array() {
                        let len = a.len() as i64;
                        let clamp = |x: i64| (if x < 0 { len + x } else { x }).clamp(0, len);
                        let from = clamp(from.unwrap_or(0)) as usize;
                        let to = clamp(to.unwrap_or(len)) as usize;
                        if from < to {
                            next.extend(a[from..to].iter());
                        }
                    }
                }
                Step::Recursive(name) => recurse(v, name, &mut next),
                Step::Filter(f) => {
                    let Some(items) = v.as_array() else {
                        return Err(anyhow!(
                            "{} is not array or slice and cannot be filtered",
                            go_v(v)
                        ));
                    };
                    for item in items {
                        if passes(item, f)? {
                            next.push(item);
                        }
                    }
                }
            }
        }
        cur = next;
    }
    Ok(cur)
}

/// A value as `fmt.Sprint` (custom-columns) or jsonpath's text: strings raw, the rest JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => gojson::go_number(n),
        Value::Null => "<nil>".to_string(),
        other => gojson::to_string_compact(other),
    }
}

fn execute(nodes: &[Node], data: &Value, out: &mut String) -> Result<()> {
    let mut i = 0;
    while i < nodes.len() {
        match &nodes[i] {
            Node::Text(t) => out.push_str(t),
            Node::Path(p) => {
                let results: Vec<String> = eval(data, p)?.into_iter().map(text).collect();
                out.push_str(&results.join(" "));
            }
            Node::Range(p) => {
                // The body runs up to the matching `end`.
                let mut depth = 0;
                let mut j = i + 1;
                while j < nodes.len() {
                    match nodes[j] {
                        Node::Range(_) => depth += 1,
                        Node::End if depth == 0 => break,
                        Node::End => depth -= 1,
                        _ => {}
                    }
                    j += 1;
                }
                if j == nodes.len() {
                    return Err(anyhow!("not in range, nothing to end"));
                }
                for item in eval(data, p)? {
                    execute(&nodes[i + 1..j], item, out)?;
                }
                i = j;
            }
            Node::End => return Err(anyhow!("not in range, nothing to end")),
        }
        i += 1;
    }
    Ok(())
}

/// `-o jsonpath=TEMPLATE` applied to `data` (an object, or kubectl's `List`).
pub fn render(template: &str, data: &Value) -> Result<String> {
    let nodes = parse(template)?;
    let mut out = String::new();
    execute(&nodes, data, &mut out)?;
    Ok(out)
}

/// `-o jsonpath=` as `kubectl get` runs it: an execution error carries kubectl's
/// debugging text (the template, and the object in Go's `%#v` syntax).
pub fn render_for_get(template: &str, data: &Value) -> Result<String> {
    // Parse errors are reported as they are; only execution gets the debugging text.
    parse(template)?;
    render(template, data).map_err(|e| {
        anyhow!(
            "error executing jsonpath {}: Error executing template: {e}. Printing more information for debugging the template:\n\ttemplate was:\n\t\t{template}\n\tobject given to jsonpath engine was:\n\t\t{}\n\n",
            apimachinery::go_quote(template),
            go_sharp_v(data)
        )
    })
}

/// Go's `%#v` of a decoded JSON value (`map[string]interface {}{"k":1}`, keys sorted).
pub fn go_sharp_v(v: &Value) -> String {
    match v {
        Value::Null => "interface {}(nil)".to_string(),
        Value::String(s) => apimachinery::go_quote(s),
        Value::Number(n) => gojson::go_number(n),
        Value::Bool(b) => b.to_string(),
        Value::Array(a) => format!(
            "[]interface {{}}{{{}}}",
            a.iter().map(go_sharp_v).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        apimachinery::go_quote(k),
                        go_sharp_v(&m[k.as_str()])
                    )
                })
                .collect();
            format!("map[string]interface {{}}{{{}}}", fields.join(", "))
        }
    }
}

/// Go's `%v` of a decoded JSON value (`map[k:v]`, `[a b]`, `<nil>`).
pub fn go_v(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_string(),
        Value::String(s) => s.clone(),
        Value::Number(n) => gojson::go_number(n),
        Value::Bool(b) => b.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_v).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{k}:{}", go_v(&m[k.as_str()])))
                .collect();
            format!("map[{}]", fields.join(" "))
        }
    }
}

/// `-o custom-columns=HEADER:PATH,...` for `data` (an object, or kubectl's `List`).
pub fn custom_columns(spec: &str, data: &Value, no_headers: bool) -> Result<String> {
    let mut columns = Vec::new();
    for col in spec.split(',') {
        let (header, path) = col.split_once(':').ok_or_else(|| {
            anyhow!("unexpected custom-columns spec: {col}, expected <header>:<json-path-expr>")
        })?;
        // kubectl's relaxed JSONPath: braces and the leading dot are optional.
        let path = path.trim_start_matches('{').trim_end_matches('}');
        columns.push((header.to_string(), parse_path(path)?));
    }
    let items: Vec<&Value> = if data["kind"] == "List" {
        data["items"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    } else {
        vec![data]
    };
    let mut lines = Vec::new();
    if !no_headers {
        lines.push(columns.iter().map(|(h, _)| h.clone()).collect::<Vec<_>>());
    }
    for item in items {
        lines.push(
            columns
                .iter()
                .map(|(_, p)| {
                    let found = eval(item, p).unwrap_or_default();
                    if found.is_empty() {
                        "<none>".to_string()
                    } else {
                        found.into_iter().map(text).collect::<Vec<_>>().join(",")
                    }
                })
                .collect(),
        );
    }
    Ok(tabwrite(&lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pods() -> Value {
        json!({"apiVersion": "v1", "kind": "List", "items": [
            {"metadata": {"name": "a", "labels": {"app": "x"}},
             "spec": {"containers": [{"name": "c", "image": "nginx:1.7.9"}, {"name": "d", "image": "busybox"}]}},
            {"metadata": {"name": "bb"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
        ]})
    }

    #[test]
    fn jsonpath_prints_the_results_of_one_action_separated_by_spaces() {
        let d = pods();
        assert_eq!(render("{.items[*].metadata.name}", &d).unwrap(), "a bb");
        assert_eq!(
            render("{.items[0].spec.containers[-1].image}", &d).unwrap(),
            "busybox"
        );
        assert_eq!(render("{.items[1:].metadata.name}", &d).unwrap(), "bb");
        assert_eq!(render("{$.items[*].metadata['name']}", &d).unwrap(), "a bb");
        assert_eq!(
            render("{..image}", &d).unwrap(),
            "nginx:1.7.9 busybox nginx"
        );
        assert_eq!(
            render("{.items[0].metadata.labels}", &d).unwrap(),
            r#"{"app":"x"}"#
        );
        assert_eq!(render("{.items[*].nope}", &d).unwrap(), "");
        assert_eq!(
            render(
                r#"{range .items[*]}{.metadata.name}{"\t"}{.spec.containers[*].name}{"\n"}{end}"#,
                &d
            )
            .unwrap(),
            "a\tc d\nbb\tc\n"
        );
        assert_eq!(
            render("names: {.items[*].metadata.name}!", &d).unwrap(),
            "names: a bb!"
        );
    }

    #[test]
    fn filters_select_elements_as_client_go_does() {
        let d = json!({"kind": "List", "items": [
            {"metadata": {"name": "a"}, "spec": {"replicas": 1, "paused": true}, "status": {"phase": "Running"}},
            {"metadata": {"name": "bb"}, "spec": {"replicas": 3}, "status": {"phase": "Pending"}},
            {"metadata": {"name": "c"}, "spec": {"replicas": 2, "ratio": 1.5}}
        ]});
        for (template, want) in [
            (
                r#"{.items[?(@.metadata.name=="bb")].status.phase}"#,
                "Pending",
            ),
            (r#"{.items[?(@.metadata.name == 'a')].spec.replicas}"#, "1"),
            (
                r#"{.items[?(@.status.phase!="Running")].metadata.name}"#,
                "bb",
            ),
            ("{.items[?(@.spec.replicas>1)].metadata.name}", "bb c"),
            ("{.items[?(@.spec.replicas>=2)].metadata.name}", "bb c"),
            ("{.items[?(@.spec.replicas<2)].metadata.name}", "a"),
            ("{.items[?(@.spec.replicas<=2)].metadata.name}", "a c"),
            ("{.items[?(@.spec.ratio>1.0)].metadata.name}", "c"),
            ("{.items[?(@.spec.paused==true)].metadata.name}", "a"),
            ("{.items[?(@.status)].metadata.name}", "a bb"),
            (
                "{.items[?(@.spec.replicas==@.spec.replicas)].metadata.name}",
                "a bb c",
            ),
            (
                r#"{range .items[?(@.spec.replicas>1)]}{.metadata.name}{"\n"}{end}"#,
                "bb\nc\n",
            ),
            ("{..phase}", "Running Pending"),
            ("{.items[*].metadata.*}", "a bb c"),
        ] {
            assert_eq!(render(template, &d).unwrap(), want, "{template}");
        }
    }

    #[test]
    fn values_print_in_go_syntax_for_kubectls_debugging_text() {
        let v = json!({"b": [1, "x", null], "a": {"t": true, "f": 1.5}});
        assert_eq!(
            go_sharp_v(&v),
            r#"map[string]interface {}{"a":map[string]interface {}{"f":1.5, "t":true}, "b":[]interface {}{1, "x", interface {}(nil)}}"#
        );
        assert_eq!(go_v(&v), "map[a:map[f:1.5 t:true] b:[1 x <nil>]]");
    }

    #[test]
    fn filters_refuse_what_client_go_refuses() {
        let d = json!({"items": [{"n": 1, "s": "x"}], "obj": {"a": 1}});
        for (template, err) in [
            ("{.items[?(@.n==1.5)]}", "incompatible types for comparison"),
            ("{.items[?(@.s<true)]}", "incompatible types for comparison"),
            (
                "{.obj[?(@.a==1)]}",
                "is not array or slice and cannot be filtered",
            ),
        ] {
            let e = render(template, &d).unwrap_err().to_string();
            assert!(e.contains(err), "{template}: {e}");
        }
    }

    #[test]
    fn custom_columns_align_like_kubectl_and_mark_missing_values() {
        let d = pods();
        assert_eq!(
            custom_columns("NAME:.metadata.name,IMAGE:.spec.containers[*].image,APP:{.metadata.labels.app}", &d, false)
                .unwrap(),
            "NAME   IMAGE                 APP\na      nginx:1.7.9,busybox   x\nbb     nginx                 <none>\n"
        );
        assert_eq!(
            custom_columns("N:metadata.name", &d["items"][1], true).unwrap(),
            "bb\n"
        );
    }
}
