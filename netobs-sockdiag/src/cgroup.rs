//! cgroup v2 ids and paths, for the `cgroup` filter and `ss -e` output.
//!
//! On cgroup2 a cgroup's id (what INET_DIAG_CGROUP_ID carries) is the
//! kernfs node id, which is also the inode number of its directory on the
//! cgroup2 mount; iproute2 gets the same value from `name_to_handle_at`.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;

/// Where cgroup2 is mounted, from /proc/self/mounts (the first cgroup2 entry).
pub fn mount() -> Option<String> {
    let m = std::fs::read_to_string("/proc/self/mounts").ok()?;
    m.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        let (_, dir, fstype) = (w.next()?, w.next()?, w.next()?);
        (fstype == "cgroup2").then(|| dir.replace("\\040", " "))
    })
}

/// The id of cgroup `path`: absolute under the mount, or relative to it.
pub fn id_of(path: &str) -> std::io::Result<u64> {
    let mnt = mount().ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "cgroup2 is not mounted"))?;
    let full = if path.starts_with(&mnt) {
        path.to_string()
    } else {
        format!("{}/{}", mnt.trim_end_matches('/'), path.trim_start_matches('/'))
    };
    std::fs::metadata(full).map(|m| m.ino())
}

/// Every cgroup's path by id, relative to the cgroup2 mount (`/` for the
/// root), walking the hierarchy once.
pub fn paths() -> HashMap<u64, String> {
    let mut out = HashMap::new();
    let Some(mnt) = mount() else { return out };
    let mut stack = vec![(mnt.clone(), "/".to_string())];
    while let Some((dir, rel)) = stack.pop() {
        let Ok(md) = std::fs::metadata(&dir) else { continue };
        out.insert(md.ino(), rel.clone());
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                let name = e.file_name().to_string_lossy().into_owned();
                let r = if rel == "/" {
                    format!("/{name}")
                } else {
                    format!("{rel}/{name}")
                };
                stack.push((e.path().to_string_lossy().into_owned(), r));
            }
        }
    }
    out
}
