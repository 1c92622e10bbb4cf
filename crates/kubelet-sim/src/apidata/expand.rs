//! `$(VAR)` references in env values, commands and args, as upstream's `expansion.Expand`:
//! `$(NAME)` becomes the variable's value when it is defined and stays as written when not,
//! `$$` is a literal `$`, and any other `$` (or an unclosed `$(`) is kept.

/// Expand `input` with `lookup` giving the value of a defined variable.
pub fn expand<'a>(input: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if after.is_empty() {
            // A `$` at the very end stays.
            out.push('$');
            rest = after;
        } else if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('(') {
            match body.find(')') {
                Some(end) => {
                    let name = &body[..end];
                    match lookup(name) {
                        Some(v) => out.push_str(v),
                        None => {
                            out.push_str("$(");
                            out.push_str(name);
                            out.push(')');
                        }
                    }
                    rest = &body[end + 1..];
                }
                None => {
                    out.push_str("$(");
                    rest = body;
                }
            }
        } else {
            // Not an expression: the `$` and the character after it are kept.
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::expand;

    #[test]
    fn references_expand_escapes_collapse_and_unknowns_stay_as_written() {
        let vars = [("FOO", "foo"), ("BAR", "bar"), ("EMPTY", "")];
        let lookup = |n: &str| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        let table = [
            ("plain", "plain"),
            ("$(FOO)", "foo"),
            ("a-$(FOO)-$(BAR)-b", "a-foo-bar-b"),
            ("$(FOO)$(BAR)", "foobar"),
            ("$(EMPTY)x", "x"),
            ("$(NOPE)", "$(NOPE)"),
            ("$$(FOO)", "$(FOO)"),
            ("$$$(FOO)", "$foo"),
            ("$$", "$"),
            ("$", "$"),
            ("x$", "x$"),
            ("$FOO", "$FOO"),
            ("$(FOO", "$(FOO"),
            ("$()", "$()"),
            ("$(FOO)$(", "foo$("),
            ("ü$(FOO)ü", "üfooü"),
            ("$ü", "$ü"),
        ];
        for (input, want) in table {
            assert_eq!(expand(input, lookup), want, "{input}");
        }
    }
}
