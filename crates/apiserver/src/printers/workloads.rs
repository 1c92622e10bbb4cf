//! Printers of the apps/v1 pod-template workloads: Deployment, ReplicaSet, StatefulSet and
//! DaemonSet (`printDeployment`, `printReplicaSet`, `printStatefulSet`, `printDaemonSet`).

use super::At;
use super::{
    cell, container_cells, format_label_selector, format_labels, int_at, list_at, selector_string,
    TableSpec, CONTAINERS, IMAGES,
};
use crate::table::{Column, AGE, NAME};
use serde_json::{json, Value};
use std::time::SystemTime;

/// `spec.replicas`, which defaulting always sets (to 1 when absent).
fn desired_replicas(obj: &Value) -> i64 {
    obj.at("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

fn template_containers(obj: &Value) -> [Value; 2] {
    container_cells(list_at(obj, "/spec/template/spec/containers"))
}

// --- Deployment ---------------------------------------------------------------------------

pub const DEPLOYMENT_COLUMNS: &[Column] = &[
    NAME,
    Column::new("Ready", "string", "Number of the pod with ready state"),
    Column::new(
        "Up-to-date",
        "string",
        "Total number of non-terminating pods targeted by this deployment that have the desired template spec.",
    ),
    Column::new(
        "Available",
        "string",
        "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    Column::new(
        "Selector",
        "string",
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
    )
    .wide(),
];

pub fn deployment_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    let [containers, images] = template_containers(obj);
    // printDeployment uses the selector string as is: empty for an empty selector.
    let selector = selector_string(obj.at("/spec/selector")).unwrap_or_else(|_| "<invalid>".into());
    vec![
        super::name(obj),
        cell(format!(
            "{}/{}",
            int_at(obj, "/status/readyReplicas"),
            desired_replicas(obj)
        )),
        json!(int_at(obj, "/status/updatedReplicas")),
        json!(int_at(obj, "/status/availableReplicas")),
        super::age(obj, now),
        containers,
        images,
        cell(selector),
    ]
}

pub static DEPLOYMENT: TableSpec = TableSpec::new(DEPLOYMENT_COLUMNS, deployment_row);

// --- ReplicaSet ---------------------------------------------------------------------------

pub const REPLICASET_COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Desired",
        "integer",
        "Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset",
    ),
    Column::new(
        "Current",
        "integer",
        "Replicas is the most recently observed number of non-terminating pods. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset",
    ),
    Column::new(
        "Ready",
        "integer",
        "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    Column::new(
        "Selector",
        "string",
        "Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
    )
    .wide(),
];

pub fn replicaset_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    let [containers, images] = template_containers(obj);
    vec![
        super::name(obj),
        json!(desired_replicas(obj)),
        json!(int_at(obj, "/status/replicas")),
        json!(int_at(obj, "/status/readyReplicas")),
        super::age(obj, now),
        containers,
        images,
        cell(format_label_selector(obj.at("/spec/selector"))),
    ]
}

pub static REPLICASET: TableSpec = TableSpec::new(REPLICASET_COLUMNS, replicaset_row);

// --- StatefulSet --------------------------------------------------------------------------

pub const STATEFULSET_COLUMNS: &[Column] = &[
    NAME,
    Column::new("Ready", "string", "Number of the pod with ready state"),
    AGE,
    CONTAINERS,
    IMAGES,
];

pub fn statefulset_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    let [containers, images] = template_containers(obj);
    vec![
        super::name(obj),
        cell(format!(
            "{}/{}",
            int_at(obj, "/status/readyReplicas"),
            desired_replicas(obj)
        )),
        super::age(obj, now),
        containers,
        images,
    ]
}

pub static STATEFULSET: TableSpec = TableSpec::new(STATEFULSET_COLUMNS, statefulset_row);

// --- DaemonSet ----------------------------------------------------------------------------

pub const DAEMONSET_COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Desired",
        "integer",
        "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
    ),
    Column::new(
        "Current",
        "integer",
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
    ),
    Column::new(
        "Ready",
        "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
    ),
    Column::new(
        "Up-to-date",
        "integer",
        "The total number of nodes that are running updated daemon pod",
    ),
    Column::new(
        "Available",
        "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)",
    ),
    Column::new(
        "Node Selector",
        "string",
        "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    Column::new(
        "Selector",
        "string",
        "A label query over pods that are managed by the daemon set. Must match in order to be controlled. If empty, defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
    )
    .wide(),
];

pub fn daemonset_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    let [containers, images] = template_containers(obj);
    vec![
        super::name(obj),
        json!(int_at(obj, "/status/desiredNumberScheduled")),
        json!(int_at(obj, "/status/currentNumberScheduled")),
        json!(int_at(obj, "/status/numberReady")),
        json!(int_at(obj, "/status/updatedNumberScheduled")),
        json!(int_at(obj, "/status/numberAvailable")),
        cell(format_labels(obj.at("/spec/template/spec/nodeSelector"))),
        super::age(obj, now),
        containers,
        images,
        cell(format_label_selector(obj.at("/spec/selector"))),
    ]
}

pub static DAEMONSET: TableSpec = TableSpec::new(DAEMONSET_COLUMNS, daemonset_row);

#[cfg(test)]
mod tests {
    use super::super::test_support::{meta, now};
    use super::*;

    fn names(cols: &[Column]) -> Vec<&str> {
        cols.iter().map(|c| c.name).collect()
    }
    fn wide(cols: &[Column]) -> Vec<&str> {
        cols.iter()
            .filter(|c| c.priority == 1)
            .map(|c| c.name)
            .collect()
    }

    fn template() -> Value {
        json!({"metadata": {"labels": {"app": "web"}},
               "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"},
                                       {"name": "log", "image": "busybox"}]}})
    }

    #[test]
    fn deployment_columns_are_ready_up_to_date_available_with_wide_containers_images_selector() {
        assert_eq!(
            names(DEPLOYMENT_COLUMNS),
            [
                "Name",
                "Ready",
                "Up-to-date",
                "Available",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        assert_eq!(
            wide(DEPLOYMENT_COLUMNS),
            ["Containers", "Images", "Selector"]
        );
    }

    #[test]
    fn deployment_row_shows_ready_of_desired_and_the_selector_string() {
        let d = json!({"metadata": meta("web", 3600),
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template()},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
        assert_eq!(
            deployment_row(&d, now()),
            vec![
                json!("web"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("60m"),
                json!("nginx,log"),
                json!("nginx:1.25,busybox"),
                json!("app=web")
            ]
        );
    }

    #[test]
    fn deployment_row_of_a_new_deployment_counts_zero_and_leaves_an_empty_selector_empty() {
        let d = json!({"metadata": meta("web", 5), "spec": {"replicas": 1, "selector": {}}});
        assert_eq!(
            deployment_row(&d, now()),
            vec![
                json!("web"),
                json!("0/1"),
                json!(0),
                json!(0),
                json!("5s"),
                json!(""),
                json!(""),
                json!("")
            ]
        );
    }

    #[test]
    fn replicaset_row_shows_desired_current_ready_and_the_formatted_selector() {
        assert_eq!(
            names(REPLICASET_COLUMNS),
            [
                "Name",
                "Desired",
                "Current",
                "Ready",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        let rs = json!({"metadata": meta("web-7d4b9c", 120),
            "spec": {"replicas": 3, "template": template(),
                     "selector": {"matchLabels": {"app": "web", "pod-template-hash": "7d4b9c"}}},
            "status": {"replicas": 3, "readyReplicas": 1}});
        assert_eq!(
            replicaset_row(&rs, now()),
            vec![
                json!("web-7d4b9c"),
                json!(3),
                json!(3),
                json!(1),
                json!("2m"),
                json!("nginx,log"),
                json!("nginx:1.25,busybox"),
                json!("app=web,pod-template-hash=7d4b9c")
            ]
        );
        let bare = json!({"metadata": meta("x", 1)});
        assert_eq!(replicaset_row(&bare, now())[7], json!("<none>"));
    }

    #[test]
    fn statefulset_row_shows_ready_of_desired_and_containers() {
        assert_eq!(
            names(STATEFULSET_COLUMNS),
            ["Name", "Ready", "Age", "Containers", "Images"]
        );
        let sts = json!({"metadata": meta("db", 86400 * 3), "spec": {"replicas": 2, "template": template()},
                         "status": {"readyReplicas": 2}});
        assert_eq!(
            statefulset_row(&sts, now()),
            vec![
                json!("db"),
                json!("2/2"),
                json!("3d"),
                json!("nginx,log"),
                json!("nginx:1.25,busybox")
            ]
        );
    }

    #[test]
    fn daemonset_row_shows_counts_node_selector_and_selector() {
        assert_eq!(
            names(DAEMONSET_COLUMNS),
            [
                "Name",
                "Desired",
                "Current",
                "Ready",
                "Up-to-date",
                "Available",
                "Node Selector",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        let mut t = template();
        t["spec"]["nodeSelector"] = json!({"kubernetes.io/os": "linux", "disk": "ssd"});
        let ds = json!({"metadata": meta("fluentd", 600),
            "spec": {"selector": {"matchLabels": {"name": "fluentd"}}, "template": t},
            "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                       "updatedNumberScheduled": 3, "numberAvailable": 2}});
        assert_eq!(
            daemonset_row(&ds, now()),
            vec![
                json!("fluentd"),
                json!(3),
                json!(3),
                json!(2),
                json!(3),
                json!(2),
                json!("disk=ssd,kubernetes.io/os=linux"),
                json!("10m"),
                json!("nginx,log"),
                json!("nginx:1.25,busybox"),
                json!("name=fluentd")
            ]
        );
        let bare = json!({"metadata": meta("x", 1)});
        assert_eq!(daemonset_row(&bare, now())[6], json!("<none>"));
    }
}
