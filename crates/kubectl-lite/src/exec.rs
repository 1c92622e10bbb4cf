//! `exec`: runs a command in a pod's container over the `pods/exec` WebSocket (kube-rs's
//! remote-command client), copying stdin/stdout/stderr, and ends with the command's exit code
//! and kubectl's `command terminated with exit code N`.

use std::io::IsTerminal as _;

use anyhow::{bail, Result};
use k8s_openapi::api::core::v1::Pod;
use kube::api::AttachParams;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::client::ServerError;
use crate::logs::default_container;
use crate::Ctx;

/// The flags of `kubectl exec`.
#[derive(Debug, Default)]
pub struct ExecArgs {
    /// `POD` or `pod/NAME`.
    pub args: Vec<String>,
    /// What to run (after `--`).
    pub command: Vec<String>,
    pub container: Option<String>,
    pub stdin: bool,
    pub tty: bool,
    pub quiet: bool,
}

const USAGE: &str = "See 'kubectl exec -h' for help and examples";

pub async fn run(ctx: &mut Ctx, a: &ExecArgs) -> Result<i32> {
    let (target, command) = match a.args.as_slice() {
        [target] => (target, &a.command),
        [] => bail!("expected 'exec (POD | TYPE/NAME) COMMAND [ARG1] [ARG2] ... [ARGN]'.\nPOD or TYPE/NAME is a required argument for the exec command\n{USAGE}"),
        _ => bail!("exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\n{USAGE}"),
    };
    if command.is_empty() {
        bail!("you must specify at least one command for the container\n{USAGE}");
    }
    let name = match target.split_once('/') {
        Some(("pod" | "pods" | "po", n)) => n.to_string(),
        Some((ty, _)) => bail!("cannot exec into {ty}: only pods are supported by kubectl-lite"),
        None => target.clone(),
    };
    let pod = ctx
        .api
        .get(&format!(
            "/api/v1/namespaces/{}/pods/{}",
            ctx.namespace, name
        ))
        .await?;
    let phase = pod["status"]["phase"].as_str().unwrap_or_default();
    if phase == "Succeeded" || phase == "Failed" {
        bail!("cannot exec into a container in a completed pod; current phase is {phase}");
    }
    let container = match &a.container {
        Some(c) => c.clone(),
        None => {
            let (c, notice) = default_container(&pod)?;
            if let (Some(n), false) = (notice, a.quiet) {
                eprintln!("{n}");
            }
            c
        }
    };
    if !has_container(&pod, &container) {
        // kube-apiserver's answer (`ExecLocation`); kube-rs would only report the failed upgrade.
        return Err(ServerError {
            code: 400,
            reason: "BadRequest".into(),
            message: format!("container {container} is not valid for pod {name}"),
        }
        .into());
    }
    // kubectl drops the TTY when stdin is not a terminal, and says so.
    let tty = a.tty && a.stdin && std::io::stdin().is_terminal();
    if a.tty && !tty && !a.quiet {
        eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
    }
    let params = AttachParams::default()
        .container(container)
        .stdin(a.stdin)
        .stdout(true)
        .stderr(!tty)
        .tty(tty);
    let pods: kube::Api<Pod> = kube::Api::namespaced(ctx.api.client(), &ctx.namespace);
    let mut proc = pods.exec(&name, command.to_vec(), &params).await?;
    let status = proc.take_status();
    let stdin = proc.stdin().map(|mut w| {
        tokio::spawn(async move {
            let mut input = tokio::io::stdin();
            let mut buf = vec![0u8; 16 * 1024];
            while let Ok(n) = input.read(&mut buf).await {
                if n == 0 || w.write_all(&buf[..n]).await.is_err() {
                    break;
                }
                let _ = w.flush().await;
            }
            let _ = w.shutdown().await;
        })
    });
    let copy_out = |r: Option<tokio::io::ReadHalf<tokio::io::SimplexStream>>, err: bool| async move {
        if let Some(mut r) = r {
            if err {
                let _ = tokio::io::copy(&mut r, &mut tokio::io::stderr()).await;
            } else {
                let _ = tokio::io::copy(&mut r, &mut tokio::io::stdout()).await;
            }
        }
    };
    tokio::join!(
        copy_out(proc.stdout(), false),
        copy_out(proc.stderr(), true)
    );
    let status = match status {
        Some(s) => s.await,
        None => None,
    };
    if let Some(t) = stdin {
        t.abort();
    }
    let status = status.map(|s| serde_json::to_value(s).unwrap_or(Value::Null));
    match exit_code(status.as_ref()) {
        Ok(0) => Ok(0),
        Ok(code) => {
            eprintln!("command terminated with exit code {code}");
            Ok(code)
        }
        Err(message) => bail!("{message}"),
    }
}

fn has_container(pod: &Value, name: &str) -> bool {
    ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| pod["spec"][k].as_array().into_iter().flatten())
        .any(|c| c["name"] == name)
}

/// The exit code the remote-command Status carries: 0 for `Success` (or no Status), the
/// `ExitCode` cause of `NonZeroExitCode`, or the Status message as an error.
pub fn exit_code(status: Option<&Value>) -> Result<i32, String> {
    let Some(s) = status else {
        return Ok(0);
    };
    if s["status"] == "Success" {
        return Ok(0);
    }
    if s["reason"] == "NonZeroExitCode" {
        let code = s["details"]["causes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["reason"] == "ExitCode")
            .and_then(|c| c["message"].as_str())
            .and_then(|m| m.parse().ok());
        if let Some(code) = code {
            return Ok(code);
        }
    }
    Err(s["message"]
        .as_str()
        .unwrap_or("error executing remote command")
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_remote_status_becomes_the_exit_code() {
        assert_eq!(exit_code(None), Ok(0));
        assert_eq!(exit_code(Some(&json!({"status": "Success"}))), Ok(0));
        let failed = json!({
            "status": "Failure",
            "reason": "NonZeroExitCode",
            "message": "command terminated with non-zero exit code: exit status 3",
            "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}
        });
        assert_eq!(exit_code(Some(&failed)), Ok(3));
        let other = json!({"status": "Failure", "message": "container not running"});
        assert_eq!(
            exit_code(Some(&other)),
            Err("container not running".to_string())
        );
    }

    #[test]
    fn containers_of_every_kind_are_found_by_name() {
        let pod =
            json!({"spec": {"containers": [{"name": "a"}], "initContainers": [{"name": "i"}]}});
        assert!(has_container(&pod, "a"));
        assert!(has_container(&pod, "i"));
        assert!(!has_container(&pod, "nope"));
    }
}
