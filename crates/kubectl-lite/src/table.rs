//! kubectl's table output: cells joined by tabs through Go's `text/tabwriter` with
//! kubectl's settings (min width 6, padding 3, space padding), headers upper-cased,
//! `priority > 0` columns only with `-o wide`, NAMESPACE/LABELS columns and `kind/` name
//! prefixes added as `kubectl get` does.

use serde_json::Value;

use crate::gojson::go_number;

const MIN_WIDTH: usize = 6;
const PADDING: usize = 3;

/// Aligns tab-separated lines as kubectl's tabwriter does. The last cell of each line is
/// not part of a column and is not padded; a line without tabs ends the column blocks.
pub fn tabwrite(lines: &[Vec<String>]) -> String {
    tabwrite_remembering(lines, &mut Vec::new())
}

/// [`tabwrite`] with the `RememberWidths` flag of kubectl's tabwriter fork: column widths
/// never shrink below those of earlier flushes (`remembered`, updated), so watch rows stay
/// aligned with the header printed before them.
pub fn tabwrite_remembering(lines: &[Vec<String>], remembered: &mut Vec<usize>) -> String {
    let mut out = String::new();
    let mut start = 0;
    while start < lines.len() {
        // A block: consecutive lines with at least one terminated cell.
        let mut end = start;
        while end < lines.len() && lines[end].len() > 1 {
            end += 1;
        }
        if end == start {
            out.push_str(lines[start].first().map(String::as_str).unwrap_or(""));
            out.push('\n');
            start += 1;
            continue;
        }
        write_block(&lines[start..end], remembered, &mut out);
        start = end;
    }
    out
}

fn write_block(lines: &[Vec<String>], remembered: &mut Vec<usize>, out: &mut String) {
    // Column j's width counts only lines having a terminated cell j (Go's column blocks,
    // simplified to rectangular tables, which is what kubectl writes).
    let cols = lines.iter().map(|l| l.len() - 1).max().unwrap_or(0);
    let mut widths = vec![MIN_WIDTH; cols];
    for line in lines {
        for (j, cell) in line.iter().take(line.len() - 1).enumerate() {
            widths[j] = widths[j].max(cell.chars().count() + PADDING);
        }
    }
    for (j, w) in widths.iter_mut().enumerate() {
        match remembered.get_mut(j) {
            Some(r) => {
                *w = (*w).max(*r);
                *r = *w;
            }
            None => remembered.push(*w),
        }
    }
    for line in lines {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if j + 1 < line.len() {
                let pad = widths[j] - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
}

/// How one server-side Table is turned into lines.
#[derive(Clone, Debug, Default)]
pub struct TableOptions {
    pub wide: bool,
    pub with_namespace: bool,
    pub show_labels: bool,
    /// `pod`, `deployment.apps`: prefix for the name column when several kinds are printed.
    pub kind_prefix: Option<String>,
    pub no_headers: bool,
}

/// A cell as kubectl prints it: strings cut at the first line break (`...` appended),
/// numbers as Go prints them, nil as nothing.
pub fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => match s.find(['\n', '\r', '\u{c}']) {
            Some(i) => format!("{}...", &s[..i]),
            None => s.clone(),
        },
        Value::Number(n) => go_number(n),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// `k=v,k2=v2` (sorted) or `<none>`.
pub fn format_labels(labels: Option<&Value>) -> String {
    let mut pairs: Vec<String> = labels
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    if pairs.is_empty() {
        return "<none>".into();
    }
    pairs.sort();
    pairs.join(",")
}

/// The header line (when wanted) and one line per row of a Table response.
pub fn table_lines(table: &Value, opts: &TableOptions, with_header: bool) -> Vec<Vec<String>> {
    let columns: Vec<&Value> = table["columnDefinitions"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let shown: Vec<bool> = columns
        .iter()
        .map(|c| opts.wide || c["priority"].as_i64().unwrap_or(0) == 0)
        .collect();
    let mut lines = Vec::new();
    if with_header && !opts.no_headers {
        let mut h = Vec::new();
        if opts.with_namespace {
            h.push("NAMESPACE".to_string());
        }
        for (c, show) in columns.iter().zip(&shown) {
            if *show {
                h.push(c["name"].as_str().unwrap_or("").to_uppercase());
            }
        }
        if opts.show_labels {
            h.push("LABELS".to_string());
        }
        lines.push(h);
    }
    for row in table["rows"].as_array().into_iter().flatten() {
        let meta = &row["object"]["metadata"];
        let mut l = Vec::new();
        if opts.with_namespace {
            l.push(meta["namespace"].as_str().unwrap_or("").to_string());
        }
        let cells = row["cells"].as_array().cloned().unwrap_or_default();
        for (i, (c, show)) in columns.iter().zip(&shown).enumerate() {
            if !*show {
                continue;
            }
            let mut text = cells.get(i).map(cell_text).unwrap_or_default();
            if c["format"] == "name" {
                if let Some(prefix) = &opts.kind_prefix {
                    text = format!("{prefix}/{text}");
                }
            }
            l.push(text);
        }
        if opts.show_labels {
            l.push(format_labels(meta.get("labels")));
        }
        lines.push(l);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pods_table() -> Value {
        json!({"kind":"Table","columnDefinitions":[
            {"name":"Name","format":"name","priority":0},{"name":"Ready","format":"","priority":0},
            {"name":"Restarts","format":"","priority":0},{"name":"IP","format":"","priority":1}],
          "rows":[
            {"cells":["web-1","1/1",0,"10.0.0.1"],"object":{"metadata":{"name":"web-1","namespace":"default","labels":{"b":"2","a":"1"}}}},
            {"cells":["a-much-longer-name","0/1",12,"<none>"],"object":{"metadata":{"name":"x","namespace":"kube-system"}}}]})
    }

    #[test]
    fn tables_align_like_kubectl_tabwriter_and_hide_wide_columns() {
        let out = tabwrite(&table_lines(&pods_table(), &TableOptions::default(), true));
        assert_eq!(
            out,
            "NAME                 READY   RESTARTS\nweb-1                1/1     0\na-much-longer-name   0/1     12\n"
        );
    }

    #[test]
    fn wide_namespace_labels_and_kind_prefix_columns() {
        let opts = TableOptions {
            wide: true,
            with_namespace: true,
            show_labels: true,
            kind_prefix: Some("pod".into()),
            no_headers: false,
        };
        let out = tabwrite(&table_lines(&pods_table(), &opts, true));
        assert_eq!(
            out,
            "NAMESPACE     NAME                     READY   RESTARTS   IP         LABELS\n\
             default       pod/web-1                1/1     0          10.0.0.1   a=1,b=2\n\
             kube-system   pod/a-much-longer-name   0/1     12         <none>     <none>\n"
        );
    }

    #[test]
    fn short_columns_are_at_least_six_wide_and_blank_lines_split_tables() {
        let lines = vec![
            vec!["A".into(), "B".into()],
            vec![String::new()],
            vec!["LONGER-NAME".into(), "C".into()],
        ];
        assert_eq!(tabwrite(&lines), "A     B\n\nLONGER-NAME   C\n");
    }

    #[test]
    fn multi_line_cells_are_cut_with_an_ellipsis() {
        assert_eq!(cell_text(&json!("a\nb")), "a...");
        assert_eq!(cell_text(&json!(1.5)), "1.5");
    }
}
