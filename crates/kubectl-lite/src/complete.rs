//! `kubectl __complete WORDS... TOCOMPLETE`: the hidden command cobra's shell scripts call
//! on every TAB. It prints one candidate a line (`name\tdescription` for commands), then
//! `:<directive>`, and names the directive on stderr. Candidates are subcommands (from the
//! clap tree), resource types (from discovery, as `api-resources -o name --verbs=get`) and
//! live object names (a list call in the current or `-n` namespace), and for `logs` and
//! `exec` pod names and `TYPE/` of the kinds with pods.

use anyhow::Result;
use clap::Command;

use crate::discovery::Discovery;
use crate::{Ctx, Global};

/// cobra's `ShellCompDirective` bits.
const NO_SPACE: u32 = 2;
const NO_FILE_COMP: u32 = 4;

/// The types `scale` and the `rollout` subcommands offer before the name (kubectl's
/// `validArgs`), and whether a second TYPE/NAME may follow the first.
fn allowed_types(path: &[String]) -> Option<(&'static [&'static str], bool)> {
    const ROLLOUT: &[&str] = &["deployment", "daemonset", "statefulset"];
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    Some(match path.as_slice() {
        ["scale"] => (
            &[
                "deployment",
                "replicaset",
                "replicationcontroller",
                "statefulset",
            ],
            true,
        ),
        ["rollout", "status"] => (ROLLOUT, false),
        ["rollout", "history" | "undo" | "restart"] => (ROLLOUT, true),
        ["rollout", "pause" | "resume"] => (&["deployment"], true),
        _ => return None,
    })
}

/// Commands whose arguments are `TYPE [NAME...]` or `TYPE/NAME...`.
const TYPE_AND_NAME: &[&str] = &["get", "describe", "delete", "edit", "label", "annotate"];

/// A command line split as cobra sees it: the command path, its positional arguments,
/// the global flags, and the word being completed.
#[derive(Debug, Default, PartialEq)]
pub struct Line {
    pub path: Vec<String>,
    pub args: Vec<String>,
    pub to_complete: String,
    pub namespace: Option<String>,
    pub context: Option<String>,
    pub kubeconfig: Option<String>,
    pub server: Option<String>,
    /// The long name of the flag whose value is being completed (`-n <TAB>`, `--namespace=k`).
    pub flag: Option<String>,
}

/// Splits `words` (the last one is being completed) using the clap tree to know which
/// flags take a value.
pub fn split(root: &Command, words: &[String]) -> Line {
    let mut line = Line::default();
    let Some((last, words)) = words.split_last() else {
        return line;
    };
    line.to_complete = last.clone();
    let mut cmd = root;
    let find = |cmd: &Command, long: Option<&str>, name: &str| {
        cmd.get_arguments()
            .chain(root.get_arguments())
            .find(|a| match long {
                Some(l) => a.get_long() == Some(l),
                None => name.len() == 1 && a.get_short() == name.chars().next(),
            })
            .cloned()
    };
    let mut it = words.iter();
    while let Some(w) = it.next() {
        if let Some(flag) = w.strip_prefix('-').filter(|f| !f.is_empty()) {
            let (name, inline) = match flag.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (flag, None),
            };
            let arg = find(cmd, name.strip_prefix('-'), name);
            let arg = arg.as_ref();
            let takes_value = arg.is_some_and(|a| a.get_action().takes_values());
            let value = match (takes_value, inline) {
                (true, None) => {
                    let next = it.next().cloned();
                    if next.is_none() {
                        line.flag = arg.and_then(|a| a.get_long()).map(str::to_string);
                    }
                    next
                }
                (_, v) => v,
            };
            let slot = match arg.and_then(|a| a.get_long()) {
                Some("namespace") => &mut line.namespace,
                Some("context") => &mut line.context,
                Some("kubeconfig") => &mut line.kubeconfig,
                Some("server") => &mut line.server,
                _ => continue,
            };
            *slot = value;
            continue;
        }
        match cmd.find_subcommand(w).filter(|_| line.args.is_empty()) {
            Some(sub) => {
                line.path.push(w.clone());
                cmd = sub;
            }
            None => line.args.push(w.clone()),
        }
    }
    if let Some((flag, value)) = last.strip_prefix("--").and_then(|f| f.split_once('=')) {
        if let Some(long) = find(cmd, Some(flag), flag).and_then(|a| a.get_long().map(String::from))
        {
            line.flag = Some(long);
            line.to_complete = value.to_string();
        }
    }
    line
}

/// kubectl's `-o` formats, in its order.
const OUTPUT_FORMATS: &[&str] = &[
    "json",
    "yaml",
    "kyaml",
    "name",
    "go-template",
    "go-template-file",
    "template",
    "templatefile",
    "jsonpath",
    "jsonpath-as-json",
    "jsonpath-file",
    "custom-columns",
    "custom-columns-file",
    "wide",
];

/// Values of the flag being completed: namespaces for `-n`, formats for `-o`.
async fn flag_values(line: &Line, flag: &str) -> Vec<String> {
    let prefix = line.to_complete.as_str();
    match flag {
        "namespace" => match connect(line).await {
            Some(ctx) => names(&ctx, "namespaces", prefix).await,
            None => Vec::new(),
        },
        "output" => OUTPUT_FORMATS
            .iter()
            .filter(|f| f.starts_with(prefix))
            .map(|f| f.to_string())
            .collect(),
        _ => Vec::new(),
    }
}

/// The server, with the command line's global flags (None when unreachable: like kubectl,
/// a completion that cannot reach the server offers nothing).
async fn connect(line: &Line) -> Option<Ctx> {
    let global = Global {
        kubeconfig: line.kubeconfig.clone().map(Into::into),
        context: line.context.clone(),
        server: line.server.clone(),
        namespace: line.namespace.clone(),
        request_timeout: None,
    };
    crate::connect(&global, "__complete").await.ok()
}

/// The subcommand at `path`.
fn command_at<'a>(root: &'a Command, path: &[String]) -> &'a Command {
    path.iter()
        .fold(root, |c, p| c.find_subcommand(p).unwrap_or(c))
}

/// Subcommands of `cmd` starting with `prefix`, sorted, with their one-line help
/// (without clap's final period; the root also offers kubectl's `help`).
fn subcommands(cmd: &Command, is_root: bool, prefix: &str) -> Vec<String> {
    let mut out: Vec<String> = cmd
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
        .map(|c| {
            let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
            format!("{}\t{}", c.get_name(), about.trim_end_matches('.'))
        })
        .collect();
    if is_root {
        out.push("help\tHelp about any command".to_string());
    }
    out.retain(|c| c.starts_with(prefix));
    out.sort();
    out
}

/// `kubectl-lite __complete WORDS...`: prints the candidates and the directive.
pub async fn run(root: &Command, words: &[String], descriptions: bool) -> Result<i32> {
    let line = split(root, words);
    let cmd = command_at(root, &line.path);
    let (comps, directive) = if let Some(flag) = &line.flag {
        (flag_values(&line, flag).await, NO_FILE_COMP)
    } else if cmd.has_subcommands() && line.args.is_empty() {
        (
            subcommands(cmd, line.path.is_empty(), &line.to_complete),
            NO_FILE_COMP,
        )
    } else {
        let (mut comps, directive) = dynamic(&line).await;
        comps.splice(0..0, required_flags(cmd, words, &line.to_complete));
        (comps, directive)
    };
    for c in comps {
        let c = if descriptions {
            c
        } else {
            c.split('\t').next().unwrap_or_default().to_string()
        };
        println!("{c}");
    }
    println!(":{directive}");
    eprintln!(
        "Completion ended with directive: {}",
        directive_names(directive)
    );
    Ok(0)
}

/// cobra offers the required flags not yet given before an empty word: `--name\thelp`.
fn required_flags(cmd: &Command, words: &[String], to_complete: &str) -> Vec<String> {
    if !to_complete.is_empty() {
        return Vec::new();
    }
    cmd.get_arguments()
        .filter(|a| a.is_required_set())
        .filter_map(|a| {
            let long = a.get_long()?;
            let flag = format!("--{long}");
            let given = words
                .iter()
                .any(|w| *w == flag || w.starts_with(&format!("{flag}=")));
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            (!given).then(|| format!("{flag}\t{help}"))
        })
        .collect()
}

/// cobra's names of the directive bits.
fn directive_names(d: u32) -> String {
    const NAMES: &[&str] = &[
        "ShellCompDirectiveError",
        "ShellCompDirectiveNoSpace",
        "ShellCompDirectiveNoFileComp",
        "ShellCompDirectiveFilterFileExt",
        "ShellCompDirectiveFilterDirs",
        "ShellCompDirectiveKeepOrder",
    ];
    let names: Vec<&str> = NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| d & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect();
    if names.is_empty() {
        "ShellCompDirectiveDefault".to_string()
    } else {
        names.join(", ")
    }
}

/// Resource types and names for the commands that take them (kubectl's
/// `resourceTypeAndNameCompletionFunc`); nothing (and no file completion) elsewhere.
async fn dynamic(line: &Line) -> (Vec<String>, u32) {
    let mut directive = NO_FILE_COMP;
    let path: Vec<&str> = line.path.iter().map(String::as_str).collect();
    let pods_first = matches!(path.as_slice(), ["logs" | "exec"]);
    let (allowed, repeat) = match allowed_types(&line.path) {
        Some((types, repeat)) => (Some(types), repeat),
        None if path.len() == 1 && TYPE_AND_NAME.contains(&path[0]) => (None, true),
        None if pods_first && line.args.is_empty() => (None, false),
        None => return (Vec::new(), directive),
    };
    let Some(ctx) = connect(line).await else {
        return (Vec::new(), directive);
    };
    let (args, to_complete) = (&line.args, line.to_complete.as_str());
    if pods_first {
        return pod_or_type(&ctx, to_complete).await;
    }
    let mut comps = Vec::new();
    if let Some(first) = args.first().filter(|a| !a.contains('/')) {
        if repeat || args.len() == 1 {
            comps = names(&ctx, first, to_complete).await;
            comps.retain(|c| !args[1..].contains(c));
        }
    } else if let Some((ty, prefix)) = to_complete.split_once('/') {
        if repeat || args.is_empty() {
            comps = names(&ctx, ty, prefix)
                .await
                .into_iter()
                .map(|n| format!("{ty}/{n}"))
                .collect();
            comps.retain(|c| !args.contains(c));
        }
    } else if args.is_empty() {
        comps = types(&ctx, allowed, to_complete).await;
    } else if repeat {
        directive |= NO_SPACE;
        comps = types(&ctx, allowed, to_complete)
            .await
            .into_iter()
            .map(|t| format!("{t}/"))
            .collect();
    }
    (comps, directive)
}

/// The kinds whose objects have pods, offered as `TYPE/` by `logs` and `exec`.
const RESOURCES_WITH_PODS: &[&str] = &[
    "daemonsets",
    "deployments",
    "pods",
    "jobs",
    "replicasets",
    "replicationcontrollers",
    "services",
    "statefulsets",
];

/// kubectl's `doPodResourceCompletion`: pod names and `TYPE/` of the kinds with pods
/// (without a space after them when no pod matched), or names after `TYPE/`.
async fn pod_or_type(ctx: &Ctx, to_complete: &str) -> (Vec<String>, u32) {
    if let Some((ty, prefix)) = to_complete.split_once('/') {
        let comps = names(ctx, ty, prefix)
            .await
            .into_iter()
            .map(|n| format!("{ty}/{n}"))
            .collect();
        return (comps, NO_FILE_COMP);
    }
    let mut comps = names(ctx, "pod", to_complete).await;
    let directive = if comps.is_empty() {
        NO_FILE_COMP | NO_SPACE
    } else {
        NO_FILE_COMP
    };
    comps.extend(
        RESOURCES_WITH_PODS
            .iter()
            .filter(|r| r.starts_with(to_complete))
            .map(|r| format!("{r}/")),
    );
    (comps, directive)
}

/// Resource types starting with the last comma-separated part of `to_complete`.
async fn types(ctx: &Ctx, allowed: Option<&[&str]>, to_complete: &str) -> Vec<String> {
    if let Some(types) = allowed {
        return types
            .iter()
            .filter(|t| t.starts_with(to_complete))
            .map(|t| t.to_string())
            .collect();
    }
    let Ok(disc) = Discovery::load(&ctx.api).await else {
        return Vec::new();
    };
    let (head, tail) = match to_complete.rfind(',') {
        Some(i) => to_complete.split_at(i + 1),
        None => ("", to_complete),
    };
    crate::misc::served_resources(&disc, None, Some("get"))
        .into_iter()
        .map(|r| r.qualified())
        .filter(|n| n.starts_with(tail))
        .map(|n| format!("{head}{n}"))
        .collect()
}

/// Names of the objects of `types` (`pods`, `pods,svc`, a category such as `all`; in the
/// namespace) starting with `prefix`, as `kubectl get TYPES -o go-template` lists them.
async fn names(ctx: &Ctx, types: &str, prefix: &str) -> Vec<String> {
    let Ok(mut disc) = Discovery::load(&ctx.api).await else {
        return Vec::new();
    };
    let mut resources = Vec::new();
    for ty in types.split(',').filter(|t| !t.is_empty()) {
        match disc.find(ty).cloned() {
            Some(r) => resources.push(r),
            None => match disc.category(ty) {
                cat if !cat.is_empty() => resources.extend(cat),
                _ => match disc.resolve(&ctx.api, ty).await {
                    Ok(r) => resources.push(r),
                    // kubectl's get fails as a whole: no names at all.
                    Err(_) => return Vec::new(),
                },
            },
        }
    }
    let mut out = Vec::new();
    for r in resources {
        let Ok(list) = ctx.api.get(&r.collection(Some(&ctx.namespace))).await else {
            return Vec::new();
        };
        let found = list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["metadata"]["name"].as_str())
            .filter(|n| n.starts_with(prefix))
            .map(str::to_string);
        out.extend(found);
    }
    out
}

/// `completion bash`: a bash script whose completion function asks
/// `kubectl-lite __complete` for the candidates (as cobra's bash v2 script does for kubectl)
/// and honours the NoSpace and NoFileComp directives.
pub fn bash_script(bin: &str) -> String {
    let func = format!("__{}_complete", bin.replace('-', "_"));
    format!(
        r#"# bash completion for {bin}                              -*- shell-script -*-
# Candidates come from `{bin} __complete WORDS...`, which lists subcommands, resource
# types from discovery and live resource names; its last line is `:<directive>`.

{func}() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}"
    local out directive
    out=$("${{COMP_WORDS[0]}}" __completeNoDesc "${{COMP_WORDS[@]:1:COMP_CWORD-1}}" "$cur" 2>/dev/null) || return
    directive=${{out##*:}}
    out=${{out%:*}}
    [[ $directive =~ ^[0-9]+$ ]] || directive=0
    if (( directive & 1 )); then
        return
    fi
    COMPREPLY=()
    local line
    while IFS='' read -r line; do
        [[ -n $line ]] && COMPREPLY+=("$line")
    done <<< "$out"
    if (( directive & 2 )); then
        compopt -o nospace 2>/dev/null
    fi
    if (( ${{#COMPREPLY[@]}} == 0 )) && (( (directive & 4) == 0 )); then
        compopt -o default 2>/dev/null
    fi
}}

complete -o noquote -F {func} {bin}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_line_is_split_into_command_path_arguments_and_global_flags() {
        let root = crate::Cli::command();
        let line = split(
            &root,
            &words(&[
                "-n",
                "kube-system",
                "get",
                "-o",
                "wide",
                "pods",
                "--context=x",
                "we",
            ]),
        );
        assert_eq!(line.path, ["get"]);
        assert_eq!(line.args, ["pods"]);
        assert_eq!(line.to_complete, "we");
        assert_eq!(line.namespace.as_deref(), Some("kube-system"));
        assert_eq!(line.context.as_deref(), Some("x"));
        let line = split(&root, &words(&["rollout", "status", ""]));
        assert_eq!(line.path, ["rollout", "status"]);
        assert!(line.args.is_empty());
    }

    #[test]
    fn subcommands_are_offered_sorted_with_their_help_and_without_a_final_period() {
        let root = crate::Cli::command();
        assert_eq!(
            subcommands(&root, true, "ge"),
            ["get\tDisplay one or many resources"]
        );
        assert!(subcommands(&root, true, "").contains(&"help\tHelp about any command".into()));
        let rollout = root.find_subcommand("rollout").unwrap();
        let names: Vec<String> = subcommands(rollout, false, "")
            .into_iter()
            .map(|c| c.split('\t').next().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            ["history", "pause", "restart", "resume", "status", "undo"]
        );
    }

    #[test]
    fn directives_are_named_like_cobra() {
        assert_eq!(directive_names(4), "ShellCompDirectiveNoFileComp");
        assert_eq!(
            directive_names(6),
            "ShellCompDirectiveNoSpace, ShellCompDirectiveNoFileComp"
        );
        assert_eq!(directive_names(0), "ShellCompDirectiveDefault");
    }
}
