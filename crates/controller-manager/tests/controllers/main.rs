//! The controllers against an in-process API server, driven through kube-rs as kubectl would,
//! with the test playing the kubelet.

mod common;
mod cronjob;
mod daemonset;
mod deployment;
mod gc;
mod job;
mod namespace;
mod replicaset;
mod rollout_property;
mod statefulset;
