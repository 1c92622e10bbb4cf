use crate::common::*;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::json;

fn web(replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.7.9"}]}
            }
        }
    }))
    .unwrap()
}

async fn running_web(c: &mut Cluster) {
    c.run_kubelet(by_image);
    c.create::<Deployment>(&web(3)).await;
    eventually("3 pods", || async {
        (pods(c, "app=web").await.len() == 3).then_some(())
    })
    .await;
}

async fn count<K>(c: &Cluster) -> usize
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    c.api::<K>()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test]
async fn deleting_a_deployment_in_the_background_removes_its_replicasets_and_pods() {
    let mut c = Cluster::start().await;
    running_web(&mut c).await;
    c.api::<Deployment>()
        .delete("web", &DeleteParams::background())
        .await
        .unwrap();
    eventually("everything gone", || async {
        (count::<Deployment>(&c).await == 0
            && count::<ReplicaSet>(&c).await == 0
            && count::<Pod>(&c).await == 0)
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_foreground_deletion_waits_for_blocking_dependents() {
    let mut c = Cluster::start().await;
    running_web(&mut c).await;
    // Hold one pod with a finalizer of our own.
    let held = pods(&c, "app=web").await[0].name_any();
    c.api::<Pod>()
        .patch(
            &held,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": ["test/hold"]}})),
        )
        .await
        .unwrap();
    c.api::<Deployment>()
        .delete("web", &DeleteParams::foreground())
        .await
        .unwrap();
    eventually("the other pods gone", || async {
        (count::<Pod>(&c).await == 1).then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let d = c
        .api::<Deployment>()
        .get("web")
        .await
        .expect("the owner waits");
    assert!(d.finalizers().contains(&"foregroundDeletion".to_string()));
    assert_eq!(
        count::<ReplicaSet>(&c).await,
        1,
        "the replica set waits for its pod"
    );
    c.api::<Pod>()
        .patch(
            &held,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await
        .unwrap();
    eventually("everything gone", || async {
        (count::<Deployment>(&c).await == 0
            && count::<ReplicaSet>(&c).await == 0
            && count::<Pod>(&c).await == 0)
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_orphaning_deletion_leaves_dependents_without_the_owner_reference() {
    let mut c = Cluster::start().await;
    running_web(&mut c).await;
    c.api::<Deployment>()
        .delete("web", &DeleteParams::orphan())
        .await
        .unwrap();
    eventually("the deployment gone", || async {
        (count::<Deployment>(&c).await == 0).then_some(())
    })
    .await;
    let rss = c
        .api::<ReplicaSet>()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(rss.len(), 1);
    assert!(
        rss[0].owner_references().is_empty(),
        "{:?}",
        rss[0].owner_references()
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        pods(&c, "app=web").await.len(),
        3,
        "pods keep running under the replica set"
    );
}

#[tokio::test]
async fn objects_whose_owner_does_not_exist_are_deleted() {
    let c = Cluster::start().await;
    let cm: ConfigMap = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "dangling", "ownerReferences": [{
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "gone", "uid": "00000000-0000-0000-0000-000000000000"
        }]}
    }))
    .unwrap();
    let api: Api<ConfigMap> = c.api();
    api.create(&PostParams::default(), &cm).await.unwrap();
    eventually("the dangling configmap deleted", || async {
        api.get_opt("dangling").await.ok()?.is_none().then_some(())
    })
    .await;
}

/// The collector's list of kinds is the API server's kinds table (events and views of another
/// kind's storage aside), so no kind the server serves is left out of ownership.
#[test]
fn the_collector_knows_every_kind_the_api_server_stores() {
    use controller_manager::gc::RESOURCES;
    let mut served: Vec<(&str, &str, &str, &str, bool)> = apiserver::kinds::all()
        .into_iter()
        .filter(|k| k.kind != "Event" && k.storage.is_none())
        .map(|k| (k.group, k.version, k.kind, k.plural, k.namespaced))
        .collect();
    let mut known = RESOURCES.to_vec();
    served.sort();
    known.sort();
    assert_eq!(known, served);
}

#[tokio::test]
async fn informer_caches_hold_no_managed_fields_and_what_a_transform_leaves() {
    use controller_manager::shared::informer::Informer;
    use kube::api::{ApiResource, DynamicObject};
    use kube::core::PartialObjectMeta;
    let c = Cluster::start().await;
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "cached"}, "data": {"k": "v"}}))
    .unwrap();
    let pp = PostParams {
        field_manager: Some("test".into()),
        ..PostParams::default()
    };
    let created = c.api::<ConfigMap>().create(&pp, &cm).await.unwrap();
    assert!(
        created.metadata.managed_fields.is_some(),
        "the server records them"
    );

    let typed = Informer::new(c.api::<ConfigMap>());
    let typed_store = typed.store.clone();
    let ar = ApiResource::erase::<ConfigMap>(&());
    let dynamic = Informer::new_with(
        Api::<DynamicObject>::namespaced_with(c.client.clone(), "default", &ar),
        ar.clone(),
    )
    .with_transform(|o| o.data = serde_json::Value::Null);
    let dynamic_store = dynamic.store.clone();
    // The garbage collector's kind: only metadata is asked for, sent and held.
    let meta = Informer::new_with(
        Api::<PartialObjectMeta<DynamicObject>>::namespaced_with(c.client.clone(), "default", &ar),
        ar.clone(),
    );
    let meta_store = meta.store.clone();
    let tasks = [
        tokio::spawn(typed.run()),
        tokio::spawn(dynamic.run()),
        tokio::spawn(meta.run()),
    ];
    typed_store.wait_until_ready().await.unwrap();
    dynamic_store.wait_until_ready().await.unwrap();
    meta_store.wait_until_ready().await.unwrap();

    let t = typed_store.state();
    let cached = t.iter().find(|o| o.name_any() == "cached").unwrap();
    assert_eq!(cached.metadata.managed_fields, None);
    assert_eq!(cached.data, cm.data);
    let d = dynamic_store.state();
    let cached = d.iter().find(|o| o.name_any() == "cached").unwrap();
    assert_eq!(cached.metadata.managed_fields, None);
    assert_eq!(cached.metadata.uid, created.metadata.uid);
    assert_eq!(cached.data, serde_json::Value::Null);
    let m = meta_store.state();
    let cached = m.iter().find(|o| o.name_any() == "cached").unwrap();
    assert_eq!(
        cached.types.as_ref().map(|t| t.kind.as_str()),
        Some("PartialObjectMetadata")
    );
    assert_eq!(cached.metadata.managed_fields, None);
    assert_eq!(cached.metadata.uid, created.metadata.uid);
    for t in tasks {
        t.abort();
    }
}
