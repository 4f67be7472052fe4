//! The program's allocator: jemalloc, set up so that a long-running sandbox
//! gives back what it no longer holds (docs/performance.md, "Sessions churned
//! through").

/// jemalloc: its background thread returns freed pages to the system over a
/// few seconds (glibc's malloc keeps a sandbox at its high-water mark).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's run-time options, read once when it starts (the
/// `_RJEM_MALLOC_CONF` environment variable still overrides them):
/// - `background_thread:true`: a thread purges freed pages, so an idle
///   process shrinks too (the build's default, repeated here);
/// - `narenas:1`: one arena for every thread; the sandbox's work is one
///   engine task and a few socket tasks, so more arenas only spread (and
///   keep) freed memory across more places.
///
/// Each thread keeps its cache of freed blocks, which [`idle`] empties.
///
/// jemalloc reads the `_rjem_malloc_conf` symbol (its `malloc_conf`, under
/// the prefix tikv-jemalloc-sys builds it with) as a `const char *`.
// Exporting a symbol is `unsafe_code`. It is sound: `&u8` has the layout of
// a C pointer, it points at a NUL-terminated string that lives for the
// whole program and that jemalloc only reads, and nothing else in the
// program defines this symbol (jemalloc's own is a weak default).
#[allow(unsafe_code)]
#[export_name = "_rjem_malloc_conf"]
static MALLOC_CONF: &u8 = &b"background_thread:true,narenas:1\0"[0];

/// Hands the calling thread's cache of freed blocks back to the arena
/// (jemalloc's `thread.idle`), for the runtime to call when a worker parks.
/// jemalloc trims a thread's cache only when that thread allocates again, so
/// without this an idle worker keeps megabytes of it for good; without the
/// caches at all (`tcache:false`), churning sessions runs 30–40 % slower.
#[allow(unsafe_code)]
pub fn idle() {
    // SAFETY: `thread.idle` is a command that reads and writes no value, so
    // null buffers and a zero length are what it takes. Its status is not
    // needed: a build without the command just keeps the cache.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            c"thread.idle".as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
    }
}
