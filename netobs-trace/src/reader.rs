//! Readers of an instance's buffers: the binary per-CPU `trace_pipe_raw`
//! files (one sub-buffer per read, parsed in place) and the text
//! `trace_pipe` as a fallback.
//!
//! Reads are non-blocking; when every CPU is empty the reader waits in
//! poll(2) on all of them. With the instance's buffer_percent at 0 the
//! kernel wakes the poll on the first event (ring_buffer_poll_wait).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::os::fd::AsFd;
use std::time::Duration;

use netobs_core::stop::{self, Stop, Wake};

use crate::error::{Error, Result};
use crate::ring::{Missed, Page, PageLayout, Record};
use crate::tracefs::Instance;

struct CpuFile {
    cpu: u32,
    file: File,
    /// The overrun counter value accounted for so far (baseline at open
    /// plus every lost event reported).
    overrun_seen: u64,
    /// Set once a page had no room for its missed count.
    from_stats: bool,
}

/// Sub-buffers read from one CPU per [`RawReader::read`] call at most.
const MAX_PAGES_PER_READ: usize = 256;
/// Lines read per [`TextReader::read`] call at most.
const MAX_LINES_PER_READ: u64 = 16384;

/// What one [`RawReader::read`] call saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadSummary {
    /// Sub-buffers read.
    pub pages: u64,
    /// Lost events reported by those pages (counts, or stats deltas).
    pub lost: u64,
}

/// Reads `per_cpu/cpuN/trace_pipe_raw` of every CPU of an instance.
pub struct RawReader {
    files: Vec<CpuFile>,
    layout: PageLayout,
    buf: Vec<u8>,
    lost: u64,
    ready: Vec<i16>,
    stop: Option<Stop>,
    // Last: the instance outlives the files above (fields drop in order).
    instance: Instance,
}

impl std::fmt::Debug for RawReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawReader")
            .field("instance", &self.instance.name())
            .field("cpus", &self.files.len())
            .field("subbuf", &self.buf.len())
            .field("lost", &self.lost)
            .finish()
    }
}

impl RawReader {
    /// Opens every CPU's trace_pipe_raw; the page layout comes from
    /// events/header_page and the read size from buffer_subbuf_size_kb.
    pub fn open(instance: &Instance) -> Result<Self> {
        let layout = instance.tracefs().page_layout()?;
        let subbuf = instance.subbuf_size_kb()? as usize * 1024;
        let mut files = Vec::new();
        for cpu in instance.cpus()? {
            let file = instance.open(&format!("per_cpu/cpu{cpu}/trace_pipe_raw"), true)?;
            let overrun_seen = instance.cpu_stats(cpu)?.overrun;
            files.push(CpuFile {
                cpu,
                file,
                overrun_seen,
                from_stats: false,
            });
        }
        Ok(RawReader {
            files,
            layout,
            buf: vec![0; subbuf.max(layout.data_offset + 8)],
            lost: 0,
            ready: Vec::new(),
            stop: None,
            instance: instance.clone(),
        })
    }

    /// The instance read.
    pub fn instance(&self) -> &Instance {
        &self.instance
    }

    /// Lost events reported so far.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Makes a waiting [`read`](Self::read) return at once (with nothing
    /// read) when `stop` is tripped.
    pub fn set_stop(&mut self, stop: &Stop) {
        self.stop = Some(stop.clone());
    }

    /// Reads the available sub-buffers (at most 256 per CPU), handing each
    /// parsed page to `f` with its CPU. When all buffers are empty, first
    /// waits up to `timeout` (None: forever) for data; the [`Stop`] given to
    /// [`set_stop`](Self::set_stop), or a signal handler of the program
    /// (EINTR), ends the wait early.
    pub fn read(&mut self, timeout: Option<Duration>, mut f: impl FnMut(u32, &Page<'_>)) -> Result<ReadSummary> {
        let sum = self.drain(&mut f, None)?;
        if sum.pages > 0 {
            return Ok(sum);
        }
        {
            let fds: Vec<_> = self.files.iter().map(|c| c.file.as_fd()).collect();
            let woken = stop::wait(&fds, timeout, self.stop.as_ref(), &mut self.ready)
                .map_err(|e| Error::io("poll", self.instance.path().join("per_cpu"), e))?;
            if woken != Wake::Ready {
                return Ok(sum);
            }
        }
        let ready = std::mem::take(&mut self.ready);
        let sum = self.drain(&mut f, Some(&ready));
        self.ready = ready;
        sum
    }

    /// [`read`](Self::read), record by record: `f` gets each record with
    /// its CPU. A malformed record ends its page; the first such error is
    /// returned after the read (the other pages are still handed over).
    pub fn read_records(
        &mut self,
        timeout: Option<Duration>,
        mut f: impl FnMut(u32, &Record<'_>),
    ) -> Result<ReadSummary> {
        let mut err = None;
        let sum = self.read(timeout, |cpu, page| {
            for rec in page.records() {
                match rec {
                    Ok(r) => f(cpu, &r),
                    Err(source) => {
                        err.get_or_insert(Error::Page { cpu, source });
                        break;
                    }
                }
            }
        })?;
        match err {
            Some(e) => Err(e),
            None => Ok(sum),
        }
    }

    /// Reads every CPU's buffer, or with `only` (poll revents per CPU) the
    /// CPUs that reported an event.
    fn drain(&mut self, f: &mut impl FnMut(u32, &Page<'_>), only: Option<&[i16]>) -> Result<ReadSummary> {
        let mut sum = ReadSummary::default();
        for i in 0..self.files.len() {
            if only.is_some_and(|o| o.get(i).copied().unwrap_or(0) == 0) {
                continue;
            }
            // Bounded, so a writer faster than us cannot keep us here forever.
            for _ in 0..MAX_PAGES_PER_READ {
                let n = match self.files[i].file.read(&mut self.buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.raw_os_error() == Some(libc::EAGAIN) || e.raw_os_error() == Some(libc::EINTR) => break,
                    Err(e) => {
                        let cpu = self.files[i].cpu;
                        return Err(Error::io(
                            "read",
                            self.instance.path().join(format!("per_cpu/cpu{cpu}/trace_pipe_raw")),
                            e,
                        ));
                    }
                };
                let cpu = self.files[i].cpu;
                let page = Page::parse(&self.buf[..n], &self.layout).map_err(|source| Error::Page { cpu, source })?;
                // Each page's missed count covers the overruns since the
                // previous reader page, so counts add up to the overrun
                // counter exactly. A page without room for its count makes
                // us read the counter instead; from then on this CPU is
                // accounted from the counter (never below what pages said,
                // never counting an overrun twice).
                let file = &mut self.files[i];
                let add = match (page.missed(), file.from_stats) {
                    (Missed::None, _) => 0,
                    (Missed::Count(c), false) => c,
                    (Missed::Count(_), true) | (Missed::Unknown, _) => {
                        file.from_stats = true;
                        let now = self.instance.cpu_stats(cpu)?.overrun;
                        now.saturating_sub(file.overrun_seen)
                    }
                };
                file.overrun_seen += add;
                sum.lost += add;
                sum.pages += 1;
                f(cpu, &page);
            }
        }
        self.lost += sum.lost;
        Ok(sum)
    }

    /// Events lost in total according to the per-CPU stats (overwritten,
    /// commit overruns and dropped), for cross-checking [`RawReader::lost`].
    pub fn stats_lost(&self) -> Result<u64> {
        let mut n = 0;
        for c in &self.files {
            n += self.instance.cpu_stats(c.cpu)?.lost();
        }
        Ok(n)
    }
}

/// Reads the instance's text `trace_pipe` line by line (the fallback, and the
/// baseline of the benchmark).
pub struct TextReader {
    reader: BufReader<File>,
    line: String,
    stop: Option<Stop>,
    _instance: Instance,
}

impl std::fmt::Debug for TextReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextReader")
            .field("instance", &self._instance.name())
            .finish()
    }
}

impl TextReader {
    /// Opens trace_pipe (non-blocking).
    pub fn open(instance: &Instance) -> Result<Self> {
        Ok(TextReader {
            reader: BufReader::with_capacity(64 * 1024, instance.open("trace_pipe", true)?),
            line: String::new(),
            stop: None,
            _instance: instance.clone(),
        })
    }

    /// Makes a waiting [`read`](Self::read) return at once when `stop` is
    /// tripped.
    pub fn set_stop(&mut self, stop: &Stop) {
        self.stop = Some(stop.clone());
    }

    /// Reads the available lines (at most 16384), handing each (without
    /// newline) to `f`; returns the number of lines. Waits up to `timeout`
    /// when none is there (a tripped [`Stop`] or EINTR ends the wait).
    pub fn read(&mut self, timeout: Option<Duration>, mut f: impl FnMut(&str)) -> Result<u64> {
        let mut n = 0;
        let mut waited = false;
        while n < MAX_LINES_PER_READ {
            // A partial line left by EAGAIN stays in `line` and is completed here.
            match self.reader.read_line(&mut self.line) {
                Ok(0) => return Ok(n),
                Ok(_) if !self.line.ends_with('\n') => continue,
                Ok(_) => {
                    n += 1;
                    f(self.line.trim_end_matches('\n'));
                    self.line.clear();
                }
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                    if n > 0 || waited {
                        return Ok(n);
                    }
                    waited = true;
                    let mut ready = Vec::with_capacity(1);
                    let woken = stop::wait(
                        &[self.reader.get_ref().as_fd()],
                        timeout,
                        self.stop.as_ref(),
                        &mut ready,
                    )
                    .map_err(|e| Error::io("poll", self._instance.path().join("trace_pipe"), e))?;
                    if woken != Wake::Ready {
                        return Ok(n);
                    }
                }
                Err(e) => return Err(Error::io("read", self._instance.path().join("trace_pipe"), e)),
            }
        }
        Ok(n)
    }
}
