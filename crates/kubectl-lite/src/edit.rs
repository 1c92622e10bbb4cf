//! `kubectl edit TYPE NAME`: the object as YAML in `$KUBE_EDITOR`/`$EDITOR` (default `vi`),
//! then a two-way strategic merge patch of the original and the edited object.

use anyhow::{anyhow, Result};
use apimachinery::k8s_patch_meta::{builtin_definitions, definition_name};
use apimachinery::strategic_merge::{create_two_way_merge_patch, PatchSchema};
use http::Method;
use serde_json::{Map, Value};

use crate::client::ACCEPT_JSON;
use crate::discovery::Discovery;
use crate::mutate::targets;
use crate::{goyaml, Ctx};

const HEADER: &str = "# Please edit the object below. Lines beginning with a '#' will be ignored,\n# and an empty file will abort the edit. If an error occurs while saving this file will be\n# reopened with the relevant failures.\n#\n";

/// The text without comment lines (what kubectl compares to detect "no changes").
fn strip_comments(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

pub async fn run(ctx: &mut Ctx, args: &[String]) -> Result<i32> {
    let mut disc = Discovery::load(&ctx.api).await?;
    let targets = targets(ctx, &mut disc, args).await?;
    if targets.is_empty() {
        return Err(anyhow!(
            "You must provide one or more resources by argument or filename."
        ));
    }
    let schema = PatchSchema::from_definitions(&builtin_definitions());
    for (res, name) in targets {
        let path = res.object(&ctx.namespace, &name);
        let original = ctx.api.get(&path).await?;
        let text = format!("{HEADER}{}", goyaml::to_string(&original));
        let dir = std::env::temp_dir();
        let file = dir.join(format!(
            "kubectl-edit-{}-{}.yaml",
            std::process::id(),
            name.replace('/', "_")
        ));
        std::fs::write(&file, &text)?;
        let editor = std::env::var("KUBE_EDITOR")
            .or_else(|_| std::env::var("EDITOR"))
            .unwrap_or_else(|_| "vi".to_string());
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{editor} \"$1\""))
            .arg("sh")
            .arg(&file)
            .status()?;
        let edited = std::fs::read_to_string(&file)?;
        let _ = std::fs::remove_file(&file);
        if !status.success() {
            return Err(anyhow!("there was a problem with the editor \"{editor}\""));
        }
        if strip_comments(&edited).trim().is_empty() {
            eprintln!("Edit cancelled, saved file was empty.");
            continue;
        }
        if strip_comments(&edited) == strip_comments(&text) {
            eprintln!("Edit cancelled, no changes made.");
            continue;
        }
        let modified: Value = serde_yaml::from_str(&strip_comments(&edited))
            .map_err(|e| anyhow!("error parsing edited file: {e}"))?;
        let cursor = schema.root(&definition_name(
            original["apiVersion"].as_str().unwrap_or(""),
            original["kind"].as_str().unwrap_or(""),
        ));
        let patch =
            create_two_way_merge_patch(&original, &modified, cursor).map_err(|e| anyhow!("{e}"))?;
        if patch.as_object().is_some_and(Map::is_empty) {
            eprintln!("Edit cancelled, no changes made.");
            continue;
        }
        ctx.api
            .json(
                Method::PATCH,
                &format!("{path}?fieldManager=kubectl-edit&fieldValidation=Strict"),
                ACCEPT_JSON,
                Some((
                    "application/strategic-merge-patch+json",
                    serde_json::to_vec(&patch)?,
                )),
            )
            .await?;
        println!("{}/{name} edited", res.kind_prefix());
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_lines_do_not_count_as_edits() {
        assert_eq!(strip_comments("# a\nx: 1\n  # b\ny: 2\n"), "x: 1\ny: 2");
    }
}
