//! The `pal` command line: a thin shell over the library (see `pal::cli`).

fn main() -> std::process::ExitCode {
    pal::cli::main()
}
