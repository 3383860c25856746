//! `println!` for a reader that may go away, shared by the examples: when
//! stdout is a closed pipe (`cargo run --example geboortezorg | head`), the
//! output ends quietly with exit 0 instead of panicking; another write error
//! ends it with exit 1.

/// Prints one line, as `println!`
macro_rules! say {
    () => { $crate::say::write_line(format_args!("")) };
    ($($arg:tt)*) => { $crate::say::write_line(format_args!($($arg)*)) };
}
pub(crate) use say;

/// Writes one line to stdout; a closed pipe ends the program with exit 0
pub(crate) fn write_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    if let Err(e) = writeln!(std::io::stdout().lock(), "{line}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing to stdout: {e}");
        std::process::exit(1);
    }
}
