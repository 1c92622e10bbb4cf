//! The writing commands: `apply` (client-side, last-applied annotation + three-way strategic
//! merge patch), `create -f`, `delete` (waiting for the objects to go), `scale`,
//! `set image`, `label`, `annotate`.

use std::time::Duration;

use anyhow::{anyhow, Result};
use apimachinery::k8s_patch_meta::{builtin_definitions, definition_name};
use apimachinery::strategic_merge::{
    create_three_way_merge_patch, create_two_way_merge_patch, PatchSchema,
};
use http::Method;
use serde_json::{json, Map, Value};

use crate::client::{Api, ServerError, ACCEPT_JSON};
use crate::discovery::{Discovery, Resource};
use crate::manifest::{self, Manifest};
use crate::{gojson, Ctx};

pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";
const SMP: &str = "application/strategic-merge-patch+json";
const MERGE: &str = "application/merge-patch+json";

/// The served resource for an object's apiVersion and kind.
pub async fn resource_for(ctx: &Ctx, disc: &mut Discovery, obj: &Value) -> Result<Resource> {
    let api_version = obj["apiVersion"].as_str().unwrap_or("");
    let kind = obj["kind"].as_str().unwrap_or("");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let find = |d: &Discovery| {
        d.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.kind == kind)
            .or_else(|| {
                d.resources
                    .iter()
                    .find(|r| r.group == group && r.kind == kind)
            })
            .cloned()
    };
    if let Some(r) = find(disc) {
        return Ok(r);
    }
    *disc = Discovery::fetch(&ctx.api).await?;
    find(disc).ok_or_else(|| {
        anyhow!(
            "resource mapping not found for name: \"{}\" namespace: \"{}\" from \"\": no matches for kind \"{kind}\" in version \"{api_version}\"\nensure CRDs are installed first",
            obj["metadata"]["name"].as_str().unwrap_or(""),
            obj["metadata"]["namespace"].as_str().unwrap_or("")
        )
    })
}

/// The strategic-merge schema cursor root for a kind (built-in patch strategies).
fn schema() -> PatchSchema {
    PatchSchema::from_definitions(&builtin_definitions())
}

/// `kubectl apply`'s patch: three-way strategic merge of the last-applied configuration
/// (`original`, absent on objects created otherwise), the new manifest and the live object.
pub fn apply_patch(original: Option<&Value>, modified: &Value, current: &Value) -> Result<Value> {
    let schema = schema();
    let name = definition_name(
        modified["apiVersion"].as_str().unwrap_or(""),
        modified["kind"].as_str().unwrap_or(""),
    );
    let cursor = schema.root(&name);
    let original = original.cloned().unwrap_or(Value::Null);
    create_three_way_merge_patch(&original, modified, current, cursor).map_err(|e| anyhow!("{e}"))
}

/// The object with its last-applied annotation set, as `GetModifiedConfiguration` builds it:
/// the annotation is the compact JSON of the object without it (with `annotations: {}`).
pub fn with_last_applied(obj: &Value) -> Value {
    let mut obj = obj.clone();
    let meta = obj
        .as_object_mut()
        .map(|o| o.entry("metadata").or_insert_with(|| json!({})));
    if let Some(meta) = meta.and_then(Value::as_object_mut) {
        let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
        if let Some(a) = annotations.as_object_mut() {
            a.remove(LAST_APPLIED);
        } else {
            *annotations = json!({});
        }
    }
    let text = format!("{}\n", gojson::to_string_compact(&obj));
    obj["metadata"]["annotations"][LAST_APPLIED] = json!(text);
    obj
}

fn server_error(e: anyhow::Error, verb: &str, source: &str) -> anyhow::Error {
    match e.downcast::<ServerError>() {
        Ok(mut se) => {
            se.message = format!("error when {verb} \"{source}\": {}", se.message);
            se.into()
        }
        Err(e) => e,
    }
}

/// Places an object in its namespace (or refuses a conflicting `-n`).
fn namespace_for(ctx: &Ctx, res: &Resource, m: &Manifest) -> Result<Option<String>> {
    if !res.namespaced {
        return Ok(None);
    }
    let own = m.object["metadata"]["namespace"]
        .as_str()
        .filter(|s| !s.is_empty());
    match own {
        Some(ns) if ctx.namespace_explicit && ns != ctx.namespace => Err(anyhow!(
            "the namespace from the provided object \"{ns}\" does not match the namespace \"{}\". You must pass '--namespace={ns}' to perform this operation.",
            ctx.namespace
        )),
        Some(ns) => Ok(Some(ns.to_string())),
        None => Ok(Some(ctx.namespace.clone())),
    }
}

/// Options for `apply`/`create -f`.
pub struct FileArgs {
    pub files: Vec<String>,
    pub recursive: bool,
    pub record: bool,
    pub record_cause: String,
    /// `Strict`, `Warn` or `Ignore`.
    pub validation: String,
}

/// `apply --server-side`: the manager and whether it takes fields from others.
pub struct ServerSide {
    pub field_manager: String,
    pub force: bool,
}

/// kubectl's advice after a server-side apply conflict.
const CONFLICT_ADVICE: &str =
    "Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the `--force-conflicts` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).
See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts";

pub async fn apply(ctx: &mut Ctx, a: &FileArgs, server_side: Option<&ServerSide>) -> Result<i32> {
    let manifests = manifest::load(&a.files, a.recursive)?;
    if manifests.is_empty() {
        return Err(anyhow!("no objects passed to apply"));
    }
    let mut disc = Discovery::load(&ctx.api).await?;
    let mut failed = false;
    for m in &manifests {
        let applied = match server_side {
            Some(ss) => apply_on_server(ctx, &mut disc, m, a, ss).await,
            None => apply_one(ctx, &mut disc, m, a).await,
        };
        match applied {
            Ok(line) => println!("{line}"),
            Err(e) => {
                failed = true;
                print_error(&e);
            }
        }
    }
    Ok(i32::from(failed))
}

/// Prints an error as kubectl does: server errors and raw errors as they are, others
/// prefixed with `error: `.
pub fn print_error(e: &anyhow::Error) {
    if let Some(se) = e.downcast_ref::<ServerError>() {
        eprintln!("{se}");
    } else if let Some(raw) = e.downcast_ref::<crate::client::RawError>() {
        eprintln!("{raw}");
    } else {
        eprintln!("error: {e:#}");
    }
}

/// One object applied on the server: the whole manifest as the apply patch.
async fn apply_on_server(
    ctx: &Ctx,
    disc: &mut Discovery,
    m: &Manifest,
    a: &FileArgs,
    ss: &ServerSide,
) -> Result<String> {
    let res = resource_for(ctx, disc, &m.object).await?;
    let ns = namespace_for(ctx, &res, m)?;
    let name = m.object["metadata"]["name"].as_str().unwrap_or("");
    let mut obj = m.object.clone();
    if let Some(ns) = &ns {
        obj["metadata"]["namespace"] = json!(ns);
    }
    if a.record {
        obj["metadata"]["annotations"][CHANGE_CAUSE] = json!(a.record_cause);
    }
    let path = res.object(ns.as_deref().unwrap_or(""), name);
    let q = format!(
        "fieldManager={}&fieldValidation={}&force={}",
        crate::get::encode(&ss.field_manager),
        a.validation,
        ss.force
    );
    ctx.api
        .json(
            Method::PATCH,
            &format!("{path}?{q}"),
            ACCEPT_JSON,
            Some(("application/apply-patch+yaml", serde_json::to_vec(&obj)?)),
        )
        .await
        .map_err(|e| match e.downcast::<ServerError>() {
            Ok(se) if se.code == 409 && se.reason == "Conflict" => {
                anyhow!("{}\n{CONFLICT_ADVICE}", se.message)
            }
            Ok(se) => se.into(),
            Err(e) => e,
        })?;
    Ok(format!("{}/{name} serverside-applied", res.kind_prefix()))
}

async fn apply_one(ctx: &Ctx, disc: &mut Discovery, m: &Manifest, a: &FileArgs) -> Result<String> {
    let res = resource_for(ctx, disc, &m.object).await?;
    let ns = namespace_for(ctx, &res, m)?;
    let name = m.object["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let mut obj = m.object.clone();
    if let Some(ns) = &ns {
        obj["metadata"]["namespace"] = json!(ns);
    }
    if a.record {
        obj["metadata"]["annotations"][CHANGE_CAUSE] = json!(a.record_cause);
    }
    let modified = with_last_applied(&obj);
    let ns_str = ns.clone().unwrap_or_default();
    let path = res.object(&ns_str, &name);
    let (code, body) = ctx.api.raw(Method::GET, &path, ACCEPT_JSON, None).await?;
    let label = format!("{}/{}", res.kind_prefix(), name);
    let q = format!(
        "fieldManager=kubectl-client-side-apply&fieldValidation={}",
        a.validation
    );
    if code == 404 {
        let coll = res.collection(ns.as_deref());
        ctx.api
            .json(
                Method::POST,
                &format!("{coll}?{q}"),
                ACCEPT_JSON,
                Some(("application/json", serde_json::to_vec(&modified)?)),
            )
            .await
            .map_err(|e| server_error(e, "creating", &m.source))?;
        return Ok(format!("{label} created"));
    }
    if !(200..300).contains(&code) {
        return Err(server_error(
            ServerError::from_body(code, &body).into(),
            "retrieving current configuration of",
            &m.source,
        ));
    }
    let current: Value = serde_json::from_slice(&body)?;
    let original: Option<Value> = current["metadata"]["annotations"][LAST_APPLIED]
        .as_str()
        .and_then(|s| serde_json::from_str(s).ok());
    if original.is_none() {
        eprintln!(
            "Warning: resource {}/{name} is missing the {LAST_APPLIED} annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.",
            res.resource
        );
    }
    let patch = apply_patch(original.as_ref(), &modified, &current)?;
    if patch.as_object().is_some_and(Map::is_empty) {
        return Ok(format!("{label} unchanged"));
    }
    ctx.api
        .json(
            Method::PATCH,
            &format!("{path}?{q}"),
            ACCEPT_JSON,
            Some((SMP, serde_json::to_vec(&patch)?)),
        )
        .await
        .map_err(|e| server_error(e, "applying patch to", &m.source))?;
    Ok(format!("{label} configured"))
}

pub async fn create(ctx: &mut Ctx, a: &FileArgs) -> Result<i32> {
    let manifests = manifest::load(&a.files, a.recursive)?;
    let mut disc = Discovery::load(&ctx.api).await?;
    let mut failed = false;
    for m in &manifests {
        let r: Result<String> = async {
            let res = resource_for(ctx, &mut disc, &m.object).await?;
            let ns = namespace_for(ctx, &res, m)?;
            let mut obj = m.object.clone();
            if let Some(ns) = &ns {
                obj["metadata"]["namespace"] = json!(ns);
            }
            if a.record {
                obj["metadata"]["annotations"][CHANGE_CAUSE] = json!(a.record_cause);
            }
            let created = ctx
                .api
                .json(
                    Method::POST,
                    &format!(
                        "{}?fieldManager=kubectl-create&fieldValidation={}",
                        res.collection(ns.as_deref()),
                        a.validation
                    ),
                    ACCEPT_JSON,
                    Some(("application/json", serde_json::to_vec(&obj)?)),
                )
                .await
                .map_err(|e| server_error(e, "creating", &m.source))?;
            Ok(format!(
                "{}/{} created",
                res.kind_prefix(),
                created["metadata"]["name"].as_str().unwrap_or("")
            ))
        }
        .await;
        match r {
            Ok(line) => println!("{line}"),
            Err(e) => {
                failed = true;
                print_error(&e);
            }
        }
    }
    Ok(i32::from(failed))
}

/// Resolves `TYPE NAME...` or `TYPE/NAME...` arguments into (resource, name) pairs.
pub async fn targets(
    ctx: &Ctx,
    disc: &mut Discovery,
    args: &[String],
) -> Result<Vec<(Resource, String)>> {
    let mut out = Vec::new();
    if args.is_empty() {
        return Ok(out);
    }
    if args[0].contains('/') {
        for a in args {
            let (t, n) = a.split_once('/').ok_or_else(|| {
                anyhow!("arguments in resource/name form must have a single resource and name")
            })?;
            out.push((disc.resolve(&ctx.api, t).await?, n.to_string()));
        }
    } else {
        let mut types = Vec::new();
        for t in args[0].split(',') {
            types.push(disc.resolve(&ctx.api, t).await?);
        }
        for r in types {
            for n in &args[1..] {
                out.push((r.clone(), n.clone()));
            }
        }
    }
    Ok(out)
}

/// The (resource, namespace, name) of every object in the `-f` manifests (`delete -f`,
/// `describe -f`): namespaced objects in their own namespace, else the current one.
pub async fn manifest_targets(
    ctx: &Ctx,
    disc: &mut Discovery,
    files: &[String],
    recursive: bool,
) -> Result<Vec<(Resource, String, String)>> {
    let mut out = Vec::new();
    for m in manifest::load(files, recursive)? {
        let res = resource_for(ctx, disc, &m.object).await?;
        let ns = namespace_for(ctx, &res, &m)?.unwrap_or_default();
        let name = m.object["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        out.push((res, ns, name));
    }
    Ok(out)
}

/// Options of `delete`.
pub struct DeleteArgs {
    pub args: Vec<String>,
    pub files: Vec<String>,
    pub recursive: bool,
    pub all: bool,
    pub selector: Option<String>,
    pub wait: bool,
    pub cascade: String,
    pub grace_period: Option<i64>,
}

pub async fn delete(ctx: &mut Ctx, a: &DeleteArgs) -> Result<i32> {
    manifest::refuse_resource_args(&a.files, &a.args)?;
    let mut disc = Discovery::load(&ctx.api).await?;
    let mut items: Vec<(Resource, String, String)> = Vec::new(); // resource, ns, name
    if !a.files.is_empty() {
        items = manifest_targets(ctx, &mut disc, &a.files, a.recursive).await?;
    } else if a.all && a.selector.is_some() {
        return Err(anyhow!(
            "setting 'all' parameter but found a non empty selector. "
        ));
    } else if a.all || a.selector.is_some() {
        let Some(types) = a.args.first() else {
            return Err(anyhow!(
                "resource(s) were provided, but no name was specified"
            ));
        };
        for t in types.split(',') {
            let res = disc.resolve(&ctx.api, t).await?;
            let mut path = res.collection(Some(&ctx.namespace));
            if let Some(l) = &a.selector {
                path = format!("{path}?labelSelector={}", crate::get::encode(l));
            }
            let list = ctx.api.get(&path).await?;
            for it in list["items"].as_array().into_iter().flatten() {
                let ns = it["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                let name = it["metadata"]["name"].as_str().unwrap_or("").to_string();
                items.push((res.clone(), ns, name));
            }
        }
        if items.is_empty() {
            println!("No resources found");
            return Ok(0);
        }
    } else {
        if a.args.len() == 1 && !a.args[0].contains('/') {
            return Err(anyhow!(
                "resource(s) were provided, but no name was specified"
            ));
        }
        if a.args.is_empty() {
            return Err(anyhow!(
                "You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'"
            ));
        }
        for (r, n) in targets(ctx, &mut disc, &a.args).await? {
            let ns = if r.namespaced {
                ctx.namespace.clone()
            } else {
                String::new()
            };
            items.push((r, ns, n));
        }
    }
    let mut body = json!({"propagationPolicy": a.cascade});
    if let Some(g) = a.grace_period {
        body["gracePeriodSeconds"] = json!(g);
    }
    let mut failed = false;
    let mut waits = Vec::new();
    for (res, ns, name) in &items {
        let path = res.object(ns, name);
        match ctx
            .api
            .json(
                Method::DELETE,
                &path,
                ACCEPT_JSON,
                Some(("application/json", serde_json::to_vec(&body)?)),
            )
            .await
        {
            Ok(deleted) => {
                if res.namespaced {
                    println!(
                        "{} \"{name}\" deleted from {ns} namespace",
                        res.kind_prefix()
                    );
                } else {
                    println!("{} \"{name}\" deleted", res.kind_prefix());
                }
                let uid = deleted["metadata"]["uid"]
                    .as_str()
                    .or_else(|| deleted["details"]["uid"].as_str())
                    .unwrap_or("")
                    .to_string();
                waits.push((path, uid));
            }
            Err(e) => {
                failed = true;
                print_error(&e);
            }
        }
    }
    if a.wait {
        for (path, uid) in waits {
            wait_gone(&ctx.api, &path, &uid).await?;
        }
    }
    Ok(i32::from(failed))
}

/// Polls until the object is gone (404) or replaced by one with another uid.
async fn wait_gone(api: &Api, path: &str, uid: &str) -> Result<()> {
    loop {
        let (code, body) = api.raw(Method::GET, path, ACCEPT_JSON, None).await?;
        if code == 404 {
            return Ok(());
        }
        if (200..300).contains(&code) {
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if !uid.is_empty() && v["metadata"]["uid"].as_str() != Some(uid) {
                return Ok(());
            }
        } else {
            return Err(ServerError::from_body(code, &body).into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn scale(ctx: &mut Ctx, args: &[String], replicas: i64) -> Result<i32> {
    let mut disc = Discovery::load(&ctx.api).await?;
    let targets = targets(ctx, &mut disc, args).await?;
    if targets.is_empty() {
        return Err(anyhow!("required resource not specified"));
    }
    for (res, name) in targets {
        if !res.subresources.iter().any(|s| s == "scale") {
            return Err(anyhow!(
                "could not find scale subresource for {} in discovery information",
                res.qualified()
            ));
        }
        let path = res.object(&ctx.namespace, &name);
        ctx.api.get(&path).await?;
        ctx.api
            .json(
                Method::PATCH,
                // kubectl names no manager: the server takes `kubectl` from its User-Agent.
                &format!("{path}/scale?fieldManager=kubectl"),
                ACCEPT_JSON,
                Some((
                    MERGE,
                    serde_json::to_vec(&json!({"spec": {"replicas": replicas}}))?,
                )),
            )
            .await?;
        println!("{}/{name} scaled", res.kind_prefix());
    }
    Ok(0)
}

/// The pod spec inside an object of a workload kind.
fn pod_spec_path(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => &["spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => &["spec", "template", "spec"],
    }
}

fn at_mut<'a>(v: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get_mut(*p)?;
    }
    Some(cur)
}

/// `set image TYPE/NAME container=image...`.
pub async fn set_image(ctx: &mut Ctx, args: &[String], record: Option<&str>) -> Result<i32> {
    let (objs, pairs): (Vec<String>, Vec<String>) =
        args.iter().cloned().partition(|a| !a.contains('='));
    if pairs.is_empty() {
        return Err(anyhow!("at least one image update is required"));
    }
    let mut disc = Discovery::load(&ctx.api).await?;
    let schema = schema();
    for (res, name) in targets(ctx, &mut disc, &objs).await? {
        let path = res.object(&ctx.namespace, &name);
        let original = ctx.api.get(&path).await?;
        let mut modified = original.clone();
        let spec_path = pod_spec_path(&res.kind);
        let mut found = false;
        if let Some(spec) = at_mut(&mut modified, spec_path) {
            for pair in &pairs {
                let (cname, image) = pair.split_once('=').unwrap_or((pair, ""));
                for list in ["initContainers", "containers"] {
                    for c in spec
                        .get_mut(list)
                        .and_then(Value::as_array_mut)
                        .into_iter()
                        .flatten()
                    {
                        if cname == "*" || c["name"].as_str() == Some(cname) {
                            c["image"] = json!(image);
                            found = true;
                        }
                    }
                }
                if !found {
                    return Err(anyhow!("unable to find container named \"{cname}\""));
                }
            }
        }
        if let Some(cause) = record {
            modified["metadata"]["annotations"][CHANGE_CAUSE] = json!(cause);
        }
        let cursor = schema.root(&definition_name(
            original["apiVersion"].as_str().unwrap_or(""),
            original["kind"].as_str().unwrap_or(""),
        ));
        let patch =
            create_two_way_merge_patch(&original, &modified, cursor).map_err(|e| anyhow!("{e}"))?;
        // No change: kubectl sends nothing and prints nothing.
        if !patch.as_object().is_some_and(Map::is_empty) {
            ctx.api
                .json(
                    Method::PATCH,
                    &format!("{path}?fieldManager=kubectl-set"),
                    ACCEPT_JSON,
                    Some((SMP, serde_json::to_vec(&patch)?)),
                )
                .await?;
            println!("{}/{name} image updated", res.kind_prefix());
        }
    }
    Ok(0)
}

/// `label` / `annotate`: `TYPE NAME k=v k-` with `--overwrite`.
pub async fn label_or_annotate(
    ctx: &mut Ctx,
    args: &[String],
    overwrite: bool,
    annotate: bool,
) -> Result<i32> {
    let split = args
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, a)| a.contains('=') || a.ends_with('-'))
        .map(|(i, _)| i)
        .unwrap_or(args.len());
    let (objs, changes) = (args[..split].to_vec(), args[split..].to_vec());
    let field = if annotate { "annotations" } else { "labels" };
    if changes.is_empty() {
        return Err(anyhow!(
            "at least one {} update is required",
            if annotate { "annotation" } else { "label" }
        ));
    }
    let mut disc = Discovery::load(&ctx.api).await?;
    for (res, name) in targets(ctx, &mut disc, &objs).await? {
        let path = res.object(&ctx.namespace, &name);
        let current = ctx.api.get(&path).await?;
        let old = current["metadata"][field].clone();
        let mut new = old.as_object().cloned().unwrap_or_default();
        for ch in &changes {
            if let Some((k, v)) = ch.split_once('=') {
                if let Some(existing) = new.get(k) {
                    if !overwrite && existing.as_str() != Some(v) {
                        return Err(anyhow!(
                            "'{k}' already has a value ({}), and --overwrite is false",
                            existing.as_str().unwrap_or("")
                        ));
                    }
                }
                new.insert(k.to_string(), json!(v));
            } else if let Some(k) = ch.strip_suffix('-') {
                if new.remove(k).is_none() && !annotate {
                    println!("label \"{k}\" not found.");
                }
            }
        }
        let old_map = old.as_object().cloned().unwrap_or_default();
        let mut patch_field = Map::new();
        for (k, v) in &new {
            if old_map.get(k) != Some(v) {
                patch_field.insert(k.clone(), v.clone());
            }
        }
        for k in old_map.keys() {
            if !new.contains_key(k) {
                patch_field.insert(k.clone(), Value::Null);
            }
        }
        let verb = if annotate {
            "annotated"
        } else if patch_field.is_empty() && !old.is_null() {
            "not labeled"
        } else if new.len() < old_map.len() {
            "unlabeled"
        } else {
            "labeled"
        };
        if !patch_field.is_empty() {
            let patch = json!({"metadata": {field: patch_field}});
            ctx.api
                .json(
                    Method::PATCH,
                    &format!(
                        "{path}?fieldManager=kubectl-{}",
                        if annotate { "annotate" } else { "label" }
                    ),
                    ACCEPT_JSON,
                    Some((MERGE, serde_json::to_vec(&patch)?)),
                )
                .await?;
        }
        println!("{}/{name} {verb}", res.kind_prefix());
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy(image: &str, replicas: i64) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "d", "namespace": "default"},
               "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "d"}},
                        "template": {"metadata": {"labels": {"app": "d"}},
                                     "spec": {"containers": [{"name": "nginx", "image": image}]}}}})
    }

    #[test]
    fn last_applied_annotation_is_compact_sorted_json_with_empty_annotations_and_newline() {
        let obj = json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c"}, "data": {"a": "<b>"}});
        let m = with_last_applied(&obj);
        assert_eq!(
            m["metadata"]["annotations"][LAST_APPLIED],
            "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"\\u003cb\\u003e\"},\"kind\":\"ConfigMap\",\"metadata\":{\"annotations\":{},\"name\":\"c\"}}\n"
        );
    }

    #[test]
    fn reapplying_a_changed_image_patches_containers_by_name_with_element_order() {
        let old = with_last_applied(&deploy("nginx:1.14", 2));
        let mut live = old.clone();
        live["spec"]["replicas"] = json!(5); // scaled by someone else, also in last-applied
        live["status"] = json!({"replicas": 5});
        let new = with_last_applied(&deploy("nginx:1.16", 3));
        let original: Value = serde_json::from_str(
            old["metadata"]["annotations"][LAST_APPLIED]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        let patch = apply_patch(Some(&original), &new, &live).unwrap();
        assert_eq!(patch["spec"]["replicas"], 3);
        assert_eq!(
            patch["spec"]["template"]["spec"]["$setElementOrder/containers"],
            json!([{"name": "nginx"}])
        );
        assert_eq!(
            patch["spec"]["template"]["spec"]["containers"],
            json!([{"image": "nginx:1.16", "name": "nginx"}])
        );
        assert!(patch.get("status").is_none());
    }

    #[test]
    fn reapplying_the_same_manifest_computes_an_empty_patch() {
        let m = with_last_applied(&deploy("nginx", 1));
        let original: Value =
            serde_json::from_str(m["metadata"]["annotations"][LAST_APPLIED].as_str().unwrap())
                .unwrap();
        let mut live = m.clone();
        live["metadata"]["uid"] = json!("u");
        assert_eq!(apply_patch(Some(&original), &m, &live).unwrap(), json!({}));
    }

    #[test]
    fn a_field_dropped_from_the_manifest_is_deleted_but_server_fields_are_kept() {
        let mut with_env = deploy("nginx", 1);
        with_env["metadata"]["labels"] = json!({"team": "a"});
        let old = with_last_applied(&with_env);
        let original: Value = serde_json::from_str(
            old["metadata"]["annotations"][LAST_APPLIED]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        let mut live = old.clone();
        live["metadata"]["labels"]["added-by-server"] = json!("x");
        let mut next = deploy("nginx", 1);
        next["metadata"]["labels"] = json!({"owner": "b"});
        let new = with_last_applied(&next);
        let patch = apply_patch(Some(&original), &new, &live).unwrap();
        assert_eq!(
            patch["metadata"]["labels"],
            json!({"team": null, "owner": "b"})
        );
    }
}
