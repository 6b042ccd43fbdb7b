//! Socket owners: which processes hold a socket, by its inode (`ss -p`).
//!
//! The kernel keeps no socket-to-process map; like ss, this reads
//! /proc/PID/fd/* (links of the form `socket:[INODE]`) for every process,
//! once per query, into a hash map, so a lookup costs O(1) and the whole
//! scan is linear in processes plus descriptors (ss 6.1 chains owners in
//! 256 hash buckets, which makes `ss -p` quadratic on large hosts).

use std::collections::HashMap;

use crate::error::{Error, Result};

/// One descriptor that refers to a socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// Process id.
    pub pid: u32,
    /// Descriptor number in that process.
    pub fd: u32,
    /// Index of the command name in [`Owners::command`].
    comm: u32,
    /// Next owner of the same socket in `Owners::all` (u32::MAX: none).
    next: u32,
}

/// Every socket descriptor of every process, by socket inode: one table of
/// descriptors chained per inode, and a hash map from inode to the first
/// and last link of its chain.
#[derive(Debug, Default)]
pub struct Owners {
    by_inode: HashMap<u32, (u32, u32)>,
    all: Vec<Owner>,
    comms: Vec<String>,
}

/// The command name from /proc/PID/stat: the text between the first '('
/// and the first ')' after it, as ss reads it with `%*d (%[^)])`.
fn comm_of_stat(stat: &str) -> &str {
    let Some(open) = stat.find('(') else { return "" };
    let rest = &stat[open + 1..];
    &rest[..rest.find(')').unwrap_or(rest.len())]
}

/// The command of process `pid` as /proc/PID/stat shows it (at most 15
/// bytes); None when the process is gone.
pub fn command_of(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.contains('(').then(|| comm_of_stat(&stat).to_owned())
}

fn parse_socket_link(link: &[u8]) -> Option<u32> {
    let inner = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    std::str::from_utf8(inner).ok()?.parse().ok()
}

/// One process's socket descriptors: `(inode, fd)` in directory order.
struct ProcessSockets {
    pid: u32,
    comm: String,
    fds: Vec<(u32, u32)>,
}

/// Reads /proc/PID/fd with readlinkat relative to the open directory.
fn scan_process(root: &str, pid: u32, names: &mut Vec<u8>) -> Option<ProcessSockets> {
    use std::os::fd::AsFd;
    use std::os::unix::ffi::OsStrExt;
    let dir_path = format!("{root}/{pid}/fd");
    let dir = std::fs::File::open(&dir_path).ok()?;
    let entries = std::fs::read_dir(&dir_path).ok()?;
    let mut fds = Vec::new();
    let mut link = [0u8; 64];
    for ent in entries.flatten() {
        let name = ent.file_name();
        let Some(fd) = std::str::from_utf8(name.as_bytes())
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        names.clear();
        names.extend_from_slice(name.as_bytes());
        names.push(0);
        let Ok(cname) = std::ffi::CStr::from_bytes_with_nul(names) else {
            continue;
        };
        let Ok(n) = crate::sys::readlinkat(dir.as_fd(), cname, &mut link) else {
            continue;
        };
        if let Some(ino) = parse_socket_link(&link[..n]) {
            fds.push((ino, fd));
        }
    }
    if fds.is_empty() {
        return None;
    }
    let stat = std::fs::read_to_string(format!("{root}/{pid}/stat")).unwrap_or_default();
    Some(ProcessSockets {
        pid,
        comm: comm_of_stat(&stat).to_string(),
        fds,
    })
}

impl Owners {
    /// Scans /proc with two threads.
    pub fn scan() -> Result<Owners> {
        Self::scan_root("/proc", 2)
    }

    /// Scans a proc filesystem mounted at `root` with `threads` threads
    /// (processes are split between them; the result is the same).
    /// Processes that exit during the scan, or whose fd directory is not
    /// readable, are skipped (as ss does).
    pub fn scan_root(root: &str, threads: usize) -> Result<Owners> {
        use std::os::unix::ffi::OsStrExt;
        let dir = std::fs::read_dir(root).map_err(|e| Error::proc(root, e))?;
        let mut pids: Vec<u32> = dir
            .flatten()
            .filter_map(|e| std::str::from_utf8(e.file_name().as_bytes()).ok()?.parse().ok())
            .collect();
        pids.sort_unstable();
        // Threads take the next process from a shared counter, so a few
        // processes with many descriptors spread over all threads.
        let threads = threads.clamp(1, 16);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let mut found: Vec<(usize, ProcessSockets)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut names = Vec::with_capacity(16);
                        let mut mine = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(&pid) = pids.get(i) else { break };
                            if let Some(p) = scan_process(root, pid, &mut names) {
                                mine.push((i, p));
                            }
                        }
                        mine
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
        });
        // Back to /proc order, as ss reports owners.
        found.sort_unstable_by_key(|(i, _)| *i);
        let total: usize = found.iter().map(|(_, p)| p.fds.len()).sum();
        let mut o = Owners {
            by_inode: HashMap::with_capacity(total),
            all: Vec::with_capacity(total),
            comms: Vec::new(),
        };
        for (_, p) in found {
            o.comms.push(p.comm);
            let comm = o.comms.len() as u32 - 1;
            for (ino, fd) in p.fds {
                let at = o.all.len() as u32;
                o.all.push(Owner {
                    pid: p.pid,
                    fd,
                    comm,
                    next: u32::MAX,
                });
                match o.by_inode.get_mut(&ino) {
                    Some((_, tail)) => {
                        o.all[*tail as usize].next = at;
                        *tail = at;
                    }
                    None => {
                        o.by_inode.insert(ino, (at, at));
                    }
                }
            }
        }
        Ok(o)
    }

    /// The descriptors referring to socket `inode`, in scan order
    /// (ascending pid, then directory order of fds, as ss walks /proc).
    pub fn of(&self, inode: u32) -> impl Iterator<Item = &Owner> + '_ {
        let mut at = self.by_inode.get(&inode).map_or(u32::MAX, |&(head, _)| head);
        std::iter::from_fn(move || {
            let o = self.all.get(at as usize)?;
            at = o.next;
            Some(o)
        })
    }

    /// The command name of an owner (from /proc/PID/stat, at most 15 bytes).
    pub fn command(&self, o: &Owner) -> &str {
        self.comms.get(o.comm as usize).map_or("", String::as_str)
    }

    /// Number of distinct socket inodes seen.
    pub fn len(&self) -> usize {
        self.by_inode.len()
    }

    /// Whether no socket descriptor was seen.
    pub fn is_empty(&self) -> bool {
        self.by_inode.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_and_links() {
        assert_eq!(comm_of_stat("12 (sshd) S 1 2"), "sshd");
        assert_eq!(comm_of_stat("12 (a) b) S"), "a");
        assert_eq!(comm_of_stat("garbage"), "");
        assert_eq!(parse_socket_link(b"socket:[1234]"), Some(1234));
        assert_eq!(parse_socket_link(b"pipe:[1234]"), None);
        assert_eq!(parse_socket_link(b"socket:[12"), None);
    }

    #[test]
    fn finds_own_socket() {
        use std::os::unix::fs::MetadataExt;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&l);
        let ino = std::fs::metadata(format!("/proc/self/fd/{fd}")).unwrap().ino() as u32;
        let o = Owners::scan().unwrap();
        let me: Vec<&Owner> = o.of(ino).collect();
        assert_eq!(me.len(), 1);
        assert_eq!(me[0].pid, std::process::id());
        assert_eq!(me[0].fd, fd as u32);
        assert!(!o.command(me[0]).is_empty());
    }
}
