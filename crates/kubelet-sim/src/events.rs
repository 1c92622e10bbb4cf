//! Events of the simulated kubelets, the scheduler and the provisioner: client-go's recorder
//! (`client_tools::record`), one for the whole simulation, writing several events at a time.

pub use client_tools::record::{ObjectRef, Recorder, Source};

use crate::time::SimClock;
use client_tools::record::Options;

/// How many event writes may be in flight.
const IN_FLIGHT: usize = 32;
/// Entries of each correlator cache: one recorder serves every node (upstream: 4,096 per
/// kubelet), so it remembers enough for the pods of a large simulated cluster.
const CACHE: usize = 20_000;

/// Start the simulation's recorder.
pub fn spawn(client: kube::Client, clock: &SimClock) -> Recorder {
    Recorder::spawn(
        client,
        clock.clock(),
        Options {
            in_flight: IN_FLIGHT,
            cache_entries: CACHE,
        },
    )
}
