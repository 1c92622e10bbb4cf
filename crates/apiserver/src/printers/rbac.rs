//! Printers of rbac.authorization.k8s.io/v1 RoleBinding and ClusterRoleBinding
//! (`printRoleBinding`, `printClusterRoleBinding`). Role and ClusterRole have no printer
//! upstream: they get the default table (`Name`, `Created At`).

use super::{cell, list_at, str_at, TableSpec};
use crate::table::{Column, AGE, NAME};
use serde_json::Value;
use std::time::SystemTime;

/// The binding columns; only ROLE's and the wide columns' descriptions differ by kind.
macro_rules! binding_columns {
    ($role_ref:literal, $what:literal) => {
        &[
            NAME,
            Column::new("Role", "string", $role_ref),
            AGE,
            Column::new("Users", "string", concat!("Users in the ", $what)).wide(),
            Column::new("Groups", "string", concat!("Groups in the ", $what)).wide(),
            Column::new(
                "ServiceAccounts",
                "string",
                concat!("ServiceAccounts in the ", $what),
            )
            .wide(),
        ]
    };
}

// Upstream describes ROLE with the rbac/v1beta1 field documentation.
pub const ROLEBINDING_COLUMNS: &[Column] = binding_columns!(
    "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
    "roleBinding"
);

pub const CLUSTERROLEBINDING_COLUMNS: &[Column] = binding_columns!(
    "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
    "clusterRoleBinding"
);

/// `rbac.SubjectsStrings`: user names, group names and `namespace/name` of service accounts
/// (subjects of other kinds are left out of the table).
pub fn subjects_strings(subjects: &[Value]) -> [Vec<String>; 3] {
    let mut out: [Vec<String>; 3] = Default::default();
    for s in subjects {
        let name = str_at(s, "/name");
        match str_at(s, "/kind") {
            "User" => out[0].push(name.to_string()),
            "Group" => out[1].push(name.to_string()),
            "ServiceAccount" => out[2].push(format!("{}/{name}", str_at(s, "/namespace"))),
            _ => {}
        }
    }
    out
}

/// ROLE is `Kind/name` of the `roleRef`; the subjects are joined with `, `.
pub fn binding_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    let role = format!(
        "{}/{}",
        str_at(obj, "/roleRef/kind"),
        str_at(obj, "/roleRef/name")
    );
    let mut row = vec![super::name(obj), cell(role), super::age(obj, now)];
    row.extend(
        subjects_strings(list_at(obj, "/subjects"))
            .into_iter()
            .map(|names| cell(names.join(", "))),
    );
    row
}

pub static ROLEBINDING: TableSpec = TableSpec::new(ROLEBINDING_COLUMNS, binding_row);
pub static CLUSTERROLEBINDING: TableSpec = TableSpec::new(CLUSTERROLEBINDING_COLUMNS, binding_row);

#[cfg(test)]
mod tests {
    use super::super::test_support::{meta, now};
    use super::*;
    use serde_json::json;

    #[test]
    fn binding_columns_are_role_and_age_then_wide_subjects() {
        for (cols, what) in [
            (ROLEBINDING_COLUMNS, "roleBinding"),
            (CLUSTERROLEBINDING_COLUMNS, "clusterRoleBinding"),
        ] {
            let names: Vec<_> = cols.iter().map(|c| (c.name, c.priority)).collect();
            assert_eq!(
                names,
                [
                    ("Name", 0),
                    ("Role", 0),
                    ("Age", 0),
                    ("Users", 1),
                    ("Groups", 1),
                    ("ServiceAccounts", 1)
                ]
            );
            assert_eq!(
                cols[5].description,
                format!("ServiceAccounts in the {what}")
            );
        }
    }

    #[test]
    fn binding_row_shows_the_role_ref_and_subjects_by_kind() {
        let cases = [
            (
                "role with every kind of subject",
                json!({"metadata": meta("read-pods", 120),
                       "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
                       "subjects": [{"kind": "User", "name": "jane"}, {"kind": "User", "name": "joe"},
                                    {"kind": "Group", "name": "devs"},
                                    {"kind": "ServiceAccount", "name": "default", "namespace": "kube-system"},
                                    {"kind": "Robot", "name": "r2"}]}),
                json!([
                    "read-pods",
                    "Role/pod-reader",
                    "2m",
                    "jane, joe",
                    "devs",
                    "kube-system/default"
                ]),
            ),
            (
                "cluster role without subjects",
                json!({"metadata": meta("view-all", 30),
                       "roleRef": {"kind": "ClusterRole", "name": "view"}}),
                json!(["view-all", "ClusterRole/view", "30s", "", "", ""]),
            ),
            (
                "service account without namespace",
                json!({"metadata": meta("sa", 1), "roleRef": {"kind": "ClusterRole", "name": "edit"},
                       "subjects": [{"kind": "ServiceAccount", "name": "builder"}]}),
                json!(["sa", "ClusterRole/edit", "1s", "", "", "/builder"]),
            ),
        ];
        for (case, obj, want) in cases {
            assert_eq!(Value::Array(binding_row(&obj, now())), want, "{case}");
        }
    }
}
