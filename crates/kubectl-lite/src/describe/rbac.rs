//! `kubectl describe` for RBAC: Role and ClusterRole (their rules broken down to one verb,
//! resource and name each, simple ones merged back by resource, sorted as kubectl sorts
//! `PolicyRule.String()`), RoleBinding and ClusterRoleBinding (role and subjects).

use serde_json::Value;

use super::common::{self, items, s};
use super::writer::{w, Writer};
use super::Related;

/// A `PolicyRule`, its fields in the order of the Go struct (that `String()` prints).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

/// A simple rule's group, resource and resource name (`simpleResource`).
type SimpleKey = (String, String, Option<String>);

/// Go's `%v` of a `[]string`: `[a b]`.
fn list(v: &[String]) -> String {
    format!("[{}]", v.join(" "))
}

impl Rule {
    fn from_json(r: &Value) -> Rule {
        let strs = |key: &str| -> Vec<String> {
            items(&r[key]).iter().map(|x| s(x).to_string()).collect()
        };
        Rule {
            verbs: strs("verbs"),
            api_groups: strs("apiGroups"),
            resources: strs("resources"),
            resource_names: strs("resourceNames"),
            non_resource_urls: strs("nonResourceURLs"),
        }
    }

    /// The generated `PolicyRule.String()` kubectl sorts by.
    fn go_string(&self) -> String {
        format!(
            "&PolicyRule{{Verbs:{},APIGroups:{},Resources:{},ResourceNames:{},NonResourceURLs:{},}}",
            list(&self.verbs),
            list(&self.api_groups),
            list(&self.resources),
            list(&self.resource_names),
            list(&self.non_resource_urls)
        )
    }

    /// `isSimpleResourceRule`'s key: one group, one resource, at most one name, no URLs.
    fn simple_key(&self) -> Option<SimpleKey> {
        let simple = self.resource_names.len() <= 1
            && self.non_resource_urls.is_empty()
            && self.api_groups.len() == 1
            && self.resources.len() == 1;
        simple.then(|| {
            (
                self.api_groups[0].clone(),
                self.resources[0].clone(),
                self.resource_names.first().cloned(),
            )
        })
    }
}

/// `rbac.BreakdownRule`: one rule per group × resource × verb (× name), then one per
/// non-resource URL × verb.
pub fn breakdown(rule: &Rule) -> Vec<Rule> {
    let one = |x: &String| vec![x.clone()];
    let mut out = Vec::new();
    for group in &rule.api_groups {
        for resource in &rule.resources {
            for verb in &rule.verbs {
                let base = Rule {
                    verbs: one(verb),
                    api_groups: one(group),
                    resources: one(resource),
                    ..Rule::default()
                };
                if rule.resource_names.is_empty() {
                    out.push(base);
                } else {
                    for name in &rule.resource_names {
                        out.push(Rule {
                            resource_names: one(name),
                            ..base.clone()
                        });
                    }
                }
            }
        }
    }
    for url in &rule.non_resource_urls {
        for verb in &rule.verbs {
            out.push(Rule {
                verbs: one(verb),
                non_resource_urls: one(url),
                ..Rule::default()
            });
        }
    }
    out
}

/// `rbac.CompactRules` then the stable sort by `String()`: simple rules of the same group,
/// resource and name merge their verbs (first-seen order).
pub fn compact(rules: Vec<Rule>) -> Vec<Rule> {
    let mut out: Vec<Rule> = Vec::new();
    let mut simple: Vec<(SimpleKey, Rule)> = Vec::new();
    for rule in rules {
        match rule.simple_key() {
            Some(key) => match simple.iter_mut().find(|(k, _)| *k == key) {
                Some((_, existing)) => {
                    for verb in rule.verbs {
                        if !existing.verbs.contains(&verb) {
                            existing.verbs.push(verb);
                        }
                    }
                }
                None => simple.push((key, rule)),
            },
            None => out.push(rule),
        }
    }
    out.extend(simple.into_iter().map(|(_, r)| r));
    out.sort_by_cached_key(Rule::go_string);
    out
}

/// `CombineResourceGroup`: `resource.group/subresource` of the first resource and group.
fn resource_group(rule: &Rule) -> String {
    let Some(first) = rule.resources.first() else {
        return String::new();
    };
    let (resource, sub) = match first.split_once('/') {
        Some((r, sub)) => (r, Some(sub)),
        None => (first.as_str(), None),
    };
    let mut out = resource.to_string();
    if let Some(g) = rule.api_groups.first().filter(|g| !g.is_empty()) {
        out = format!("{out}.{g}");
    }
    if let Some(sub) = sub {
        out = format!("{out}/{sub}");
    }
    out
}

/// Role and ClusterRole (kubectl prints no namespace and no events for either).
pub fn role(role: &Value, _: &Related) -> String {
    let mut w = Writer::default();
    name_labels_annotations(&mut w, &role["metadata"]);
    let broken: Vec<Rule> = items(&role["rules"])
        .iter()
        .flat_map(|r| breakdown(&Rule::from_json(r)))
        .collect();
    w.write(0, "PolicyRule:\n");
    w.write(1, "Resources\tNon-Resource URLs\tResource Names\tVerbs\n");
    w.write(1, "---------\t-----------------\t--------------\t-----\n");
    for r in compact(broken) {
        w!(
            w,
            1,
            "{}\t{}\t{}\t{}\n",
            resource_group(&r),
            list(&r.non_resource_urls),
            list(&r.resource_names),
            list(&r.verbs)
        );
    }
    w.finish()
}

/// RoleBinding and ClusterRoleBinding: the role referred to and the subjects.
pub fn binding(b: &Value, _: &Related) -> String {
    let mut w = Writer::default();
    name_labels_annotations(&mut w, &b["metadata"]);
    w.write(0, "Role:\n");
    w!(w, 1, "Kind:\t{}\n", s(&b["roleRef"]["kind"]));
    w!(w, 1, "Name:\t{}\n", s(&b["roleRef"]["name"]));
    w.write(0, "Subjects:\n");
    w.write(1, "Kind\tName\tNamespace\n");
    w.write(1, "----\t----\t---------\n");
    for subject in items(&b["subjects"]) {
        w!(
            w,
            1,
            "{}\t{}\t{}\n",
            s(&subject["kind"]),
            s(&subject["name"]),
            s(&subject["namespace"])
        );
    }
    w.finish()
}

fn name_labels_annotations(w: &mut Writer, meta: &Value) {
    w!(w, 0, "Name:\t{}\n", s(&meta["name"]));
    common::labels_multiline(w, "", "Labels", &meta["labels"]);
    common::annotations_multiline(w, "Annotations", &meta["annotations"]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_are_broken_down_merged_by_resource_and_sorted_by_their_go_string() {
        let rules = json!([
            {"apiGroups": ["", "apps"], "resources": ["pods", "deployments/scale"], "verbs": ["get", "list"]},
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["watch", "get"]},
            {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["b", "a"], "verbs": ["get"]},
            {"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]);
        let broken: Vec<Rule> = items(&rules)
            .iter()
            .flat_map(|r| breakdown(&Rule::from_json(r)))
            .collect();
        let rows: Vec<String> = compact(broken)
            .iter()
            .map(|r| {
                format!(
                    "{}|{}|{}|{}",
                    resource_group(r),
                    list(&r.non_resource_urls),
                    list(&r.resource_names),
                    list(&r.verbs)
                )
            })
            .collect();
        // "[get list watch]" < "[get list]" < "[get]": a space sorts before `]`.
        assert_eq!(
            rows,
            [
                "pods|[]|[]|[get list watch]",
                "deployments/scale|[]|[]|[get list]",
                "deployments.apps/scale|[]|[]|[get list]",
                "pods.apps|[]|[]|[get list]",
                "|[/healthz]|[]|[get]",
                "secrets|[]|[a]|[get]",
                "secrets|[]|[b]|[get]",
            ]
        );
    }

    #[test]
    fn a_binding_lists_its_role_and_subjects() {
        let b = json!({"metadata": {"name": "rb"}, "roleRef": {"kind": "Role", "name": "r"},
            "subjects": [{"kind": "ServiceAccount", "name": "robot", "namespace": "default"},
                         {"kind": "User", "name": "jane"}]});
        assert_eq!(
            binding(&b, &Related::default()),
            "Name:         rb\nLabels:       <none>\nAnnotations:  <none>\nRole:\n  Kind:  Role\n  Name:  r\nSubjects:\n  Kind            Name   Namespace\n  ----            ----   ---------\n  ServiceAccount  robot  default\n  User            jane   \n"
        );
    }
}
