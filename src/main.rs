//! The `pal` command line: a thin shell over the engine (see `pal_cli::cli`).

/// Events are allocated on the reading thread and freed on the workers; glibc's allocator
/// spent about a third of a large run on that (see BENCHMARKS.md), mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    pal_cli::cli::main()
}
