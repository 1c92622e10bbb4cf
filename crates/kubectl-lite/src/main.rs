//! kubectl-lite: a fast subset of kubectl v1.35 whose output matches kubectl's byte for byte
//! (server-side tables, `-o json|yaml|name`, apply/delete/scale messages).

mod client;
mod complete;
mod config;
mod describe;
mod discovery;
mod edit;
mod exec;
mod get;
mod gojson;
mod goyaml;
mod jsonpath;
mod logs;
mod manifest;
mod misc;
mod mutate;
mod rollout;
mod table;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use crate::client::Api;

#[derive(Parser, Debug)]
#[command(
    name = "kubectl-lite",
    about = "kubectl-lite controls the Kubernetes cluster manager (a fast kubectl subset)."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Args, Debug, Clone)]
struct Global {
    /// Path to the kubeconfig file to use for CLI requests.
    #[arg(long, global = true)]
    kubeconfig: Option<PathBuf>,
    /// The name of the kubeconfig context to use.
    #[arg(long, global = true)]
    context: Option<String>,
    /// The address and port of the Kubernetes API server.
    #[arg(short = 's', long, global = true)]
    server: Option<String>,
    /// If present, the namespace scope for this CLI request.
    #[arg(short = 'n', long, global = true)]
    namespace: Option<String>,
    /// Accepted for compatibility; requests use the client default timeout.
    #[arg(long, global = true)]
    request_timeout: Option<String>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Display one or many resources.
    Get {
        args: Vec<String>,
        #[arg(short = 'o', long)]
        output: Option<String>,
        #[arg(short = 'l', long)]
        selector: Option<String>,
        #[arg(long)]
        field_selector: Option<String>,
        #[arg(short = 'A', long)]
        all_namespaces: bool,
        #[arg(long)]
        show_labels: bool,
        /// With -o json|yaml: keep metadata.managedFields.
        #[arg(long)]
        show_managed_fields: bool,
        #[arg(long)]
        no_headers: bool,
        /// After listing/getting the requested object, watch for changes.
        #[arg(short = 'w', long)]
        watch: bool,
        /// Watch for changes to the requested object(s), without listing/getting first.
        #[arg(long)]
        watch_only: bool,
        /// Output watch event objects when --watch or --watch-only is used.
        #[arg(long)]
        output_watch_events: bool,
    },
    /// Show details of a specific resource or group of resources.
    Describe {
        args: Vec<String>,
        #[arg(short = 'l', long)]
        selector: Option<String>,
        #[arg(short = 'A', long)]
        all_namespaces: bool,
        #[arg(long, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
        show_events: Option<bool>,
        #[arg(short = 'f', long = "filename")]
        filename: Vec<String>,
        #[arg(short = 'R', long)]
        recursive: bool,
    },
    /// Apply a configuration to a resource by file name or stdin.
    Apply {
        #[arg(short = 'f', long = "filename", required = true)]
        filename: Vec<String>,
        #[arg(short = 'R', long)]
        recursive: bool,
        #[arg(long)]
        record: bool,
        /// strict (default), warn or ignore/false: the fieldValidation sent to the server.
        #[arg(long, default_value = "strict", num_args = 0..=1, default_missing_value = "strict")]
        validate: String,
        /// Apply on the server (server-side apply) instead of a three-way merge here.
        #[arg(long)]
        server_side: bool,
        /// With --server-side: take the fields other managers own.
        #[arg(long)]
        force_conflicts: bool,
        /// The manager recorded for the fields this applies.
        #[arg(long)]
        field_manager: Option<String>,
    },
    /// Create a resource from a file or from stdin.
    Create {
        #[arg(short = 'f', long = "filename", required = true)]
        filename: Vec<String>,
        #[arg(short = 'R', long)]
        recursive: bool,
        #[arg(long)]
        record: bool,
        /// strict (default), warn or ignore/false: the fieldValidation sent to the server.
        #[arg(long, default_value = "strict", num_args = 0..=1, default_missing_value = "strict")]
        validate: String,
    },
    /// Delete resources by file names, stdin, resources and names, or by resources and label selector.
    Delete {
        args: Vec<String>,
        #[arg(short = 'f', long = "filename")]
        filename: Vec<String>,
        #[arg(short = 'R', long)]
        recursive: bool,
        #[arg(long)]
        all: bool,
        #[arg(short = 'l', long)]
        selector: Option<String>,
        #[arg(long, default_value = "true", action = clap::ArgAction::Set)]
        wait: bool,
        #[arg(long, default_value = "background")]
        cascade: String,
        #[arg(long)]
        grace_period: Option<i64>,
    },
    /// Set a new size for a deployment, replica set, replication controller, or stateful set.
    Scale {
        args: Vec<String>,
        // kubectl's usage text, which `__complete` prints (a doc comment loses the period).
        #[arg(long, help = "The new desired number of replicas. Required.")]
        replicas: i64,
    },
    /// Set specific features on objects.
    Set {
        #[command(subcommand)]
        what: SetCmd,
    },
    /// Update the labels on a resource.
    Label {
        args: Vec<String>,
        #[arg(long)]
        overwrite: bool,
    },
    /// Update the annotations on a resource.
    Annotate {
        args: Vec<String>,
        #[arg(long)]
        overwrite: bool,
    },
    /// Manage the rollout of a resource.
    Rollout {
        #[command(subcommand)]
        what: RolloutCmd,
    },
    /// Edit a resource on the server.
    Edit { args: Vec<String> },
    /// Execute a command in a container.
    Exec {
        /// POD (or pod/POD).
        args: Vec<String>,
        /// The command, after `--`.
        #[arg(last = true)]
        command: Vec<String>,
        #[arg(short = 'c', long)]
        container: Option<String>,
        #[arg(short = 'i', long)]
        stdin: bool,
        #[arg(short = 't', long)]
        tty: bool,
        #[arg(short = 'q', long)]
        quiet: bool,
    },
    /// Print the logs for a container in a pod.
    Logs {
        args: Vec<String>,
        #[arg(short = 'c', long)]
        container: Option<String>,
        #[arg(short = 'f', long)]
        follow: bool,
        #[arg(short = 'p', long)]
        previous: bool,
        #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
        tail: i64,
        #[arg(long)]
        timestamps: bool,
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        since_time: Option<String>,
        #[arg(long)]
        limit_bytes: Option<i64>,
    },
    /// Print the client and server version information.
    Version {
        /// Client version only (no server required).
        #[arg(long)]
        client: bool,
    },
    /// Print the supported API resources on the server.
    ApiResources {
        #[arg(long)]
        namespaced: Option<bool>,
        #[arg(long)]
        no_headers: bool,
        #[arg(short = 'o', long)]
        output: Option<String>,
    },
    /// Output shell completion code for the specified shell (bash, zsh, fish, or powershell).
    #[command(override_usage = "kubectl completion SHELL")]
    Completion { args: Vec<String> },
    /// Modify kubeconfig files.
    Config {
        #[command(subcommand)]
        what: ConfigCmd,
    },
}

#[derive(Subcommand, Debug)]
enum SetCmd {
    /// Update the image of a pod template.
    Image {
        args: Vec<String>,
        #[arg(long)]
        record: bool,
    },
}

#[derive(Subcommand, Debug)]
enum RolloutCmd {
    /// Show the status of the rollout.
    Status {
        args: Vec<String>,
        #[arg(short = 'w', long, default_value = "true", action = clap::ArgAction::Set)]
        watch: bool,
    },
    /// View rollout history.
    History {
        args: Vec<String>,
        #[arg(long)]
        revision: Option<i64>,
    },
    /// Undo a previous rollout.
    Undo {
        args: Vec<String>,
        #[arg(long, default_value = "0")]
        to_revision: i64,
    },
    /// Restart a resource.
    Restart { args: Vec<String> },
    /// Mark the provided resource as paused.
    Pause { args: Vec<String> },
    /// Resume a paused resource.
    Resume { args: Vec<String> },
}

#[derive(Subcommand, Debug)]
enum ConfigCmd {
    /// Display merged kubeconfig settings.
    View {
        #[arg(long)]
        minify: bool,
        #[arg(long)]
        raw: bool,
    },
    /// Describe one or many contexts.
    GetContexts {
        #[arg(long)]
        no_headers: bool,
        #[arg(short = 'o', long)]
        output: Option<String>,
    },
    /// Set the current-context in a kubeconfig file.
    UseContext { name: String },
    /// Display the current-context.
    CurrentContext,
}

/// What every command needs: the server and the effective namespace.
pub struct Ctx {
    pub api: Api,
    pub namespace: String,
    pub namespace_explicit: bool,
    pub resolved: config::Resolved,
}

async fn connect(g: &Global, command: &str) -> Result<Ctx> {
    let flags = config::Flags {
        kubeconfig: g.kubeconfig.clone(),
        context: g.context.clone(),
        server: g.server.clone(),
        namespace: g.namespace.clone(),
    };
    let resolved = config::resolve(&flags)?;
    let api = Api::connect(&resolved, g.server.is_some(), command).await?;
    Ok(Ctx {
        api,
        namespace: resolved.namespace.clone(),
        namespace_explicit: g.namespace.is_some(),
        resolved,
    })
}

async fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Cmd::Get {
            args,
            output,
            selector,
            field_selector,
            all_namespaces,
            show_labels,
            show_managed_fields,
            no_headers,
            watch,
            watch_only,
            output_watch_events,
        } => {
            let mut ctx = connect(&cli.global, "get").await?;
            let a = get::GetArgs {
                args,
                output,
                selector,
                field_selector,
                all_namespaces,
                show_labels,
                show_managed_fields,
                no_headers,
                watch,
                watch_only,
                output_watch_events,
            };
            get::run(&mut ctx, &a).await
        }
        Cmd::Describe {
            args,
            selector,
            all_namespaces,
            show_events,
            filename,
            recursive,
        } => {
            let mut ctx = connect(&cli.global, "describe").await?;
            let a = describe::DescribeArgs {
                args,
                selector,
                all_namespaces,
                show_events,
                files: filename,
                recursive,
            };
            describe::run(&mut ctx, &a).await
        }
        Cmd::Apply {
            filename,
            recursive,
            record,
            validate,
            server_side,
            force_conflicts,
            field_manager,
        } => {
            if force_conflicts && !server_side {
                anyhow::bail!("--force-conflicts only works with --server-side");
            }
            let mut ctx = connect(&cli.global, "apply").await?;
            if record {
                deprecated_record();
            }
            let cause = record_cause("apply");
            let files = mutate::FileArgs {
                files: filename,
                recursive,
                record,
                record_cause: cause,
                validation: validation(&validate)?,
            };
            let server_side = server_side.then(|| mutate::ServerSide {
                field_manager: field_manager.unwrap_or_else(|| "kubectl".into()),
                force: force_conflicts,
            });
            mutate::apply(&mut ctx, &files, server_side.as_ref()).await
        }
        Cmd::Create {
            filename,
            recursive,
            record,
            validate,
        } => {
            let mut ctx = connect(&cli.global, "create").await?;
            if record {
                deprecated_record();
            }
            let cause = record_cause("create");
            mutate::create(
                &mut ctx,
                &mutate::FileArgs {
                    files: filename,
                    recursive,
                    record,
                    record_cause: cause,
                    validation: validation(&validate)?,
                },
            )
            .await
        }
        Cmd::Delete {
            args,
            filename,
            recursive,
            all,
            selector,
            wait,
            cascade,
            grace_period,
        } => {
            let mut ctx = connect(&cli.global, "delete").await?;
            let cascade = match cascade.as_str() {
                "orphan" | "false" => "Orphan",
                "foreground" => "Foreground",
                _ => "Background",
            }
            .to_string();
            mutate::delete(
                &mut ctx,
                &mutate::DeleteArgs {
                    args,
                    files: filename,
                    recursive,
                    all,
                    selector,
                    wait,
                    cascade,
                    grace_period,
                },
            )
            .await
        }
        Cmd::Scale { args, replicas } => {
            let mut ctx = connect(&cli.global, "scale").await?;
            mutate::scale(&mut ctx, &args, replicas).await
        }
        Cmd::Set {
            what: SetCmd::Image { args, record },
        } => {
            let mut ctx = connect(&cli.global, "set image").await?;
            let cause = record.then(|| {
                deprecated_record();
                record_cause("set image")
            });
            mutate::set_image(&mut ctx, &args, cause.as_deref()).await
        }
        Cmd::Label { args, overwrite } => {
            let mut ctx = connect(&cli.global, "label").await?;
            mutate::label_or_annotate(&mut ctx, &args, overwrite, false).await
        }
        Cmd::Annotate { args, overwrite } => {
            let mut ctx = connect(&cli.global, "annotate").await?;
            mutate::label_or_annotate(&mut ctx, &args, overwrite, true).await
        }
        Cmd::Rollout { what } => {
            let mut ctx = connect(&cli.global, "rollout").await?;
            match what {
                RolloutCmd::Status { args, watch } => rollout::status(&mut ctx, &args, watch).await,
                RolloutCmd::History { args, revision } => {
                    rollout::history(&mut ctx, &args, revision).await
                }
                RolloutCmd::Undo { args, to_revision } => {
                    rollout::undo(&mut ctx, &args, to_revision).await
                }
                RolloutCmd::Restart { args } => rollout::restart(&mut ctx, &args).await,
                RolloutCmd::Pause { args } => rollout::pause_or_resume(&mut ctx, &args, true).await,
                RolloutCmd::Resume { args } => {
                    rollout::pause_or_resume(&mut ctx, &args, false).await
                }
            }
        }
        Cmd::Edit { args } => {
            let mut ctx = connect(&cli.global, "edit").await?;
            edit::run(&mut ctx, &args).await
        }
        Cmd::Exec {
            args,
            command,
            container,
            stdin,
            tty,
            quiet,
        } => {
            let mut ctx = connect(&cli.global, "exec").await?;
            let a = exec::ExecArgs {
                args,
                command,
                container,
                stdin,
                tty,
                quiet,
            };
            exec::run(&mut ctx, &a).await
        }
        Cmd::Logs {
            args,
            container,
            follow,
            previous,
            tail,
            timestamps,
            since,
            since_time,
            limit_bytes,
        } => {
            let mut ctx = connect(&cli.global, "logs").await?;
            let a = logs::LogsArgs {
                args,
                container,
                follow,
                previous,
                tail,
                timestamps,
                since,
                since_time,
                limit_bytes,
            };
            logs::run(&mut ctx, &a).await
        }
        Cmd::Version { client: true } => {
            misc::client_version();
            Ok(0)
        }
        Cmd::Version { client: false } => {
            let ctx = connect(&cli.global, "version").await?;
            misc::version(&ctx).await
        }
        Cmd::ApiResources {
            namespaced,
            no_headers,
            output,
        } => {
            let ctx = connect(&cli.global, "api-resources").await?;
            misc::api_resources(&ctx, namespaced, no_headers, output.as_deref()).await
        }
        Cmd::Completion { args } => {
            let script = completion_script(&args)?;
            // A closed pipe (`| head`) is not an error for a script dump.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), script.as_bytes());
            Ok(0)
        }
        Cmd::Config { what } => {
            let flags = config::Flags {
                kubeconfig: cli.global.kubeconfig.clone(),
                context: cli.global.context.clone(),
                ..Default::default()
            };
            match what {
                ConfigCmd::View { minify, raw } => misc::config_view(&flags, minify, raw),
                ConfigCmd::GetContexts { no_headers, output } => {
                    misc::get_contexts(&flags, no_headers, output.as_deref())
                }
                ConfigCmd::UseContext { name } => misc::use_context(&flags, &name),
                ConfigCmd::CurrentContext => misc::current_context(&flags),
            }
        }
    }
}

/// `completion SHELL`: for bash a script that asks `kubectl-lite __complete` (live types and
/// names, as kubectl's cobra script does); for the other shells clap_complete's static script
/// of kubectl-lite's command tree; kubectl's usage errors.
fn completion_script(args: &[String]) -> Result<String> {
    use clap::CommandFactory;
    use clap_complete::Shell;
    let usage =
        |msg: String| anyhow::anyhow!("{msg}\nSee 'kubectl completion -h' for help and examples");
    let shell = match args {
        [] => return Err(usage("Shell not specified.".into())),
        [one] => one,
        _ => {
            return Err(usage(
                "Too many arguments. Expected only the shell type.".into(),
            ))
        }
    };
    let shell = match shell.as_str() {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        "powershell" => Shell::PowerShell,
        other => return Err(usage(format!("Unsupported shell type {other:?}."))),
    };
    if shell == Shell::Bash {
        return Ok(complete::bash_script("kubectl-lite"));
    }
    let mut out: Vec<u8> = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "kubectl-lite", &mut out);
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn deprecated_record() {
    eprintln!("Flag --record has been deprecated, --record will be removed in the future");
}

/// The `kubernetes.io/change-cause` value `--record` stores: `kubectl <command>`, its
/// positional arguments, and the flags that were set, in command-line order, in cobra's
/// `--long-name=value` form.
fn record_cause(command: &str) -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    record_cause_from(command, &args)
}

fn record_cause_from(command: &str, args: &[String]) -> String {
    const BOOLS: &[&str] = &["recursive", "record", "all", "overwrite", "all-namespaces"];
    let long = |short: &str| -> Option<&'static str> {
        Some(match short {
            "f" => "filename",
            "R" => "recursive",
            "n" => "namespace",
            "l" => "selector",
            "s" => "server",
            "o" => "output",
            "A" => "all-namespaces",
            _ => return None,
        })
    };
    let mut flags = String::new();
    let mut positional: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        let (name, inline) = if let Some(rest) = a.strip_prefix("--") {
            match rest.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (rest.to_string(), None),
            }
        } else if let Some(rest) = a.strip_prefix('-').filter(|r| !r.is_empty()) {
            let (flag, tail) = rest.split_at(1);
            let Some(n) = long(flag) else { continue };
            let tail = tail.strip_prefix('=').unwrap_or(tail);
            (n.to_string(), (!tail.is_empty()).then(|| tail.to_string()))
        } else {
            positional.push(a);
            continue;
        };
        let value = if BOOLS.contains(&name.as_str()) {
            inline.unwrap_or_else(|| "true".to_string())
        } else {
            match inline {
                Some(v) => v,
                None => {
                    i += 1;
                    args.get(i - 1).cloned().unwrap_or_default()
                }
            }
        };
        flags.push_str(&format!(" --{name}={value}"));
    }
    // The leading positionals are the command path itself (`set image`).
    let rest = positional
        .get(command.split(' ').count()..)
        .unwrap_or_default()
        .join(" ");
    let sep = if rest.is_empty() { "" } else { " " };
    format!("kubectl {command}{sep}{rest}{flags}")
}

/// `--validate` → the `fieldValidation` query value.
fn validation(flag: &str) -> Result<String> {
    Ok(match flag.to_lowercase().as_str() {
        "strict" | "true" => "Strict",
        "warn" => "Warn",
        "ignore" | "false" => "Ignore",
        other => {
            return Err(anyhow::anyhow!(
                "invalid - validate option \"{other}\"; must be one of: strict (or true), warn, ignore (or false)"
            ))
        }
    }
    .to_string())
}

/// The command path (`get`, `set image`) of a command line, for kubectl's usage hints.
fn command_path(args: &[String]) -> String {
    const VALUED: &[&str] = &[
        "--kubeconfig",
        "--context",
        "-s",
        "--server",
        "-n",
        "--namespace",
        "--request-timeout",
    ];
    let mut words = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if VALUED.contains(&a.as_str()) {
            it.next();
        } else if !a.starts_with('-') {
            words.push(a.as_str());
            if words.len() == 2 || !["set", "rollout", "config"].contains(&words[0]) {
                break;
            }
        }
    }
    words.join(" ")
}

/// kubectl's (cobra's) report of an unknown flag, from clap's error.
fn unknown_flag_message(arg: &str, args: &[String]) -> String {
    let flag = arg.split_once('=').map_or(arg, |(f, _)| f);
    let what = match flag.strip_prefix("--") {
        Some(_) => format!("unknown flag: {flag}"),
        None => {
            let c = flag.trim_start_matches('-').chars().next().unwrap_or('-');
            format!("unknown shorthand flag: '{c}' in {arg}")
        }
    };
    format!(
        "error: {what}\nSee 'kubectl {} --help' for usage.",
        command_path(args)
    )
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let hidden = argv.get(1).map(String::as_str);
    if let Some(mode @ ("__complete" | "__completeNoDesc")) = hidden {
        use clap::CommandFactory;
        let descriptions = mode == "__complete";
        return block_on(complete::run(&Cli::command(), &argv[2..], descriptions));
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::{ContextKind, ContextValue, ErrorKind};
            if e.kind() == ErrorKind::UnknownArgument {
                if let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) {
                    let args: Vec<String> = std::env::args().skip(1).collect();
                    eprintln!("{}", unknown_flag_message(arg, &args));
                    return ExitCode::from(1);
                }
            }
            e.exit()
        }
    };
    block_on(run(cli))
}

/// Runs a command on a current-thread runtime; an error is printed as kubectl prints it.
fn block_on(command: impl std::future::Future<Output = Result<i32>>) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let code = match rt.block_on(command) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            mutate::print_error(&e);
            ExitCode::from(1)
        }
    };
    // A read of stdin (`exec -i`) may still be blocked on the terminal: do not wait for it.
    rt.shutdown_background();
    code
}

#[cfg(test)]
mod tests {
    use super::{record_cause_from, unknown_flag_message};

    #[test]
    fn completion_scripts_name_the_binary_bash_asks_the_binary_and_errors_follow_kubectl() {
        for shell in ["zsh", "fish", "powershell"] {
            let script = super::completion_script(&[shell.to_string()]).unwrap();
            assert!(script.contains("kubectl-lite"), "{shell}");
            assert!(script.contains("describe"), "{shell}");
        }
        // bash asks the binary, which knows live resource types and names.
        let bash = super::completion_script(&["bash".to_string()]).unwrap();
        assert!(bash.contains("__complete"), "{bash}");
        assert!(bash.contains("complete -o noquote -F __kubectl_lite_complete kubectl-lite"));
        let err = |args: &[&str]| {
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            super::completion_script(&args).unwrap_err().to_string()
        };
        let see = "\nSee 'kubectl completion -h' for help and examples";
        assert_eq!(err(&[]), format!("Shell not specified.{see}"));
        assert_eq!(
            err(&["foo"]),
            format!("Unsupported shell type \"foo\".{see}")
        );
        assert_eq!(
            err(&["bash", "a"]),
            format!("Too many arguments. Expected only the shell type.{see}")
        );
    }

    #[test]
    fn unknown_flags_are_reported_like_cobra() {
        let args: Vec<String> = ["-n", "x", "set", "image", "deploy/a", "--nope=1"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            unknown_flag_message("--nope=1", &args),
            "error: unknown flag: --nope\nSee 'kubectl set image --help' for usage."
        );
        let args: Vec<String> = ["get", "pods", "-z"].map(String::from).to_vec();
        assert_eq!(
            unknown_flag_message("-z", &args),
            "error: unknown shorthand flag: 'z' in -z\nSee 'kubectl get --help' for usage."
        );
    }

    #[test]
    fn record_cause_lists_flags_in_command_line_order_with_long_names() {
        let args: Vec<String> = ["apply", "-R", "-f", "dir/", "--record", "-n", "default"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            record_cause_from("apply", &args),
            "kubectl apply --recursive=true --filename=dir/ --record=true --namespace=default"
        );
        let args: Vec<String> = [
            "-n",
            "twin",
            "set",
            "image",
            "deployment",
            "mydeploy",
            "nginx=nginx:1.9.1",
            "--record",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            record_cause_from("set image", &args),
            "kubectl set image deployment mydeploy nginx=nginx:1.9.1 --namespace=twin --record=true"
        );
    }
}
