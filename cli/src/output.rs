//! Standard output and error for a reader that may go away.
//!
//! `println!` panics when stdout is a pipe whose reader has closed
//! (`zorg-pdp schema scenario | head -1`): Rust ignores `SIGPIPE`, so the
//! write fails with `BrokenPipe` and the macro turns that into a panic (exit
//! 101). Here a closed pipe silences the stream instead: the rest of the
//! output is dropped and the command finishes as it would have, with the exit
//! code it would have had (docs/cli.md, "Output").

use std::io::{self, ErrorKind, StderrLock, StdoutLock, Write};

/// A writer that a closed pipe silences: from the first write or flush that
/// fails with [`ErrorKind::BrokenPipe`] on, everything written is dropped and
/// reported as written; every other error is returned
#[derive(Debug)]
pub(crate) struct Quiet<W> {
    inner: W,
    closed: bool,
}

impl<W> Quiet<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self {
            inner,
            closed: false,
        }
    }
}

impl<W: Write> Write for Quiet<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match self.inner.flush() {
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

/// The two streams a command writes to
#[derive(Debug)]
pub(crate) struct Console {
    /// Results
    pub(crate) out: Quiet<StdoutLock<'static>>,
    /// Warnings and errors
    pub(crate) err: Quiet<StderrLock<'static>>,
}

impl Console {
    /// The process's stdout and stderr, locked for the life of the command
    pub(crate) fn new() -> Self {
        Self {
            out: Quiet::new(io::stdout().lock()),
            err: Quiet::new(io::stderr().lock()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails with `error` once more than `room` bytes were written
    struct Pipe {
        written: Vec<u8>,
        room: usize,
        error: ErrorKind,
    }

    impl Pipe {
        fn new(room: usize, error: ErrorKind) -> Quiet<Self> {
            Quiet::new(Self {
                written: Vec::new(),
                room,
                error,
            })
        }
    }

    impl Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.written.len() + buf.len() > self.room {
                return Err(io::Error::from(self.error));
            }
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_silences_the_rest() -> io::Result<()> {
        let mut quiet = Pipe::new(6, ErrorKind::BrokenPipe);
        writeln!(quiet, "first")?;
        assert!(!quiet.closed);
        writeln!(quiet, "second")?;
        writeln!(quiet, "third")?;
        quiet.flush()?;
        assert!(quiet.closed);
        assert_eq!(quiet.inner.written, b"first\n");
        Ok(())
    }

    #[test]
    fn other_write_errors_are_returned() {
        let mut quiet = Pipe::new(0, ErrorKind::StorageFull);
        let e = writeln!(quiet, "x").map_err(|e| e.kind());
        assert_eq!(e, Err(ErrorKind::StorageFull));
        assert!(!quiet.closed);
    }
}
