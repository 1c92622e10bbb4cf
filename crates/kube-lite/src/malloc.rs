//! glibc malloc tuning for a long-running server process (nothing here on other C libraries).
//!
//! glibc serves allocations of at least `M_MMAP_THRESHOLD` (128 KiB) with their own mapping,
//! returned to the system on free — but by default it raises that threshold to the size of
//! every mapped chunk freed, up to 32 MiB. After the first large buffers come and go (sled's IO
//! buffers, list responses, store tables growing), every later one comes from the arenas
//! instead, and the holes they leave behind stay resident. Fixing the threshold keeps large
//! buffers mapped: at 10,000 pods RSS falls from ~470 MB to ~360 MB. The price is sled's
//! 524 KiB log buffers (one per 512 KiB written): a 10,000-pod rollout maps ~2,200 of them,
//! ~260,000 more page faults, up to ~10% more CPU in back-to-back runs (docs/benchmarks.md).
//! A 1 MiB threshold, which leaves those buffers to the arenas, loses most of the RSS gain.

/// The fixed threshold: glibc's own starting value.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// Keep allocations of 128 KiB and more in their own mappings for the life of the process.
/// Call first thing in `main`, before any thread starts. An explicit `MALLOC_MMAP_THRESHOLD_`
/// in the environment wins.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it is called before other threads
        // exist, and a value it rejects leaves the default in place.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        }
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    fn mapped_chunks() -> usize {
        // SAFETY: mallinfo2 only reads the allocator's counters.
        unsafe { libc::mallinfo2() }.hblks
    }

    /// Whether a `size` buffer gets its own mapping right after a 4 MiB one was freed.
    fn mapped_after_freeing_a_larger_one(size: usize) -> bool {
        drop(std::hint::black_box(vec![1u8; 4 << 20]));
        let before = mapped_chunks();
        let buf = std::hint::black_box(vec![1u8; size]);
        let mapped = mapped_chunks() > before;
        drop(buf);
        mapped
    }

    // nextest runs each test in its own process, so the allocator state is this test's alone.
    // The first check shows glibc's default behaviour, which `tune` must change. The second
    // buffer is larger than the first, which the heap now holds free: the threshold only
    // decides how the heap grows, never whether free heap space is reused.
    #[test]
    fn large_buffers_stay_mapped_after_a_larger_one_was_freed() {
        assert!(
            !mapped_after_freeing_a_larger_one(512 << 10),
            "glibc's dynamic threshold should first take the 512 KiB buffer from the heap"
        );
        tune();
        assert!(mapped_after_freeing_a_larger_one(2 << 20));
    }
}
