//! WATCH: replay from a resourceVersion, synthetic ADDED events for rv 0/unset, the watch-list
//! (`sendInitialEvents`) with its closing BOOKMARK, selector transitions (an object that
//! stops matching is DELETED for this watcher), periodic bookmarks and timeouts.

use super::list::{Filter, ListOptions};
use super::{Registry, Target};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::kinds::Kind;
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use storage::{EventType, StorageError, Stored};
use tokio::sync::mpsc;

/// Watch query parameters.
#[derive(Clone, Debug, Default)]
pub struct WatchOptions {
    pub list: ListOptions,
    pub send_initial_events: Option<bool>,
    pub allow_bookmarks: bool,
    pub timeout: Option<Duration>,
}

/// One item of a watch stream.
#[derive(Clone, Debug)]
pub enum WatchFrame {
    /// `ADDED`, `MODIFIED`, `DELETED` or `BOOKMARK`, with the object's JSON.
    Event { kind: &'static str, object: Bytes },
    /// An `ERROR` event carrying a Status; the stream ends after it.
    Error(ApiError),
}

/// How often an idle watch with `allowWatchBookmarks` gets a BOOKMARK.
const BOOKMARK_EVERY: Duration = Duration::from_secs(60);

fn bookmark(kind: &Kind, rv: u64, initial_end: bool) -> Bytes {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    let v = json!({"kind": kind.kind, "apiVersion": kind.api_version(), "metadata": meta});
    serde_json::to_vec(&v).unwrap_or_default().into()
}

impl Registry {
    /// Start a watch; frames arrive on the returned channel until it closes.
    pub fn watch(
        self: &Arc<Self>,
        t: Target<'_>,
        opts: WatchOptions,
    ) -> ApiResult<mpsc::Receiver<WatchFrame>> {
        let kind = t.kind;
        let filter = Filter::new(kind, &opts.list)?;
        let rv_param = opts.list.resource_version.clone().unwrap_or_default();
        let rv_match = opts.list.resource_version_match.clone().unwrap_or_default();
        let initial_list = match opts.send_initial_events {
            Some(true) => {
                if rv_match != "NotOlderThan" {
                    return Err(ApiError::invalid(
                        "ListOptions",
                        "meta.k8s.io",
                        "",
                        vec![FieldError::forbidden(
                            "resourceVersionMatch",
                            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                        )],
                    ));
                }
                if !opts.allow_bookmarks {
                    return Err(ApiError::invalid(
                        "ListOptions",
                        "meta.k8s.io",
                        "",
                        vec![FieldError::forbidden(
                            "allowWatchBookmarks",
                            "sendInitialEvents requires setting allowWatchBookmarks to true",
                        )],
                    ));
                }
                true
            }
            Some(false) => false,
            None => rv_param.is_empty() || rv_param == "0",
        };
        let prefix = t.prefix();
        let (tx, rx) = mpsc::channel::<WatchFrame>(256);
        // Read the initial state (if any) and open the storage watch right after it.
        let (initial, start_rv) = if initial_list {
            // The initial state is at least as new as `resourceVersion` (NotOlderThan, the only
            // match a watch-list allows; unset means the latest), which the latest state is.
            let page = self.list_objects(
                t,
                &ListOptions {
                    limit: 0,
                    continue_token: None,
                    resource_version_match: None,
                    ..opts.list.clone()
                },
            )?;
            (page.items, page.rv)
        } else {
            let rv = super::update::parse_rv(&rv_param)?.unwrap_or(0);
            (Vec::new(), rv)
        };
        let events = match self.storage.watch(&prefix, start_rv) {
            Ok(s) => Some(s),
            Err(StorageError::Expired { requested, oldest }) => {
                let _ = tx.try_send(WatchFrame::Error(ApiError::gone(format!(
                    "too old resource version: {requested} ({oldest})"
                ))));
                None
            }
            Err(e) => return Err(t.storage_err(e, "")),
        };
        let send_end_bookmark = opts.send_initial_events == Some(true);
        let allow_bookmarks = opts.allow_bookmarks;
        let timeout = opts.timeout;
        let registry = Arc::clone(self);
        let mut shutting_down = self.shutting_down.subscribe();
        tokio::spawn(async move {
            for (_, s) in initial {
                if tx
                    .send(WatchFrame::Event {
                        kind: "ADDED",
                        object: s.bytes,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
            }
            if send_end_bookmark {
                let frame = WatchFrame::Event {
                    kind: "BOOKMARK",
                    object: bookmark(kind, start_rv, true),
                };
                if tx.send(frame).await.is_err() {
                    return;
                }
            }
            let Some(mut events) = events else { return };
            if *shutting_down.borrow_and_update() {
                return;
            }
            let deadline = timeout.map(|d| tokio::time::Instant::now() + d);
            let mut last_rv = start_rv;
            let mut ticker = tokio::time::interval(BOOKMARK_EVERY);
            ticker.tick().await;
            loop {
                let next = async {
                    match deadline {
                        Some(d) => tokio::time::timeout_at(d, events.rx.recv()).await.ok(),
                        None => Some(events.rx.recv().await),
                    }
                };
                tokio::select! {
                    got = next => {
                        let ev = match got {
                            None => return, // timed out
                            Some(None) => return, // storage closed
                            Some(Some(Err(e))) => {
                                let _ = tx.send(WatchFrame::Error(ApiError::from_storage(e, kind.plural, kind.group, ""))).await;
                                return;
                            }
                            Some(Some(Ok(ev))) => ev,
                        };
                        last_rv = ev.rv;
                        if let Some(frame) = registry.frame_for(kind, &filter, &ev) {
                            if tx.send(frame).await.is_err() {
                                return;
                            }
                        }
                    }
                    _ = ticker.tick(), if allow_bookmarks => {
                        let frame = WatchFrame::Event { kind: "BOOKMARK", object: bookmark(kind, last_rv, false) };
                        if tx.send(frame).await.is_err() {
                            return;
                        }
                    }
                    _ = tx.closed() => return,
                    _ = shutting_down.changed() => return,
                }
            }
        });
        Ok(rx)
    }

    /// The frame a watcher with this filter sees for a storage event, if any.
    fn frame_for(
        &self,
        kind: &'static Kind,
        filter: &Filter,
        ev: &storage::Event,
    ) -> Option<WatchFrame> {
        let view = |b: &Bytes| -> Bytes {
            match kind.storage {
                None => b.clone(),
                Some(_) => {
                    super::to_view(
                        kind,
                        Stored {
                            rv: ev.rv,
                            bytes: b.clone(),
                        },
                    )
                    .bytes
                }
            }
        };
        if filter.is_everything() {
            let t = match ev.kind {
                EventType::Added => "ADDED",
                EventType::Modified => "MODIFIED",
                EventType::Deleted => "DELETED",
            };
            return Some(WatchFrame::Event {
                kind: t,
                object: view(&ev.object),
            });
        }
        let parse = |b: &Bytes| serde_json::from_slice::<Value>(b).unwrap_or(Value::Null);
        let cur = filter.matches(&parse(&ev.object));
        match ev.kind {
            EventType::Added => cur.then(|| WatchFrame::Event {
                kind: "ADDED",
                object: view(&ev.object),
            }),
            EventType::Deleted => cur.then(|| WatchFrame::Event {
                kind: "DELETED",
                object: view(&ev.object),
            }),
            EventType::Modified => {
                let old = ev.prev.as_ref().is_some_and(|p| filter.matches(&parse(p)));
                match (old, cur) {
                    (true, true) => Some(WatchFrame::Event {
                        kind: "MODIFIED",
                        object: view(&ev.object),
                    }),
                    (false, true) => Some(WatchFrame::Event {
                        kind: "ADDED",
                        object: view(&ev.object),
                    }),
                    (true, false) => Some(WatchFrame::Event {
                        kind: "DELETED",
                        object: view(&ev.object),
                    }),
                    (false, false) => None,
                }
            }
        }
    }
}
