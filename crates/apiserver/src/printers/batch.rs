//! Printers of the batch/v1 kinds: Job (`printJob`: STATUS, COMPLETIONS, DURATION) and
//! CronJob (`printCronJob`: SCHEDULE, TIMEZONE, SUSPEND, ACTIVE, LAST SCHEDULE).

use super::At;
use super::{
    cell, container_cells, format_label_selector, int_at, list_at, str_at, TableSpec, CONTAINERS,
    IMAGES,
};
use crate::table::{Column, AGE, NAME};
use serde_json::{json, Value};
use std::time::SystemTime;

const JOB_SELECTOR_DOC: &str = "A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors";

// --- Job ----------------------------------------------------------------------------------

pub const JOB_COLUMNS: &[Column] = &[
    NAME,
    Column::new("Status", "string", "Status of the job."),
    Column::new(
        "Completions",
        "string",
        "The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.",
    ),
    Column::new("Duration", "string", "Time required to complete the job."),
    AGE,
    CONTAINERS,
    IMAGES,
    Column::new("Selector", "string", JOB_SELECTOR_DOC).wide(),
];

/// The status of the first condition of a type being True (`hasJobCondition`).
fn has_condition(obj: &Value, ty: &str) -> bool {
    list_at(obj, "/status/conditions")
        .iter()
        .find(|c| str_at(c, "/type") == ty)
        .is_some_and(|c| str_at(c, "/status") == "True")
}

/// STATUS: the first of Complete, Failed, Terminating, Suspended, FailureTarget, Running.
pub fn job_status(obj: &Value) -> &'static str {
    if has_condition(obj, "Complete") {
        "Complete"
    } else if has_condition(obj, "Failed") {
        "Failed"
    } else if super::is_set(obj, "/metadata/deletionTimestamp") {
        "Terminating"
    } else if has_condition(obj, "Suspended") {
        "Suspended"
    } else if has_condition(obj, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    }
}

/// COMPLETIONS: `succeeded/completions`, or for a work queue `succeeded/1 [of parallelism]`.
pub fn job_completions(obj: &Value) -> String {
    let succeeded = int_at(obj, "/status/succeeded");
    if let Some(c) = obj.at("/spec/completions").and_then(Value::as_i64) {
        return format!("{succeeded}/{c}");
    }
    let parallelism = int_at(obj, "/spec/parallelism");
    if parallelism > 1 {
        format!("{succeeded}/1 of {parallelism}")
    } else {
        format!("{succeeded}/1")
    }
}

/// DURATION: completion − start, or now − start while running; empty before the start.
pub fn job_duration(obj: &Value, now: SystemTime) -> String {
    let parse = |ptr: &str| {
        obj.at(ptr)
            .and_then(Value::as_str)
            .and_then(crate::clock::parse_rfc3339)
    };
    match (parse("/status/startTime"), parse("/status/completionTime")) {
        (None, _) => String::new(),
        (Some(start), None) => crate::table::since(start, now),
        (Some(start), Some(end)) => crate::table::since(start, end),
    }
}

pub fn job_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    let [containers, images] = container_cells(list_at(obj, "/spec/template/spec/containers"));
    vec![
        super::name(obj),
        cell(job_status(obj)),
        cell(job_completions(obj)),
        cell(job_duration(obj, now)),
        super::age(obj, now),
        containers,
        images,
        cell(format_label_selector(obj.at("/spec/selector"))),
    ]
}

pub static JOB: TableSpec = TableSpec::new(JOB_COLUMNS, job_row);

// --- CronJob ------------------------------------------------------------------------------

pub const CRONJOB_COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Schedule",
        "string",
        "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
    ),
    Column::new(
        "Timezone",
        "string",
        "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones",
    ),
    Column::new(
        "Suspend",
        "boolean",
        "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.",
    ),
    Column::new(
        "Active",
        "integer",
        "A list of pointers to currently running jobs.",
    ),
    Column::new(
        "Last Schedule",
        "string",
        "Information when was the last time the job was successfully scheduled.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    Column::new("Selector", "string", JOB_SELECTOR_DOC).wide(),
];

pub fn cronjob_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    let [containers, images] = container_cells(list_at(
        obj,
        "/spec/jobTemplate/spec/template/spec/containers",
    ));
    let timezone = obj
        .at("/spec/timeZone")
        .and_then(Value::as_str)
        .unwrap_or("<none>");
    // `printBoolPtr`: the SUSPEND cell is a string.
    let suspend = match obj.at("/spec/suspend").and_then(Value::as_bool) {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    };
    let last_schedule = match str_at(obj, "/status/lastScheduleTime") {
        "" => "<none>".to_string(),
        t => super::since(t, now),
    };
    vec![
        super::name(obj),
        cell(str_at(obj, "/spec/schedule")),
        cell(timezone),
        cell(suspend),
        json!(list_at(obj, "/status/active").len()),
        cell(last_schedule),
        super::age(obj, now),
        containers,
        images,
        cell(format_label_selector(
            obj.at("/spec/jobTemplate/spec/selector"),
        )),
    ]
}

pub static CRONJOB: TableSpec = TableSpec::new(CRONJOB_COLUMNS, cronjob_row);

#[cfg(test)]
mod tests {
    use super::super::test_support::{ago, meta, now};
    use super::*;

    fn job(spec: Value, status: Value) -> Value {
        let mut spec = spec;
        spec["template"] = json!({"spec": {"containers": [{"name": "pi", "image": "perl:5.34"}]}});
        spec["selector"] = json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}});
        json!({"metadata": meta("pi", 600), "spec": spec, "status": status})
    }
    fn cond(ty: &str, status: &str) -> Value {
        json!({"type": ty, "status": status})
    }

    #[test]
    fn job_columns_are_status_completions_duration_with_wide_containers_images_selector() {
        let got: Vec<(&str, u8)> = JOB_COLUMNS.iter().map(|c| (c.name, c.priority)).collect();
        assert_eq!(
            got,
            [
                ("Name", 0),
                ("Status", 0),
                ("Completions", 0),
                ("Duration", 0),
                ("Age", 0),
                ("Containers", 1),
                ("Images", 1),
                ("Selector", 1)
            ]
        );
    }

    #[test]
    fn job_status_takes_the_first_condition_that_applies() {
        let cases = vec![
            (
                "a job with no conditions is Running",
                json!({}),
                false,
                "Running",
            ),
            (
                "Complete wins",
                json!({"conditions": [cond("Complete", "True")]}),
                true,
                "Complete",
            ),
            (
                "Failed",
                json!({"conditions": [cond("Failed", "True")]}),
                false,
                "Failed",
            ),
            (
                "a deleted job is Terminating",
                json!({}),
                true,
                "Terminating",
            ),
            (
                "a suspended job is Suspended",
                json!({"conditions": [cond("Suspended", "True")]}),
                false,
                "Suspended",
            ),
            (
                "a job marked to fail is FailureTarget",
                json!({"conditions": [cond("FailureTarget", "True")]}),
                false,
                "FailureTarget",
            ),
            (
                "a condition that is False does not count",
                json!({"conditions": [cond("Complete", "False")]}),
                false,
                "Running",
            ),
            (
                "terminating wins over suspended",
                json!({"conditions": [cond("Suspended", "True")]}),
                true,
                "Terminating",
            ),
        ];
        for (name, status, deleted, want) in cases {
            let mut j = job(json!({"completions": 1}), status);
            if deleted {
                j["metadata"]["deletionTimestamp"] = json!(ago(1));
            }
            assert_eq!(job_status(&j), want, "{name}");
        }
    }

    #[test]
    fn job_completions_show_succeeded_of_completions_or_of_one_for_work_queues() {
        let cases = vec![
            (
                json!({"completions": 3, "parallelism": 2}),
                json!({"succeeded": 1}),
                "1/3",
            ),
            (json!({"parallelism": 1}), json!({}), "0/1"),
            (
                json!({"parallelism": 4}),
                json!({"succeeded": 2}),
                "2/1 of 4",
            ),
            (json!({}), json!({}), "0/1"),
        ];
        for (spec, status, want) in cases {
            assert_eq!(job_completions(&job(spec, status)), want);
        }
    }

    #[test]
    fn job_duration_is_empty_before_start_running_time_while_active_and_fixed_once_complete() {
        let pending = job(json!({"completions": 1}), json!({}));
        assert_eq!(job_duration(&pending, now()), "");
        let running = job(json!({"completions": 1}), json!({"startTime": ago(75)}));
        assert_eq!(job_duration(&running, now()), "75s");
        let done = job(
            json!({"completions": 1}),
            json!({"startTime": ago(600), "completionTime": ago(590)}),
        );
        assert_eq!(job_duration(&done, now()), "10s");
    }

    #[test]
    fn job_row_of_a_completed_job() {
        let j = job(
            json!({"completions": 1, "parallelism": 1}),
            json!({"succeeded": 1, "startTime": ago(600), "completionTime": ago(566),
                   "conditions": [cond("SuccessCriteriaMet", "True"), cond("Complete", "True")]}),
        );
        assert_eq!(
            job_row(&j, now()),
            vec![
                json!("pi"),
                json!("Complete"),
                json!("1/1"),
                json!("34s"),
                json!("10m"),
                json!("pi"),
                json!("perl:5.34"),
                json!("batch.kubernetes.io/controller-uid=u1")
            ]
        );
    }

    #[test]
    fn cronjob_row_shows_schedule_timezone_suspend_active_and_last_schedule() {
        let names: Vec<&str> = CRONJOB_COLUMNS.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "Name",
                "Schedule",
                "Timezone",
                "Suspend",
                "Active",
                "Last Schedule",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        let cj = json!({"metadata": meta("hello", 7200),
            "spec": {"schedule": "*/1 * * * *", "suspend": false,
                     "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "hello", "image": "busybox:1.28"}]}}}}},
            "status": {"active": [{"name": "hello-1"}], "lastScheduleTime": ago(42)}});
        assert_eq!(
            cronjob_row(&cj, now()),
            vec![
                json!("hello"),
                json!("*/1 * * * *"),
                json!("<none>"),
                json!("False"),
                json!(1),
                json!("42s"),
                json!("120m"),
                json!("hello"),
                json!("busybox:1.28"),
                json!("<none>")
            ]
        );
    }

    #[test]
    fn cronjob_row_of_a_never_scheduled_suspended_cronjob_with_a_time_zone() {
        let cj = json!({"metadata": meta("nightly", 60),
            "spec": {"schedule": "0 3 * * *", "timeZone": "Etc/UTC", "suspend": true}});
        let cells = cronjob_row(&cj, now());
        assert_eq!(
            &cells[1..6],
            &[
                json!("0 3 * * *"),
                json!("Etc/UTC"),
                json!("True"),
                json!(0),
                json!("<none>")
            ]
        );
        let unset = json!({"metadata": meta("x", 60), "spec": {"schedule": "@daily"}});
        assert_eq!(cronjob_row(&unset, now())[3], json!("<unset>"));
    }
}
