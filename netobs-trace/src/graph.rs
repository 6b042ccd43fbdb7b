//! The function_graph tracer: the call graph under chosen kernel functions
//! (set_graph_function), as the seed articles follow a packet's receive
//! path, read as binary `ftrace:funcgraph_entry` / `funcgraph_exit`
//! records through the ring reader.
//!
//! set_graph_function and max_graph_depth exist only in the top-level
//! instance (kernel/trace/trace.c creates them for the global array), and
//! before 6.9 instances cannot run function_graph at all, so this uses the
//! top-level instance: only while its tracer is `nop` (nobody else is
//! tracing), and it puts every setting back on drop, as `trace-cmd
//! reset` would.

use std::time::Duration;

use netobs_core::stop::Stop;

use crate::error::{Error, Result};
use crate::format::FieldRef;
use crate::kallsyms::Kallsyms;
use crate::reader::RawReader;
use crate::tracefs::{Instance, Tracefs};

/// One record of the graph tracer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphEvent {
    /// A function was entered (`funcgraph_entry`).
    Entry {
        /// CPU.
        cpu: u32,
        /// Task.
        pid: i32,
        /// The function's address.
        func: u64,
        /// Call depth under the graph function (0 for the function itself).
        depth: i32,
        /// Ring timestamp.
        timestamp: u64,
    },
    /// A function returned (`funcgraph_exit`), with its duration.
    Exit {
        /// CPU.
        cpu: u32,
        /// Task.
        pid: i32,
        /// The function's address.
        func: u64,
        /// Call depth.
        depth: i32,
        /// Nanoseconds from entry to return (rettime - calltime).
        duration_ns: u64,
    },
}

#[derive(Debug, Clone, Copy)]
struct GraphFields {
    entry: u16,
    exit: u16,
    pid: FieldRef,
    entry_func: FieldRef,
    entry_depth: FieldRef,
    exit_func: FieldRef,
    exit_depth: FieldRef,
    calltime: FieldRef,
    rettime: FieldRef,
}

/// The function_graph tracer running on the top-level instance.
#[derive(Debug)]
pub struct FunctionGraph {
    /// Closed before the tracer is put back: the kernel refuses to change
    /// a tracer while its trace_pipe is open (EBUSY, tracing_set_tracer).
    reader: Option<RawReader>,
    top: Instance,
    fields: GraphFields,
    /// The settings found, put back on drop.
    saved_depth: Option<String>,
    saved_irqs: Option<String>,
}

impl FunctionGraph {
    /// Traces the calls under `functions` (their names as in
    /// available_filter_functions, `.constprop.0` suffixes included) down
    /// to `max_depth` levels (0: no limit), with the interrupts that
    /// arrive meanwhile when `irqs` (options/funcgraph-irqs; without it an
    /// interrupt's handlers do not show up inside the call they hit).
    ///
    /// Refusals are precise: a tracer already in use is
    /// [`Error::Refused`] with EBUSY (nothing is changed), a kernel
    /// without the tracer is [`Error::Unsupported`], a kernel that forbids
    /// it is [`Error::Refused`] with EPERM, an unknown function is
    /// [`Error::Refused`] with EINVAL.
    pub fn open(tracefs: &Tracefs, functions: &[&str], max_depth: u32, irqs: bool) -> Result<Self> {
        let top = tracefs.top_level();
        let current = top.read("current_tracer")?;
        if current.trim() != "nop" {
            return Err(Error::Refused {
                what: "the function_graph tracer".into(),
                errno: "EBUSY",
                path: top.path().join("current_tracer"),
                hint: Some(format!(
                    "the top-level tracer is in use ({}); set_graph_function exists only there",
                    current.trim()
                )),
            });
        }
        let fields = graph_fields(tracefs)?;
        let saved_depth = top.read("max_graph_depth").ok();
        let saved_irqs = top.read("options/funcgraph-irqs").ok();
        // From here on Drop restores what was changed.
        let mut graph = FunctionGraph {
            reader: None,
            top,
            fields,
            saved_depth,
            saved_irqs,
        };
        graph.top.write("set_graph_function", &functions.join(" "))?;
        if graph.saved_depth.is_some() {
            graph.top.write("max_graph_depth", &max_depth.to_string())?;
        }
        if graph.saved_irqs.is_some() {
            graph
                .top
                .write("options/funcgraph-irqs", if irqs { "1" } else { "0" })?;
        }
        graph.top.set_tracer("function_graph")?;
        graph.reader = Some(RawReader::open(&graph.top)?);
        Ok(graph)
    }

    /// Makes a waiting [`poll`](Self::poll) return at once when `stop` is
    /// tripped.
    pub fn set_stop(&mut self, stop: &Stop) {
        if let Some(r) = &mut self.reader {
            r.set_stop(stop);
        }
    }

    /// Hands every graph record available now to `f` (per CPU, in order),
    /// waiting up to `timeout` when none is; returns the events lost.
    pub fn poll(&mut self, timeout: Option<Duration>, mut f: impl FnMut(&GraphEvent)) -> Result<u64> {
        let g = self.fields;
        let Some(reader) = self.reader.as_mut() else {
            return Ok(0);
        };
        let sum = reader.read_records(timeout, |cpu, rec| {
            let pid = rec.int(&g.pid).unwrap_or(0) as i32;
            let ev = match rec.event_id() {
                Some(id) if id == g.entry => GraphEvent::Entry {
                    cpu,
                    pid,
                    func: rec.uint(&g.entry_func).unwrap_or(0),
                    depth: rec.int(&g.entry_depth).unwrap_or(0) as i32,
                    timestamp: rec.timestamp,
                },
                Some(id) if id == g.exit => GraphEvent::Exit {
                    cpu,
                    pid,
                    func: rec.uint(&g.exit_func).unwrap_or(0),
                    depth: rec.int(&g.exit_depth).unwrap_or(0) as i32,
                    duration_ns: rec
                        .uint(&g.rettime)
                        .unwrap_or(0)
                        .saturating_sub(rec.uint(&g.calltime).unwrap_or(0)),
                },
                _ => return,
            };
            f(&ev);
        })?;
        Ok(sum.lost)
    }
}

impl Drop for FunctionGraph {
    fn drop(&mut self) {
        self.reader = None;
        let _ = self.top.set_tracer("nop");
        let _ = self.top.write("set_graph_function", "");
        if let Some(d) = &self.saved_depth {
            let _ = self.top.write("max_graph_depth", d.trim());
        }
        if let Some(i) = &self.saved_irqs {
            let _ = self.top.write("options/funcgraph-irqs", i.trim());
        }
    }
}

/// The traceable functions named `name` (available_filter_functions):
/// `name` itself and its compiler copies (`name.constprop.0`, `name.isra.0`).
pub fn traceable_functions(tracefs: &Tracefs, name: &str) -> Result<Vec<String>> {
    let all = tracefs.read("available_filter_functions").map_err(|e| match e {
        // Kernels that forbid function tracing refuse even the list.
        Error::Io { source, path, .. } if source.raw_os_error() == Some(libc::EPERM) => Error::Refused {
            what: "function tracing".into(),
            errno: "EPERM",
            path,
            hint: Some("function tracing is forbidden on this kernel; tracepoint events still work".into()),
        },
        e => e,
    })?;
    let mut found: Vec<String> = all
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|f| *f == name || f.strip_prefix(name).is_some_and(|rest| rest.starts_with('.')))
        .map(str::to_owned)
        .collect();
    found.dedup();
    Ok(found)
}

fn graph_fields(tracefs: &Tracefs) -> Result<GraphFields> {
    let entry = tracefs.event_format("ftrace", "funcgraph_entry")?;
    let exit = tracefs.event_format("ftrace", "funcgraph_exit")?;
    Ok(GraphFields {
        entry: entry.id,
        exit: exit.id,
        pid: entry.field_ref("common_pid")?,
        entry_func: entry.field_ref("func")?,
        entry_depth: entry.field_ref("depth")?,
        exit_func: exit.field_ref("func")?,
        exit_depth: exit.field_ref("depth")?,
        calltime: exit.field_ref("calltime")?,
        rettime: exit.field_ref("rettime")?,
    })
}

/// One line of a call graph, as the kernel's function_graph output and
/// `trace-cmd report` write it after the `|`: `name() {`, `name();` for a
/// function that called nothing traced, `}` for a return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphLine {
    /// CPU.
    pub cpu: u32,
    /// Task.
    pub pid: i32,
    /// Nesting depth.
    pub depth: i32,
    /// The text after the indentation.
    pub text: String,
    /// Duration of a leaf call or of a closed one.
    pub duration_ns: Option<u64>,
}

/// Turns graph events into lines, CPU by CPU: an entry directly followed
/// by its own exit on the same CPU is one leaf line, as the kernel prints
/// it (kernel/trace/trace_functions_graph.c print_graph_entry_leaf).
#[derive(Debug, Default)]
pub struct GraphLines {
    /// Per CPU: an entry not yet known to be a leaf.
    pending: Vec<Option<(i32, u64, i32)>>,
}

impl GraphLines {
    /// Feeds one event, handing finished lines to `out`.
    pub fn feed(&mut self, ev: &GraphEvent, syms: Option<&Kallsyms>, mut out: impl FnMut(GraphLine)) {
        // The name alone, as the kernel's `%ps`: with IBT the recorded
        // address is the ftrace site after the function's ENDBR (+4).
        let name = |func: u64| match syms.and_then(|s| s.lookup(func)) {
            Some(l) => l.name.to_owned(),
            None => format!("{func:#x}"),
        };
        let cpu = match ev {
            GraphEvent::Entry { cpu, .. } | GraphEvent::Exit { cpu, .. } => *cpu as usize,
        };
        if self.pending.len() <= cpu {
            self.pending.resize(cpu + 1, None);
        }
        // The pending entry turned out to have callees: it opens a block.
        let opened = |(pid, func, depth): (i32, u64, i32), cpu: u32| GraphLine {
            cpu,
            pid,
            depth,
            text: format!("{}() {{", name(func)),
            duration_ns: None,
        };
        match *ev {
            GraphEvent::Entry {
                cpu: c,
                pid,
                func,
                depth,
                ..
            } => {
                if let Some(p) = self.pending[cpu].take() {
                    out(opened(p, c));
                }
                self.pending[cpu] = Some((pid, func, depth));
            }
            GraphEvent::Exit {
                cpu: c,
                pid,
                func,
                depth,
                duration_ns,
            } => {
                let (text, pid) = match self.pending[cpu].take() {
                    Some((p, f, d)) if f == func && d == depth => (format!("{}();", name(func)), p),
                    other => {
                        if let Some(p) = other {
                            out(opened(p, c));
                        }
                        ("}".to_owned(), pid)
                    }
                };
                out(GraphLine {
                    cpu: c,
                    pid,
                    depth,
                    text,
                    duration_ns: Some(duration_ns),
                });
            }
        }
    }
}

/// The kernel's duration column (print_graph_duration): microseconds with
/// three decimals and an overhead mark (`+` over 10 us, `!` over 100 us,
/// `#` over 1 ms, `*` over 10 ms, `@` over 100 ms, `$` over 1 s).
pub struct Duration3(pub Option<u64>);

impl std::fmt::Display for Duration3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Some(ns) = self.0 else {
            return write!(f, "{:14}", "");
        };
        let mark = match ns {
            n if n > 1_000_000_000 => '$',
            n if n > 100_000_000 => '@',
            n if n > 10_000_000 => '*',
            n if n > 1_000_000 => '#',
            n if n > 100_000 => '!',
            n if n > 10_000 => '+',
            _ => ' ',
        };
        // Up to 7 digits in all, then " us " and spaces to 8 columns.
        let int = (ns / 1000).to_string();
        let value = if int.len() < 7 {
            let frac = format!("{:03}", ns % 1000);
            format!("{int}.{}", &frac[..frac.len().min(7 - int.len())])
        } else {
            int
        };
        write!(
            f,
            "{mark} {value} us {:pad$}",
            "",
            pad = 8usize.saturating_sub(value.len())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(func: u64, depth: i32) -> GraphEvent {
        GraphEvent::Entry {
            cpu: 0,
            pid: 7,
            func,
            depth,
            timestamp: 0,
        }
    }

    fn exit(func: u64, depth: i32, ns: u64) -> GraphEvent {
        GraphEvent::Exit {
            cpu: 0,
            pid: 7,
            func,
            depth,
            duration_ns: ns,
        }
    }

    #[test]
    fn leaves_and_nesting() {
        let mut g = GraphLines::default();
        let mut lines = Vec::new();
        for ev in [
            entry(1, 0),
            entry(2, 1),
            exit(2, 1, 500),
            entry(3, 1),
            entry(4, 2),
            exit(4, 2, 100),
            exit(3, 1, 20_000),
            exit(1, 0, 150_000),
        ] {
            g.feed(&ev, None, |l| {
                lines.push(format!("{}{}", "  ".repeat(l.depth as usize), l.text))
            });
        }
        assert_eq!(lines, ["0x1() {", "  0x2();", "  0x3() {", "    0x4();", "  }", "}"]);
        // As the kernel's trace file: `  8.990 us    |`, `! 665.795 us  |`.
        assert_eq!(format!("{}|", Duration3(Some(8_990))), "  8.990 us    |");
        assert_eq!(format!("{}|", Duration3(Some(665_795))), "! 665.795 us  |");
        assert_eq!(format!("{}|", Duration3(None)), "              |");
    }
}
