//! Volumes: the default StorageClass `standard` (provisioner `rancher.io/local-path`, as in
//! kind, but with `volumeBindingMode: Immediate` — every simulated node reaches the same disk, so
//! there is no topology to wait for) and its provisioner: a claim of that class gets a
//! PersistentVolume `pvc-<claim uid>` backed by a directory under `<data dir>/volumes`, and both
//! are bound (`Bound`, capacity, access modes, `claimRef`, the `pv.kubernetes.io/*`
//! annotations). When the claim goes, its volume is `Released`; with reclaim policy `Delete`
//! the volume and its directory are removed. A claim without a class gets the default one (the
//! API server's admission does this on create; this also fixes claims created before the class).

use crate::events::{ObjectRef, Recorder, Source};
use crate::time::SimClock;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::Api;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

pub const CLASS: &str = "standard";
pub const PROVISIONER: &str = "rancher.io/local-path";
const DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";

/// The default StorageClass.
pub fn default_class() -> Value {
    json!({
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": CLASS, "annotations": {DEFAULT_CLASS: "true"}},
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    })
}

/// Create the default StorageClass unless one named `standard` exists.
pub async fn ensure_default_class(client: &kube::Client) -> anyhow::Result<()> {
    let api: Api<StorageClass> = Api::all(client.clone());
    if api.get_opt(CLASS).await?.is_none() {
        let sc: StorageClass = serde_json::from_value(default_class())?;
        match api.create(&PostParams::default(), &sc).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The PersistentVolume provisioned for a claim.
pub fn volume_for(claim: &PersistentVolumeClaim, class: &StorageClass, dir: &str) -> Value {
    let spec = claim.spec.clone().unwrap_or_default();
    let storage = spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .map(|q| q.0.clone())
        .unwrap_or_else(|| "1Gi".into());
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": format!("pvc-{}", claim.metadata.uid.clone().unwrap_or_default()),
            "annotations": {"pv.kubernetes.io/provisioned-by": class.provisioner},
        },
        "spec": {
            "accessModes": spec.access_modes.clone().unwrap_or_else(|| vec!["ReadWriteOnce".into()]),
            "capacity": {"storage": storage},
            "claimRef": {
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "name": claim.metadata.name, "namespace": claim.metadata.namespace,
                "uid": claim.metadata.uid, "resourceVersion": claim.metadata.resource_version,
            },
            "hostPath": {"path": dir, "type": "DirectoryOrCreate"},
            "persistentVolumeReclaimPolicy": class.reclaim_policy.clone().unwrap_or_else(|| "Delete".into()),
            "storageClassName": class.metadata.name,
            "volumeMode": spec.volume_mode.clone().unwrap_or_else(|| "Filesystem".into()),
        },
    })
}

/// The directory of the volume the provisioner made for claim `namespace/claim`
/// (`<data dir>/volumes/pvc-<claim uid>_<namespace>_<claim>`; the newest if an old one is
/// still being reclaimed). It outlives the pods that use it.
pub fn claim_dir(data_dir: &std::path::Path, namespace: &str, claim: &str) -> Option<PathBuf> {
    let suffix = format!("_{namespace}_{claim}");
    std::fs::read_dir(data_dir.join("volumes"))
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.starts_with("pvc-")
                && n.ends_with(&suffix)
                && !n[..n.len() - suffix.len()].contains('_')
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, p)| p)
}

enum Input {
    Claim(Box<watcher::Event<PersistentVolumeClaim>>),
    Volume(Box<watcher::Event<PersistentVolume>>),
}

struct Provisioner {
    client: kube::Client,
    recorder: Recorder,
    source: Source,
    root: PathBuf,
    claims: HashMap<String, PersistentVolumeClaim>,
    volumes: HashMap<String, PersistentVolume>,
    dirty: bool,
}

fn claim_key(ns: &str, name: &str) -> String {
    format!("{ns}/{name}")
}

impl Provisioner {
    fn on_input(&mut self, i: Input) {
        self.dirty = true;
        #[allow(clippy::large_enum_variant)]
        enum E {
            Claim(watcher::Event<PersistentVolumeClaim>),
            Volume(watcher::Event<PersistentVolume>),
        }
        let i = match i {
            Input::Claim(e) => E::Claim(*e),
            Input::Volume(e) => E::Volume(*e),
        };
        match i {
            E::Claim(watcher::Event::Apply(c)) | E::Claim(watcher::Event::InitApply(c)) => {
                let k = claim_key(
                    c.metadata.namespace.as_deref().unwrap_or(""),
                    c.metadata.name.as_deref().unwrap_or(""),
                );
                self.claims.insert(k, c);
            }
            E::Claim(watcher::Event::Delete(c)) => {
                let k = claim_key(
                    c.metadata.namespace.as_deref().unwrap_or(""),
                    c.metadata.name.as_deref().unwrap_or(""),
                );
                self.claims.remove(&k);
            }
            E::Volume(watcher::Event::Apply(v)) | E::Volume(watcher::Event::InitApply(v)) => {
                self.volumes
                    .insert(v.metadata.name.clone().unwrap_or_default(), v);
            }
            E::Volume(watcher::Event::Delete(v)) => {
                self.volumes
                    .remove(v.metadata.name.as_deref().unwrap_or(""));
            }
            _ => {}
        }
    }

    async fn classes(&self) -> Vec<StorageClass> {
        Api::<StorageClass>::all(self.client.clone())
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
            .unwrap_or_default()
    }

    async fn reconcile(&mut self) {
        let pending: Vec<PersistentVolumeClaim> = self
            .claims
            .values()
            .filter(|c| c.metadata.deletion_timestamp.is_none())
            .filter(|c| {
                c.spec
                    .as_ref()
                    .and_then(|s| s.volume_name.as_deref())
                    .is_none_or(str::is_empty)
            })
            .cloned()
            .collect();
        let classes = if pending.is_empty() {
            Vec::new()
        } else {
            self.classes().await
        };
        for claim in pending {
            if let Err(e) = self.provision(&claim, &classes).await {
                tracing::debug!("claim {:?}: {e}", claim.metadata.name);
            }
        }
        // Volumes whose claim is gone.
        let released: Vec<PersistentVolume> = self
            .volumes
            .values()
            .filter(|v| {
                let Some(r) = v.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
                    return false;
                };
                let k = claim_key(
                    r.namespace.as_deref().unwrap_or(""),
                    r.name.as_deref().unwrap_or(""),
                );
                self.claims.get(&k).is_none_or(|c| c.metadata.uid != r.uid)
            })
            .cloned()
            .collect();
        for v in released {
            self.reclaim(&v).await;
        }
    }

    async fn provision(
        &mut self,
        claim: &PersistentVolumeClaim,
        classes: &[StorageClass],
    ) -> anyhow::Result<()> {
        let ns = claim.metadata.namespace.clone().unwrap_or_default();
        let name = claim.metadata.name.clone().unwrap_or_default();
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), &ns);
        let class_name = match claim
            .spec
            .as_ref()
            .and_then(|s| s.storage_class_name.clone())
        {
            Some(c) => c,
            None => {
                // Retroactive default class.
                let Some(d) = classes.iter().find(|c| {
                    c.metadata
                        .annotations
                        .as_ref()
                        .and_then(|a| a.get(DEFAULT_CLASS))
                        .map(String::as_str)
                        == Some("true")
                }) else {
                    return Ok(());
                };
                let d = d.metadata.name.clone().unwrap_or_default();
                claims
                    .patch(
                        &name,
                        &PatchParams::default(),
                        &Patch::Merge(&json!({"spec": {"storageClassName": d}})),
                    )
                    .await?;
                return Ok(());
            }
        };
        let Some(class) = classes
            .iter()
            .find(|c| c.metadata.name.as_deref() == Some(class_name.as_str()))
        else {
            return Ok(());
        };
        if class.provisioner != PROVISIONER {
            return Ok(());
        }
        let uid = claim.metadata.uid.clone().unwrap_or_default();
        let pv_name = format!("pvc-{uid}");
        let dir = self.root.join(format!("{pv_name}_{ns}_{name}"));
        std::fs::create_dir_all(&dir)?;
        let volumes: Api<PersistentVolume> = Api::all(self.client.clone());
        let pv_obj = volume_for(claim, class, &dir.to_string_lossy());
        let fresh = !self.volumes.contains_key(&pv_name);
        if fresh {
            let pv: PersistentVolume = serde_json::from_value(pv_obj.clone())?;
            self.recorder.record(
                self.claim_ref(claim),
                &self.source,
                false,
                "Provisioning",
                format!("External provisioner is provisioning volume for claim \"{ns}/{name}\""),
            );
            match volumes.create(&PostParams::default(), &pv).await {
                Ok(v) => {
                    self.volumes.insert(pv_name.clone(), v);
                }
                Err(kube::Error::Api(e)) if e.code == 409 => {}
                Err(e) => return Err(e.into()),
            }
            self.recorder.record(
                self.claim_ref(claim),
                &self.source,
                false,
                "ProvisioningSucceeded",
                format!("Successfully provisioned volume {pv_name}"),
            );
        }
        volumes
            .patch_status(
                &pv_name,
                &PatchParams::default(),
                &Patch::Merge(&json!({"status": {"phase": "Bound"}})),
            )
            .await?;
        let bind = json!({
            "metadata": {"annotations": {
                "pv.kubernetes.io/bind-completed": "yes",
                "pv.kubernetes.io/bound-by-controller": "yes",
                "volume.beta.kubernetes.io/storage-provisioner": PROVISIONER,
                "volume.kubernetes.io/storage-provisioner": PROVISIONER,
            }},
            "spec": {"volumeName": pv_name},
        });
        let bound = claims
            .patch(&name, &PatchParams::default(), &Patch::Merge(&bind))
            .await?;
        let status = json!({"status": {
            "phase": "Bound",
            "accessModes": pv_obj["spec"]["accessModes"],
            "capacity": pv_obj["spec"]["capacity"],
        }});
        let bound_status = claims
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .unwrap_or(bound);
        let k = claim_key(&ns, &name);
        self.claims.insert(k, bound_status);
        Ok(())
    }

    fn claim_ref(&self, claim: &PersistentVolumeClaim) -> ObjectRef {
        ObjectRef::new(
            "PersistentVolumeClaim",
            "v1",
            claim.metadata.namespace.as_deref().unwrap_or_default(),
            claim.metadata.name.as_deref().unwrap_or_default(),
            claim.metadata.uid.as_deref().unwrap_or_default(),
        )
    }

    async fn reclaim(&mut self, v: &PersistentVolume) {
        let name = v.metadata.name.clone().unwrap_or_default();
        let volumes: Api<PersistentVolume> = Api::all(self.client.clone());
        let phase = v
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        if phase != "Released" {
            let _ = volumes
                .patch_status(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(&json!({"status": {"phase": "Released"}})),
                )
                .await;
        }
        let spec = v.spec.clone().unwrap_or_default();
        let ours = v
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("pv.kubernetes.io/provisioned-by"))
            .map(String::as_str)
            == Some(PROVISIONER);
        if spec.persistent_volume_reclaim_policy.as_deref() != Some("Delete") || !ours {
            return;
        }
        if let Some(path) = spec.host_path.as_ref().map(|h| PathBuf::from(&h.path)) {
            if path.starts_with(&self.root) {
                let _ = std::fs::remove_dir_all(&path);
            }
        }
        if volumes
            .delete(&name, &DeleteParams::default())
            .await
            .is_ok()
        {
            self.volumes.remove(&name);
        }
    }
}

/// Run the provisioner (and binder) until dropped; volumes live under `<data_dir>/volumes`.
pub async fn run(client: kube::Client, _clock: SimClock, recorder: Recorder, data_dir: PathBuf) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Input>();
    let claims: Api<PersistentVolumeClaim> = Api::all(client.clone());
    let ctx = tx.clone();
    tokio::spawn(async move {
        let mut s = watcher(claims, watcher::Config::default().any_semantic()).boxed();
        while let Some(ev) = s.next().await {
            match ev {
                Ok(ev) => {
                    if ctx.send(Input::Claim(Box::new(ev))).is_err() {
                        return;
                    }
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    });
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    tokio::spawn(async move {
        let mut s = watcher(volumes, watcher::Config::default().any_semantic()).boxed();
        while let Some(ev) = s.next().await {
            match ev {
                Ok(ev) => {
                    if tx.send(Input::Volume(Box::new(ev))).is_err() {
                        return;
                    }
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    });
    let mut p = Provisioner {
        client,
        recorder,
        source: Source {
            component: format!("{PROVISIONER}_local-path-provisioner").into(),
            host: None,
        },
        root: data_dir.join("volumes"),
        claims: HashMap::new(),
        volumes: HashMap::new(),
        dirty: false,
    };
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            Some(i) = rx.recv() => p.on_input(i),
            _ = tick.tick() => {
                if p.dirty {
                    p.dirty = false;
                    p.reconcile().await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_gets_a_volume_of_its_size_modes_and_class() {
        let claim: PersistentVolumeClaim = serde_json::from_value(json!({
            "metadata": {"name": "nginx-vol-mysts-0", "namespace": "default", "uid": "u1", "resourceVersion": "7"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "storageClassName": "standard"},
        }))
        .unwrap();
        let class: StorageClass = serde_json::from_value(default_class()).unwrap();
        let pv = volume_for(
            &claim,
            &class,
            "/data/volumes/pvc-u1_default_nginx-vol-mysts-0",
        );
        assert_eq!(pv["metadata"]["name"], "pvc-u1");
        assert_eq!(pv["spec"]["capacity"]["storage"], "1Gi");
        assert_eq!(pv["spec"]["accessModes"], json!(["ReadWriteOnce"]));
        assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Delete");
        assert_eq!(pv["spec"]["storageClassName"], "standard");
        assert_eq!(pv["spec"]["claimRef"]["uid"], "u1");
        assert_eq!(
            pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"],
            PROVISIONER
        );
        serde_json::from_value::<PersistentVolume>(pv).unwrap();
        assert_eq!(class.volume_binding_mode.as_deref(), Some("Immediate"));
    }
}
