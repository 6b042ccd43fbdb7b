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
}

/// Every socket descriptor of every process, by socket inode.
#[derive(Debug, Default)]
pub struct Owners {
    by_inode: HashMap<u32, Vec<Owner>>,
    comms: Vec<String>,
}

/// The command name from /proc/PID/stat: the text between the first '('
/// and the first ')' after it, as ss reads it with `%*d (%[^)])`.
fn comm_of_stat(stat: &str) -> &str {
    let Some(open) = stat.find('(') else { return "" };
    let rest = &stat[open + 1..];
    &rest[..rest.find(')').unwrap_or(rest.len())]
}

fn parse_socket_link(link: &[u8]) -> Option<u32> {
    let inner = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    std::str::from_utf8(inner).ok()?.parse().ok()
}

impl Owners {
    /// Scans /proc. Processes that exit during the scan, or whose fd
    /// directory is not readable, are skipped (as ss does).
    pub fn scan() -> Result<Owners> {
        Self::scan_root("/proc")
    }

    /// Scans a proc filesystem mounted at `root`.
    pub fn scan_root(root: &str) -> Result<Owners> {
        use std::os::unix::ffi::OsStrExt;
        let mut o = Owners::default();
        let dir = std::fs::read_dir(root).map_err(|e| Error::proc(root, e))?;
        let mut path = String::with_capacity(64);
        for ent in dir.flatten() {
            let Some(pid) = std::str::from_utf8(ent.file_name().as_bytes())
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            path.clear();
            path.push_str(root);
            path.push('/');
            path.push_str(&pid.to_string());
            path.push_str("/fd");
            let Ok(fds) = std::fs::read_dir(&path) else { continue };
            let mut comm: Option<u32> = None;
            for fd in fds.flatten() {
                let Some(fdn) = std::str::from_utf8(fd.file_name().as_bytes())
                    .ok()
                    .and_then(|s| s.parse::<u32>().ok())
                else {
                    continue;
                };
                let Ok(link) = std::fs::read_link(fd.path()) else {
                    continue;
                };
                let Some(ino) = parse_socket_link(link.as_os_str().as_bytes()) else {
                    continue;
                };
                let c = *comm.get_or_insert_with(|| {
                    let stat = std::fs::read_to_string(format!("{root}/{pid}/stat")).unwrap_or_default();
                    o.comms.push(comm_of_stat(&stat).to_string());
                    o.comms.len() as u32 - 1
                });
                o.by_inode.entry(ino).or_default().push(Owner { pid, fd: fdn, comm: c });
            }
        }
        Ok(o)
    }

    /// The descriptors referring to socket `inode`, in scan order
    /// (ascending pid, then directory order of fds).
    pub fn of(&self, inode: u32) -> &[Owner] {
        self.by_inode.get(&inode).map_or(&[], Vec::as_slice)
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
        let me = o.of(ino);
        assert_eq!(me.len(), 1);
        assert_eq!(me[0].pid, std::process::id());
        assert_eq!(me[0].fd, fd as u32);
        assert!(!o.command(&me[0]).is_empty());
    }
}
