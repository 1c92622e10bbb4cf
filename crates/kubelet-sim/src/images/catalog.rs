//! The image catalog: the repositories the simulated registry knows, with their real tags, size,
//! default command and what a container of them does (serve until stopped, run a shell
//! command, or run to completion). Read from `fixtures/images.yaml` (embedded) or a file given
//! with `--image-catalog`.

use super::reference::ImageRef;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// The catalog shipped with kube-lite.
pub const EMBEDDED: &str = include_str!("../../../../fixtures/images.yaml");

/// What a container of an image does once started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Profile {
    /// A long-running server (nginx): runs until stopped.
    Server,
    /// A shell-like image (busybox, alpine, python): runs its command line; with no command
    /// (a shell without a terminal) it exits 0 at once.
    Shell,
    /// A program that runs for a while and exits with a code (a training job).
    Runs { duration: Duration, exit_code: i32 },
}

/// What a started container will do, from its image and command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    RunsForever,
    Exits { after: Duration, code: i32 },
}

/// One known image (or the generic stand-in for an unknown one).
#[derive(Clone, Debug)]
pub struct ImageInfo {
    pub reference: ImageRef,
    pub size_bytes: u64,
    pub profile: Option<Profile>,
    /// The image's `ENTRYPOINT`: an image with one runs for real under the process runtime
    /// (it names the host programs it uses); empty for the rest.
    pub entrypoint: Vec<String>,
    /// The image's `CMD` (the arguments of the entrypoint, or the command line without one).
    pub command: Vec<String>,
    /// Exit code when stopped with SIGTERM (nginx exits 0; most programs 143).
    pub stop_exit_code: i32,
    /// Whether the repository is in the catalog.
    pub known: bool,
    /// Files the image has (path → content), laid over the host's root by the process runtime.
    pub files: Vec<(String, String)>,
}

/// The result of resolving a reference against the registry.
#[derive(Clone, Debug)]
pub enum Resolution {
    Found(ImageInfo),
    /// A known repository without this tag: the registry answers 404.
    NotFound(ImageRef),
}

/// The catalog.
#[derive(Clone, Debug)]
pub struct Catalog {
    repos: HashMap<String, Repo>,
    generic: Generic,
}

#[derive(Clone, Debug)]
struct Repo {
    tags: HashSet<String>,
    size: u64,
    profile: Profile,
    entrypoint: Vec<String>,
    command: Vec<String>,
    stop_exit_code: i32,
    files: Vec<(String, String)>,
}

/// How images outside the catalog behave.
#[derive(Clone, Debug)]
pub struct Generic {
    pub size_bytes: u64,
    /// Under restartPolicy Never or OnFailure, an unknown image exits 0 after this long.
    pub completes_after: Duration,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct File {
    #[serde(default)]
    generic: Option<GenericFile>,
    repositories: Vec<RepoFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GenericFile {
    size_bytes: u64,
    completes_after: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RepoFile {
    name: String,
    tags: Vec<String>,
    size_bytes: u64,
    #[serde(default)]
    entrypoint: Vec<String>,
    #[serde(default)]
    command: Vec<String>,
    profile: String,
    #[serde(default)]
    runs_for: Option<String>,
    #[serde(default)]
    exit_code: i32,
    #[serde(default)]
    stop_exit_code: Option<i32>,
    #[serde(default)]
    files: std::collections::BTreeMap<String, String>,
    /// A directory (relative to the catalog file) whose files the image has, at the same
    /// paths under `/`.
    #[serde(default)]
    files_from: Option<String>,
}

/// Why a catalog file is rejected.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("image catalog: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("image catalog: repository {repo}: {msg}")]
    Repo { repo: String, msg: String },
}

/// Parse a Go duration (`1s`, `250ms`, `2m`, `1.5s`) or a bare number of seconds (`sleep 5`).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    match s.parse::<f64>() {
        Ok(secs) if secs >= 0.0 && secs.is_finite() => Some(Duration::from_secs_f64(secs)),
        Ok(_) => None,
        Err(_) => apimachinery::duration::parse_go(s),
    }
}

/// Expand `1.9.{0..15}`, `{3.11,3.12}-slim` and nested `{1.15,1.15.{0..2}}` into every tag
/// they name.
pub fn expand_tags(pattern: &str) -> Vec<String> {
    let Some(open) = pattern.find('{') else {
        return vec![pattern.to_string()];
    };
    // The matching close brace, and the top-level commas between.
    let mut depth = 0;
    let mut close = None;
    let mut commas = Vec::new();
    for (i, ch) in pattern[open..].char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            ',' if depth == 1 => commas.push(open + i),
            _ => {}
        }
    }
    let Some(close) = close else {
        return vec![pattern.to_string()];
    };
    let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
    let body = &pattern[open + 1..close];
    let items: Vec<String> = if commas.is_empty() {
        match body
            .split_once("..")
            .map(|(a, b)| (a.parse::<u32>(), b.parse::<u32>()))
        {
            Some((Ok(a), Ok(b))) => (a..=b).map(|n| n.to_string()).collect(),
            _ => vec![body.to_string()],
        }
    } else {
        let mut items = Vec::new();
        let mut from = open + 1;
        for c in commas.iter().copied().chain([close]) {
            items.push(pattern[from..c].to_string());
            from = c + 1;
        }
        items
    };
    items
        .into_iter()
        .flat_map(|i| expand_tags(&format!("{head}{i}{tail}")))
        .collect()
}

impl Catalog {
    /// The embedded catalog.
    pub fn embedded() -> Catalog {
        Catalog::from_yaml(EMBEDDED).expect("the embedded image catalog parses")
    }

    pub fn from_file(path: &std::path::Path) -> anyhow::Result<Catalog> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!("cannot read the image catalog {}: {e}", path.display())
        })?;
        let base = path.parent().unwrap_or(std::path::Path::new("."));
        Ok(Catalog::parse(&text, Some(base))?)
    }

    /// A catalog from YAML text (`filesFrom` needs a file: see `from_file`).
    pub fn from_yaml(text: &str) -> Result<Catalog, CatalogError> {
        Catalog::parse(text, None)
    }

    fn parse(text: &str, base: Option<&std::path::Path>) -> Result<Catalog, CatalogError> {
        let file: File = serde_yaml::from_str(text)?;
        let mut repos = HashMap::new();
        for r in file.repositories {
            let err = |msg: String| CatalogError::Repo {
                repo: r.name.clone(),
                msg,
            };
            let reference = ImageRef::parse(&r.name).map_err(|e| err(e.to_string()))?;
            let profile = match r.profile.as_str() {
                "server" => Profile::Server,
                "shell" => Profile::Shell,
                "runs" => Profile::Runs {
                    duration: r
                        .runs_for
                        .as_deref()
                        .and_then(parse_duration)
                        .ok_or_else(|| err("profile runs needs runsFor (e.g. 20s)".into()))?,
                    exit_code: r.exit_code,
                },
                other => {
                    return Err(err(format!(
                        "unknown profile {other:?} (server, shell or runs)"
                    )))
                }
            };
            let stop_exit_code =
                r.stop_exit_code
                    .unwrap_or(if profile == Profile::Server { 0 } else { 143 });
            let mut files: Vec<(String, String)> = r.files.into_iter().collect();
            if let Some(dir) = &r.files_from {
                let base = base.ok_or_else(|| {
                    err("filesFrom needs a catalog file (--image-catalog)".into())
                })?;
                read_tree(&base.join(dir), std::path::Path::new("/"), &mut files)
                    .map_err(|e| err(format!("filesFrom {dir}: {e}")))?;
            }
            repos.insert(
                reference.repository(),
                Repo {
                    tags: r.tags.iter().flat_map(|t| expand_tags(t)).collect(),
                    size: r.size_bytes,
                    profile,
                    entrypoint: r.entrypoint,
                    command: r.command,
                    stop_exit_code,
                    files,
                },
            );
        }
        let generic = match file.generic {
            Some(g) => Generic {
                size_bytes: g.size_bytes,
                completes_after: parse_duration(&g.completes_after).ok_or_else(|| {
                    CatalogError::Repo {
                        repo: "generic".into(),
                        msg: format!("bad duration {:?}", g.completes_after),
                    }
                })?,
            },
            None => Generic {
                size_bytes: 50_000_000,
                completes_after: Duration::from_secs(2),
            },
        };
        Ok(Catalog { repos, generic })
    }

    pub fn generic(&self) -> &Generic {
        &self.generic
    }

    /// Resolve a reference as the registry would: a known repository must have the tag.
    pub fn resolve(&self, reference: &ImageRef) -> Resolution {
        match self.repos.get(&reference.repository()) {
            Some(repo) => {
                let tag_ok = reference.digest.is_some()
                    || reference
                        .tag
                        .as_ref()
                        .is_some_and(|t| repo.tags.contains(t));
                if !tag_ok {
                    return Resolution::NotFound(reference.clone());
                }
                Resolution::Found(ImageInfo {
                    reference: reference.clone(),
                    size_bytes: repo.size,
                    profile: Some(repo.profile.clone()),
                    entrypoint: repo.entrypoint.clone(),
                    command: repo.command.clone(),
                    stop_exit_code: repo.stop_exit_code,
                    known: true,
                    files: repo.files.clone(),
                })
            }
            None => Resolution::Found(ImageInfo {
                reference: reference.clone(),
                size_bytes: self.generic.size_bytes,
                profile: None,
                entrypoint: Vec::new(),
                command: Vec::new(),
                stop_exit_code: 143,
                known: false,
                files: Vec::new(),
            }),
        }
    }

    /// What a container does, from its image, its `command`/`args` and the pod's
    /// restartPolicy (`Always`, `OnFailure`, `Never`).
    pub fn behaviour(
        &self,
        image: &ImageInfo,
        command: &[String],
        args: &[String],
        restart_policy: &str,
    ) -> Behaviour {
        let line: Vec<&str> = command.iter().chain(args).map(String::as_str).collect();
        let line = line.join(" ");
        match &image.profile {
            Some(Profile::Server) => Behaviour::RunsForever,
            Some(Profile::Runs {
                duration,
                exit_code,
            }) => Behaviour::Exits {
                after: *duration,
                code: *exit_code,
            },
            Some(Profile::Shell) => command_line(&line).unwrap_or(Behaviour::Exits {
                after: Duration::ZERO,
                code: 0,
            }),
            None => command_line(&line).unwrap_or(if restart_policy == "Always" {
                Behaviour::RunsForever
            } else {
                Behaviour::Exits {
                    after: self.generic.completes_after,
                    code: 0,
                }
            }),
        }
    }
}

/// Add every file under `dir` to `files`, at its path relative to `dir` under `at`.
fn read_tree(
    dir: &std::path::Path,
    at: &std::path::Path,
    files: &mut Vec<(String, String)>,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = at.join(e.file_name());
        if e.file_type()?.is_dir() {
            read_tree(&e.path(), &path, files)?;
        } else {
            let content = std::fs::read(e.path())?;
            let content = String::from_utf8(content).map_err(|_| {
                std::io::Error::other(format!("{} is not UTF-8 text", e.path().display()))
            })?;
            files.push((path.to_string_lossy().into_owned(), content));
        }
    }
    Ok(())
}

/// What a shell command line does, when it says: `sleep infinity`, `tail -f`, `while true`
/// run forever; `sleep N` runs N seconds; `exit N` / `false` exits non-zero. `None` when the line
/// is empty.
pub fn command_line(line: &str) -> Option<Behaviour> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    let forever = [
        "sleep infinity",
        "tail -f",
        "while true",
        "while :",
        "sleep inf",
    ];
    if forever.iter().any(|f| line.contains(f)) {
        return Some(Behaviour::RunsForever);
    }
    let words: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '\'' || c == '"')
        .filter(|w| !w.is_empty())
        .collect();
    let mut after = Duration::ZERO;
    let mut code = 0;
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).copied().unwrap_or("");
        match *w {
            "sleep" => after += parse_duration(next).unwrap_or_default(),
            "exit" => code = next.parse().unwrap_or(0),
            "false" if i == 0 || words[i - 1] == "-c" => code = 1,
            _ => {}
        }
    }
    Some(Behaviour::Exits { after, code })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(c: &Catalog, image: &str) -> Resolution {
        c.resolve(&ImageRef::parse(image).unwrap())
    }

    #[test]
    fn the_embedded_catalog_knows_the_walkthrough_images_and_their_tags() {
        let c = Catalog::embedded();
        let found = [
            "nginx",
            "nginx:1.7.9",
            "nginx:1.9.1",
            "nginx:1.14.2",
            "nginx:1.25",
            "nginx:1.27",
            "nginx:latest",
            "busybox",
            "busybox:1.36",
            "quay.io/fluentd_elasticsearch/fluentd:v2.5.2",
            "fluent/fluentd-kubernetes-daemonset:v1-debian-elasticsearch",
            "nemo1107/train",
            "python:3.12",
            "alpine:3.20",
            "ubuntu:22.04",
            "debian:bookworm",
            "some.registry.example/unknown/app:v7",
        ];
        for image in found {
            assert!(
                matches!(resolve(&c, image), Resolution::Found(_)),
                "{image}"
            );
        }
        for image in ["nginx:1.9.21", "busybox:9.99", "alpine:2.0"] {
            assert!(
                matches!(resolve(&c, image), Resolution::NotFound(_)),
                "{image}"
            );
        }
    }

    #[test]
    fn containers_behave_by_profile_command_and_restart_policy() {
        let c = Catalog::embedded();
        let info = |image: &str| match resolve(&c, image) {
            Resolution::Found(i) => i,
            Resolution::NotFound(_) => panic!("{image}"),
        };
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let exits = |secs: u64, code: i32| Behaviour::Exits {
            after: Duration::from_secs(secs),
            code,
        };
        type Case<'a> = (&'a str, Vec<String>, Vec<String>, &'a str, Behaviour);
        let cases: Vec<Case> = vec![
            (
                "nginx:1.7.9",
                vec![],
                vec![],
                "Always",
                Behaviour::RunsForever,
            ),
            ("busybox", vec![], vec![], "Always", exits(0, 0)),
            (
                "busybox",
                vec![],
                s(&[
                    "/bin/sh",
                    "-c",
                    "date; echo Hello from the Kubernetes cluster",
                ]),
                "OnFailure",
                exits(0, 0),
            ),
            (
                "busybox",
                s(&["sleep", "3600"]),
                vec![],
                "Always",
                exits(3600, 0),
            ),
            (
                "busybox",
                s(&["sh", "-c", "sleep 5; exit 3"]),
                vec![],
                "Never",
                exits(5, 3),
            ),
            (
                "busybox",
                s(&["sh", "-c", "false"]),
                vec![],
                "Never",
                exits(0, 1),
            ),
            (
                "busybox",
                s(&["sh", "-c", "while true; do sleep 1; done"]),
                vec![],
                "Always",
                Behaviour::RunsForever,
            ),
            (
                "nemo1107/train",
                vec![],
                s(&["3", "softmax", "0.5"]),
                "Never",
                exits(20, 0),
            ),
            (
                "example.com/app:1",
                vec![],
                vec![],
                "Always",
                Behaviour::RunsForever,
            ),
            ("example.com/app:1", vec![], vec![], "Never", exits(2, 0)),
            (
                "example.com/app:1",
                vec![],
                vec![],
                "OnFailure",
                exits(2, 0),
            ),
        ];
        for (image, cmd, args, policy, want) in cases {
            assert_eq!(
                c.behaviour(&info(image), &cmd, &args, policy),
                want,
                "{image} {cmd:?} {args:?} {policy}"
            );
        }
    }

    #[test]
    fn tag_patterns_expand() {
        assert_eq!(expand_tags("1.9.{0..2}"), ["1.9.0", "1.9.1", "1.9.2"]);
        assert_eq!(
            expand_tags("{3.11,3.12}-{slim,alpine}"),
            ["3.11-slim", "3.11-alpine", "3.12-slim", "3.12-alpine"]
        );
        assert_eq!(expand_tags("latest"), ["latest"]);
        assert_eq!(
            expand_tags("{1.15,1.15.{0..1}}{,-alpine}"),
            [
                "1.15",
                "1.15-alpine",
                "1.15.0",
                "1.15.0-alpine",
                "1.15.1",
                "1.15.1-alpine"
            ]
        );
    }

    #[test]
    fn a_catalog_file_with_an_unknown_profile_is_rejected_with_its_repository() {
        let bad = "repositories:\n- {name: nginx, tags: [a], sizeBytes: 1, profile: dancing}\n";
        let e = Catalog::from_yaml(bad).unwrap_err().to_string();
        assert!(e.contains("nginx") && e.contains("dancing"), "{e}");
    }

    #[test]
    fn a_user_declares_an_image_by_a_directory_of_files_and_an_entrypoint() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("train/app")).unwrap();
        std::fs::write(dir.path().join("train/app/train.py"), "print('hi')\n").unwrap();
        std::fs::write(dir.path().join("train/VERSION"), "1\n").unwrap();
        let file = dir.path().join("images.yaml");
        std::fs::write(
            &file,
            "repositories:\n- name: me/train\n  tags: [latest]\n  sizeBytes: 1\n  profile: runs\n  \
             runsFor: 5s\n  entrypoint: [python3, /app/train.py]\n  command: ['3']\n  filesFrom: train\n",
        )
        .unwrap();
        let c = Catalog::from_file(&file).unwrap();
        let Resolution::Found(info) = resolve(&c, "me/train") else {
            panic!("me/train not found");
        };
        assert_eq!(info.entrypoint, ["python3", "/app/train.py"]);
        assert_eq!(info.command, ["3"]);
        assert_eq!(
            info.files,
            [
                ("/VERSION".to_string(), "1\n".to_string()),
                ("/app/train.py".to_string(), "print('hi')\n".to_string())
            ]
        );
        // Without a file to be relative to, `filesFrom` means nothing.
        let text = std::fs::read_to_string(&file).unwrap();
        let e = Catalog::from_yaml(&text).unwrap_err().to_string();
        assert!(e.contains("me/train") && e.contains("filesFrom"), "{e}");
    }

    #[test]
    fn the_tutorials_training_image_runs_its_own_program() {
        let Resolution::Found(info) = resolve(&Catalog::embedded(), "nemo1107/train") else {
            panic!("nemo1107/train not found");
        };
        assert_eq!(info.entrypoint, ["python", "train.py"]);
        let file = |p: &str| {
            info.files
                .iter()
                .find(|(f, _)| f == p)
                .map(|(_, c)| c.clone())
        };
        assert!(file("/train.py").is_some_and(|c| c.contains("sys.argv")));
        assert!(file("/usr/local/bin/python").is_some_and(|c| c.starts_with("#!/bin/sh")));
    }
}
