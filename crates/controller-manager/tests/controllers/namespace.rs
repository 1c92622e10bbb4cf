use crate::common::*;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::Api;
use serde_json::json;

#[tokio::test]
async fn deleting_a_namespace_deletes_its_contents_then_the_namespace() {
    let mut c = Cluster::start().await;
    c.run_kubelet(by_image);
    let nss: Api<Namespace> = Api::all(c.client.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "team"}})).unwrap(),
    )
    .await
    .unwrap();
    let rs: ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    }))
    .unwrap();
    Api::<ReplicaSet>::namespaced(c.client.clone(), "team")
        .create(&PostParams::default(), &rs)
        .await
        .unwrap();
    Api::<ConfigMap>::namespaced(c.client.clone(), "team")
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "cfg"}})).unwrap(),
        )
        .await
        .unwrap();
    let team_pods: Api<Pod> = Api::namespaced(c.client.clone(), "team");
    eventually("2 pods", || async {
        (team_pods
            .list(&ListParams::default())
            .await
            .ok()?
            .items
            .len()
            == 2)
            .then_some(())
    })
    .await;
    nss.delete("team", &DeleteParams::default()).await.unwrap();
    eventually("the namespace gone", || async {
        nss.get_opt("team").await.ok()?.is_none().then_some(())
    })
    .await;
}
