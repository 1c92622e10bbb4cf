//! The kubelet's reads of what a pod references: each ConfigMap and Secret named by its
//! volumes, `env` and `envFrom`, fetched from the API server before the pod's machine steps
//! (`apidata::Sources`). Objects are read afresh each time they are needed (while volumes are
//! set up or containers created), so a ConfigMap created late is seen at the next retry;
//! files already written are not updated when the object changes.

use crate::apidata::{references, Fetched, Kind, NodeFacts, Sources};
use crate::lifecycle::PodSpecView;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;

/// Get object `name` of kind `K` in `ns`, as `conv` makes it `Fetched`.
async fn get<K>(
    client: &kube::Client,
    ns: &str,
    kind: Kind,
    name: &str,
    conv: fn(&K) -> Fetched,
) -> Fetched
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    match Api::<K>::namespaced(client.clone(), ns).get_opt(name).await {
        Ok(Some(o)) => conv(&o),
        Ok(None) => Fetched::Missing,
        Err(e) => Fetched::Failed(format!("failed to get {} {name:?}: {e}", kind.resource())),
    }
}

/// Read every object `spec` references, in its namespace.
pub async fn fetch(client: &kube::Client, spec: &PodSpecView, node: &NodeFacts) -> Sources {
    let mut sources = Sources {
        node: node.clone(),
        ..Sources::default()
    };
    let ns = spec.namespace.as_str();
    for (kind, name) in references(spec) {
        let fetched = match kind {
            Kind::ConfigMap => {
                get::<ConfigMap>(client, ns, kind, &name, Fetched::of_config_map).await
            }
            Kind::Secret => get::<Secret>(client, ns, kind, &name, Fetched::of_secret).await,
        };
        sources.objects.insert((kind, name), fetched);
    }
    sources
}
