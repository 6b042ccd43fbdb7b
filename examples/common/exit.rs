//! How the tool examples end (included with `#[path]`): argument errors go
//! to stderr with status 2, run errors as `TOOL: message` with status 1
//! (a `main` returning `Result` would print the error's Debug form).

use std::process::ExitCode;

/// Parses the arguments with `parse`, runs `run` with them, and turns
/// each failure into its message and exit status.
pub fn run_tool<A>(
    tool: &str,
    parse: impl FnOnce() -> Result<A, String>,
    run: impl FnOnce(A) -> Result<(), Box<dyn std::error::Error>>,
) -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{tool}: {e}");
            ExitCode::FAILURE
        }
    }
}
