//! The real kubectl's `explain` against `kube-lite up`: the default output (read from the v3
//! documents), `--output=plaintext-openapiv2` (read from `/openapi/v2` in gnostic's protobuf,
//! what client-go's `OpenAPISchema()` asks for) with and without `--recursive`, and the
//! errors for unknown resources and fields. The kubectl binary comes from `KUBE_LITE_KUBECTL`
//! (default `kubectl`).

use testkit::{kubectl, kubectl_ok, KubeLite};

fn start() -> KubeLite {
    KubeLite::start(env!("CARGO_BIN_EXE_kube-lite"), &[])
}

const V2: &str = "--output=plaintext-openapiv2";

/// What kubectl v1.35 prints for `explain deployment.spec.strategy
/// --output=plaintext-openapiv2` from kube-lite's schemas. A real cluster prints the same,
/// but for one more paragraph under `type` ("Possible enum values: …"), which kube-apiserver's
/// descriptions have and k8s-openapi's do not.
const DEPLOYMENT_SPEC_STRATEGY: &str = "KIND:     Deployment
VERSION:  apps/v1

RESOURCE: strategy <Object>

DESCRIPTION:
     The deployment strategy to use to replace existing pods with new ones.

     DeploymentStrategy describes how to replace existing pods with new ones.

FIELDS:
   rollingUpdate\t<Object>
     Rolling update config params. Present only if DeploymentStrategyType =
     RollingUpdate.

   type\t<string>
     Type of deployment. Can be \"Recreate\" or \"RollingUpdate\". Default is
     RollingUpdate.

";

fn assert_has(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

#[test]
fn kubectl_explain_plaintext_openapiv2_shows_the_fields_of_deployment_spec_strategy() {
    let k = start();
    let out = kubectl_ok(&k, &["explain", "deployment.spec.strategy", V2]);
    assert_eq!(out, DEPLOYMENT_SPEC_STRATEGY);

    let out = kubectl_ok(
        &k,
        &[
            "explain",
            "deployment.spec.strategy.rollingUpdate.maxSurge",
            V2,
        ],
    );
    assert_has(
        &out,
        &[
            "KIND:     Deployment\nVERSION:  apps/v1\n",
            "FIELD:    maxSurge <string>\n",
            "     The maximum number of pods that can be scheduled above the desired number\n",
            "     IntOrString is a type that can hold an int32 or a string.",
        ],
    );

    let out = kubectl_ok(&k, &["explain", "pods.spec", V2]);
    assert_has(
        &out,
        &[
            "KIND:     Pod\nVERSION:  v1\n",
            "RESOURCE: spec <Object>\n",
            "   containers\t<[]Object> -required-\n",
            "   nodeSelector\t<map[string]string>\n",
        ],
    );
}

#[test]
fn kubectl_explain_pods_recursive_plaintext_openapiv2_lists_every_nested_field() {
    let k = start();
    let out = kubectl_ok(&k, &["explain", "pods", "--recursive", V2]);
    assert_has(
        &out,
        &[
            "KIND:     Pod\nVERSION:  v1\n",
            "FIELDS:\n   apiVersion\t<string>\n   kind\t<string>\n   metadata\t<Object>\n",
            "      labels\t<map[string]string>\n",
            "      managedFields\t<[]Object>\n",
            "         fieldsV1\t<map[string]>\n",
            "   spec\t<Object>\n",
            "      containers\t<[]Object>\n",
            "            limits\t<map[string]string>\n",
            "   status\t<Object>\n",
        ],
    );
    assert!(out.lines().count() > 1000, "{out}");
}

#[test]
fn kubectl_explain_prints_the_schema_descriptions() {
    let k = start();
    let out = kubectl_ok(&k, &["explain", "deployment.spec.strategy"]);
    assert_has(
        &out,
        &[
            "GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n",
            "FIELD: strategy <DeploymentStrategy>",
            "The deployment strategy to use to replace existing pods with new ones.",
            "rollingUpdate\t<RollingUpdateDeployment>",
        ],
    );

    let out = kubectl_ok(&k, &["explain", "pods.spec.containers"]);
    assert_has(
        &out,
        &[
            "KIND:       Pod",
            "FIELD: containers <[]Container>",
            "image\t<string>",
            "name\t<string> -required-",
        ],
    );
}

#[test]
fn kubectl_explain_of_unknown_resources_and_fields_fails_with_kubectls_messages() {
    let k = start();
    for output in [None, Some(V2)] {
        let with = |args: &[&'static str]| {
            let mut args = args.to_vec();
            args.extend(output);
            kubectl(&k, &args)
        };
        let o = with(&["explain", "nosuchthing"]);
        assert_eq!(o.code, 1, "{output:?}: {}{}", o.stdout, o.stderr);
        assert_eq!(
            o.stderr.trim(),
            "the server doesn't have a resource type \"nosuchthing\"",
            "{output:?}"
        );
        let o = with(&["explain", "deployment.spec.nosuchfield"]);
        assert_eq!(o.code, 1, "{output:?}: {}{}", o.stdout, o.stderr);
        assert_eq!(
            o.stderr.trim(),
            "error: field \"nosuchfield\" does not exist",
            "{output:?}"
        );
    }
}
