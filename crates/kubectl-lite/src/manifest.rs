//! Manifest loading for `-f`: files, directories (`.json`, `.yaml`, `.yml`; recursive with
//! `-R`), `-` for stdin; multi-document YAML and `kind: *List` flattened; a parse error names
//! the file and the line as kubectl does.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use serde_json::Value;

/// One object from a manifest, with the source it came from (for error messages).
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub source: String,
    pub object: Value,
}

/// The files named by `-f` arguments, in kubectl's order (directory entries sorted).
pub fn expand(paths: &[String], recursive: bool) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p == "-" {
            out.push(PathBuf::from("-"));
            continue;
        }
        let path = Path::new(p);
        let meta =
            std::fs::metadata(path).map_err(|_| anyhow!("the path \"{p}\" does not exist"))?;
        if meta.is_dir() {
            walk(path, recursive, &mut out)?;
        } else {
            out.push(path.to_path_buf());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            if recursive {
                walk(&e, recursive, out)?;
            }
        } else if matches!(
            e.extension().and_then(|x| x.to_str()),
            Some("json" | "yaml" | "yml")
        ) {
            out.push(e);
        }
    }
    Ok(())
}

/// kubectl's refusal of `-f` together with `TYPE [NAME]` arguments (its resource builder's).
pub fn refuse_resource_args(files: &[String], args: &[String]) -> Result<()> {
    if files.is_empty() || args.is_empty() {
        return Ok(());
    }
    Err(anyhow!(
        "when paths, URLs, or stdin is provided as input, you may not specify resource arguments as well"
    ))
}

/// Reads every object of the given `-f` arguments.
pub fn load(paths: &[String], recursive: bool) -> Result<Vec<Manifest>> {
    let mut out = Vec::new();
    for file in expand(paths, recursive)? {
        let (source, text) = if file.as_os_str() == "-" {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
            ("STDIN".to_string(), s)
        } else {
            (file.display().to_string(), std::fs::read_to_string(&file)?)
        };
        out.extend(parse(&source, &text)?);
    }
    Ok(out)
}

/// libyaml's parser errors, which go-yaml reports with a 0-based line (scanner errors: 1-based).
fn is_parser_error(msg: &str) -> bool {
    [
        "did not find expected <document start>",
        "did not find expected node content",
        "did not find expected key",
        "did not find expected '-' indicator",
        "did not find expected ',' or ']'",
        "did not find expected ',' or '}'",
        "found duplicate %YAML directive",
        "found incompatible YAML document",
        "found duplicate %TAG directive",
        "found undefined tag handle",
    ]
    .contains(&msg)
}

/// Splits a YAML (or JSON) stream into objects; `List` kinds contribute their items.
pub fn parse(source: &str, text: &str) -> Result<Vec<Manifest>> {
    let mut out = Vec::new();
    let mut docs: Vec<String> = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        if line == "---" || line.starts_with("--- ") {
            docs.push(std::mem::take(&mut cur));
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
    }
    docs.push(cur);
    for doc in docs {
        if doc
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            continue;
        }
        let value: Value = serde_yaml::from_str(&doc).map_err(|e| {
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            // Like go-yaml (which kubectl runs on each document alone): the line counts from
            // the document's start, and parser (not scanner) errors report it 0-based.
            let line = e.location().map_or(1, |l| l.line()) - usize::from(is_parser_error(&msg));
            anyhow!(
                "error parsing {source}: error converting YAML to JSON: yaml: line {line}: {msg}"
            )
        })?;
        if value.is_null() {
            continue;
        }
        if !value.is_object() {
            return Err(anyhow!(
                "error parsing {source}: error unmarshaling JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                if value.is_array() { "array" } else { "string" }
            ));
        }
        let kind = value["kind"].as_str().unwrap_or("");
        if kind.ends_with("List") && value.get("items").is_some() {
            for item in value["items"].as_array().into_iter().flatten() {
                out.push(Manifest {
                    source: source.to_string(),
                    object: item.clone(),
                });
            }
        } else {
            if kind.is_empty() {
                return Err(anyhow!(
                    "error validating \"{source}\": error validating data: kind not set"
                ));
            }
            out.push(Manifest {
                source: source.to_string(),
                object: value,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_yaml_yields_each_object_and_skips_empty_documents() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n";
        let m = parse("f.yaml", text).unwrap();
        let names: Vec<&str> = m
            .iter()
            .map(|m| m.object["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn lists_are_flattened_into_their_items() {
        let text = r#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}},{"apiVersion":"v1","kind":"Secret","metadata":{"name":"y"}}]}"#;
        let m = parse("l.json", text).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[1].object["kind"], "Secret");
    }

    #[test]
    fn directories_load_yaml_and_json_files_sorted_and_recurse_only_with_r() {
        let dir = tempfile::tempdir().unwrap();
        let cm = |n: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {n}\n");
        std::fs::write(dir.path().join("b.yaml"), cm("b")).unwrap();
        std::fs::write(dir.path().join("a.yml"), cm("a")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/c.yaml"), cm("c")).unwrap();
        let d = dir.path().display().to_string();
        let flat = load(std::slice::from_ref(&d), false).unwrap();
        assert_eq!(flat.len(), 2);
        assert_eq!(flat[0].object["metadata"]["name"], "a");
        let deep = load(&[d], true).unwrap();
        assert_eq!(deep.len(), 3);
    }

    #[test]
    fn bad_yaml_error_names_the_file_and_the_line() {
        let text = "apiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: [unclosed\n";
        let err = parse("bad.yaml", text).unwrap_err().to_string();
        assert!(
            err.starts_with("error parsing bad.yaml: error converting YAML to JSON: yaml: line "),
            "{err}"
        );
        assert!(err.contains("line 2"), "{err}");
        // kubectl: `yaml: line 4: did not find expected key` (a parser error, 0-based line);
        // `yaml: line 6: found character that cannot start any token` (scanner, 1-based).
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: [\n";
        let err = parse("bad.yaml", text).unwrap_err().to_string();
        assert_eq!(err, "error parsing bad.yaml: error converting YAML to JSON: yaml: line 4: did not find expected key");
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: @x\n";
        let err = parse("bad.yaml", text).unwrap_err().to_string();
        assert_eq!(err, "error parsing bad.yaml: error converting YAML to JSON: yaml: line 6: found character that cannot start any token");
    }

    #[test]
    fn a_missing_path_is_reported_like_kubectl() {
        let err = load(&["/nonexistent/x.yaml".to_string()], false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the path \"/nonexistent/x.yaml\" does not exist"
        );
    }
}
