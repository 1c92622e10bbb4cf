//! The kubelet's reads of what a pod references: each ConfigMap and Secret named by its
//! volumes, `env` and `envFrom`, fetched from the API server before the pod's machine steps
//! (`apidata::Sources`). Objects are read afresh each time they are needed (while volumes are
//! set up or containers created), so a ConfigMap created late is seen at the next retry;
//! files already written are not updated when the object changes.

use crate::apidata::{references, Fetched, Kind, NodeFacts, Sources};
use crate::lifecycle::PodSpecView;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;

/// The error text of a failed read other than NotFound.
fn failed(kind: Kind, name: &str, e: kube::Error) -> Fetched {
    Fetched::Failed(format!("failed to get {} {name:?}: {e}", kind.resource()))
}

/// Read every object `spec` references, in its namespace.
pub async fn fetch(client: &kube::Client, spec: &PodSpecView, node: &NodeFacts) -> Sources {
    let mut sources = Sources {
        node: node.clone(),
        ..Sources::default()
    };
    for (kind, name) in references(spec) {
        let fetched = match kind {
            Kind::ConfigMap => {
                let api: Api<ConfigMap> = Api::namespaced(client.clone(), &spec.namespace);
                match api.get_opt(&name).await {
                    Ok(Some(cm)) => Fetched::of_config_map(&cm),
                    Ok(None) => Fetched::Missing,
                    Err(e) => failed(kind, &name, e),
                }
            }
            Kind::Secret => {
                let api: Api<Secret> = Api::namespaced(client.clone(), &spec.namespace);
                match api.get_opt(&name).await {
                    Ok(Some(s)) => Fetched::of_secret(&s),
                    Ok(None) => Fetched::Missing,
                    Err(e) => failed(kind, &name, e),
                }
            }
        };
        sources.objects.insert((kind, name), fetched);
    }
    sources
}
