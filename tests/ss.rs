//! The `ss` example against iproute2's `ss` on the same world: a namespace
//! holding sockets in known states (LISTEN, ESTAB, SYN-SENT to a port
//! nobody answers, CLOSE-WAIT, FIN-WAIT-2, TIME-WAIT, UDP bound and
//! connected, unix stream/dgram/seqpacket named and unnamed, an MPTCP
//! connection, a packet socket, netlink sockets), built by a Python process that holds them
//! while both tools look; and the example's `--json` against ss's rows.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use netobs_testsupport::{assert_same_output, example_bin, output, privileged, TestNetns};

/// Builds the sockets, prints "ready", then holds them until stdin closes.
const WORLD: &str = r#"
import socket, sys, os, time
keep = []
def tcp_listener(port, backlog=16):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(backlog); keep.append(s); return s
l = tcp_listener(5000)
l6 = socket.socket(socket.AF_INET6); l6.bind(("::1", 5001)); l6.listen(8); keep.append(l6)
l6any = socket.socket(socket.AF_INET6); l6any.bind(("::", 5002)); l6any.listen(8); keep.append(l6any)
# IPv4-mapped IPv6: an IPv4 client of the dual-stack listener; the accepted
# socket is AF_INET6 with ::ffff:127.0.0.1 at both ends
m4 = socket.create_connection(("127.0.0.1", 5002)); m4a, _ = l6any.accept(); keep += [m4, m4a]
# ESTAB pair with data queued in one direction
c = socket.create_connection(("127.0.0.1", 5000)); a, _ = l.accept(); keep += [c, a]
c.sendall(b"x" * 1000)
# CLOSE-WAIT (server side) and FIN-WAIT-2 (client side)
c2 = socket.create_connection(("127.0.0.1", 5000)); a2, _ = l.accept(); keep.append(a2)
c2.close()
# TIME-WAIT: client closes, then server closes
c3 = socket.create_connection(("127.0.0.1", 5000)); a3, _ = l.accept()
c3.close(); time.sleep(0.05); a3.close()
# SYN-SENT: 10.9.0.2 has a static neighbour entry nobody answers for
s = socket.socket(); s.setblocking(False)
try: s.connect(("10.9.0.2", 7777))
except BlockingIOError: pass
keep.append(s)
# UDP bound and connected
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 5353)); keep.append(u)
uc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); uc.connect(("127.0.0.1", 5353)); keep.append(uc)
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u6.bind(("::", 5354)); keep.append(u6)
# raw: ICMP over IPv4 (unbound), protocol 253 bound to 127.0.0.1, ICMPv6 bound to ::1
keep.append(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
r253 = socket.socket(socket.AF_INET, socket.SOCK_RAW, 253); r253.bind(("127.0.0.1", 0)); keep.append(r253)
r6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6); r6.bind(("::1", 0)); keep.append(r6)
# unix: named listener + connection, abstract datagram, unnamed pairs
path = sys.argv[1]
ul = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); ul.bind(path); ul.listen(4); keep.append(ul)
ucl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); ucl.connect(path); keep.append(ucl)
uacc, _ = ul.accept(); keep.append(uacc)
ud = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); ud.bind("\0netobs-test-dgram"); keep.append(ud)
# an abstract name with NULs inside, which ss prints with each NUL as "@"
un = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); un.bind(b"\0netobs\0inner"); keep.append(un)
keep += list(socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM))
keep += list(socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET))
keep += list(socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM))
# MPTCP: the connection's TCP subflows carry the mptcp ULP (ss -i: tcp-ulp-mptcp)
ml = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262); ml.bind(("127.0.0.1", 5100)); ml.listen(4); keep.append(ml)
mc = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262); mc.connect(("127.0.0.1", 5100)); keep.append(mc)
ma, _ = ml.accept(); keep.append(ma)
# packet socket
keep.append(socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)))
# netlink: rtnetlink joined to a group, generic netlink, a connected one
nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); nl.bind((0, 1)); keep.append(nl)
ng = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16); ng.bind((0, 0)); keep.append(ng)
nc = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0); nc.connect((0, 0)); keep.append(nc)
time.sleep(0.2)
print("ready", flush=True)
sys.stdin.read()
"#;

struct World {
    ns: TestNetns,
    holder: Child,
    dir: std::path::PathBuf,
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn world() -> World {
    let ns = TestNetns::new();
    ns.ip(&["link", "add", "sa", "type", "veth", "peer", "name", "sb"]);
    ns.ip(&["addr", "add", "10.9.0.1/24", "dev", "sa"]);
    ns.ip(&["link", "set", "sa", "up"]);
    ns.ip(&["link", "set", "sb", "up"]);
    ns.ip(&[
        "neigh",
        "add",
        "10.9.0.2",
        "lladdr",
        "02:00:00:00:00:09",
        "dev",
        "sa",
        "nud",
        "permanent",
    ]);
    let dir = std::env::temp_dir().join(format!("netobs-ss-{}-{}", std::process::id(), ns.name()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("stream.sock");
    let mut holder = Command::new("ip")
        .args([
            "netns",
            "exec",
            ns.name(),
            "python3",
            "-c",
            WORLD,
            path.to_str().unwrap(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs the socket world");
    let mut line = String::new();
    BufReader::new(holder.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready", "socket world did not start");
    let _ = holder.stdin.as_mut().unwrap().flush();
    World { ns, holder, dir }
}

/// Masks the parts of a line that move between two runs: timer values.
fn mask_timers(s: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(s);
    let mut out = String::with_capacity(text.len());
    let mut rest = &*text;
    while let Some(i) = rest.find("timer:(") {
        out.push_str(&rest[..i + 7]);
        let after = &rest[i + 7..];
        let end = after.find(')').unwrap_or(after.len());
        let fields: Vec<&str> = after[..end].split(',').collect();
        out.push_str(fields.first().copied().unwrap_or(""));
        out.push_str(",T,");
        out.push_str(fields.get(2).copied().unwrap_or(""));
        rest = &after[end..];
    }
    out.push_str(rest);
    out.into_bytes()
}

fn run_masked(cmd: &str, args: &[&str]) -> std::process::Output {
    let mut o = output(cmd, args);
    o.stdout = mask_timers(&o.stdout);
    o
}

/// Runs both tools inside the namespace with `nsenter --net` (only the
/// network namespace changes). `ss -N` also remounts /sys privately and so
/// loses the cgroup2 mount: its `-e` output then says
/// `cgroup:unreachable:ID` where netobs resolves the path, so `-e` is
/// compared this way.
fn same_nsenter(ns: &str, args: &[&str]) {
    let path = format!("--net=/run/netns/{ns}");
    let bin = example_bin("ss");
    let mut anchor = vec![path.as_str(), "ss"];
    anchor.extend_from_slice(args);
    let mut ours = vec![path.as_str(), bin.to_str().unwrap()];
    ours.extend_from_slice(args);
    let label = format!("nsenter ss {}", args.join(" "));
    assert_same_output(
        &label,
        || run_masked("nsenter", &anchor),
        || run_masked("nsenter", &ours),
    );
}

fn same(ns: &str, args: &[&str]) {
    let mut full = vec!["-N", ns];
    full.extend_from_slice(args);
    let bin = example_bin("ss");
    let label = format!("ss {}", full.join(" "));
    assert_same_output(
        &label,
        || run_masked("ss", &full),
        || run_masked(bin.to_str().unwrap(), &full),
    );
}

#[test]
fn ss_matches_iproute2() {
    if !privileged("ss_matches_iproute2") {
        return;
    }
    let w = world();
    let ns = w.ns.name();
    for args in [
        &["-tan"][..],
        &["-tuan"],
        &["-xan"],
        &["-ltn"],
        &["-tanp"],
        &["-tanm"],
        &["-uan"],
        &["-lx"],
        &["-tn"],
        &["-tano"],
        &["-4tan"],
        &["-6tan"],
        &["-Htan"],
        // service names from /etc/services (never for ephemeral ports)
        &["-ta"],
        &["-ua"],
        &["-tan", "state", "established"],
        &["-tan", "state", "close-wait", "state", "fin-wait-2"],
        &["-tan", "exclude", "listening"],
        &["-tan", "sport", "=", ":5000"],
        &["-tan", "(", "dport", "=", ":5000", "or", "sport", "=", ":5000", ")"],
        &["-tan", "dst", "127.0.0.0/8"],
        &["-tan", "src", "[::1]"],
        &["-tan", "sport", ">", ":5000"],
        &["-tan", "not", "dport", "=", ":7777"],
        &["-tan", "dev", "sa"],
        &["-Man"],
        &["-Mani"],
        &["-Manm"],
        &["-0an"],
        &["-0ae"],
        &["-0apn"],
        &["-0m"],
        // unix name patterns (fnmatch, case-insensitive), run in user space
        &["-xa", "src", "unix:@netobs*"],
        &["-x", "src", "@NETOBS*"],
        &["-xa", "dst", "unix:*"],
        &["-xa", "not", "src", "unix:@*"],
        &["-a", "src", "unix:*"],
        &["src", "unix:*"],
        &["-xa", "sport", "=", ":1"],
        &["-xa", "src", "unix:@netobs@inner"],
        &["-xa", "src", "unix:@netobs@*"],
        &["-xa", "autobound"],
        // raw sockets: sock_diag where raw_diag is loaded, else the
        // /proc/net/raw{,6} tables, as ss reads them
        &["-wan"],
        &["-wanp"],
        &["-4wan"],
        &["-wan", "sport", "=", ":253"],
        &["-wan", "src", "[::1]"],
        // the same filter on every table, packet and raw included (netlink
        // in ss_netlink_sockets_match_iproute2)
        &["-A", "tcp,udp,raw,unix,packet", "-an", "sport", "=", ":5000"],
        &["-A", "tcp,udp,raw,unix,packet", "-an", "not", "sport", "=", ":5000"],
        &["-0an", "sport", "=", ":0"],
        &["-0an", "dev", "lo"],
    ] {
        same(ns, args);
    }
    for args in ["-tan", "-uan", "-xan"] {
        json_lists_what_ss_lists(ns, args);
    }
    same_nsenter(ns, &["-tane"]);
    // -e through nsenter: `ss -N` remounts /sys in its own mount namespace,
    // which hides a cgroup2 mount under /sys (ss then prints
    // cgroup:unreachable:ID and "Failed to find cgroup2 mount").
    same_nsenter(ns, &["-wane"]);
    same_nsenter(ns, &["-tan"]);
}

/// The rows of `ss ARGS` (run by `tool` in `ns`, no header) as printed,
/// sorted, and apart from them the row of the dumping tool's own
/// sock_diag socket (protocol 4 with its own port id, which differs
/// between the two tools).
fn netlink_rows(tool: &str, ns: &str, args: &[&str]) -> (Vec<String>, Option<String>) {
    let mut full = vec!["-N", ns, "-H"];
    full.extend_from_slice(args);
    let out = output(tool, &full);
    assert!(
        out.status.success(),
        "{tool} {full:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (own, mut rows): (Vec<String>, Vec<String>) = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .partition(|l| {
            l.split_whitespace()
                .any(|f| f.starts_with("tcpdiag:ss/") || (f.starts_with("4:") && f != "4:0"))
        });
    assert!(own.len() <= 1, "{tool} {full:?}: {own:?}");
    rows.sort();
    (rows, own.into_iter().next())
}

/// Netlink sockets (`-A netlink`, `-f netlink`) with numbers, names,
/// groups and memory, compared byte for byte, column layout included.
/// Their order is the kernel's rhashtable order, which a table resize
/// between the two runs may change, so rows are sorted. Each tool's own
/// sock_diag socket is left out, but its fields take part in the column
/// widths: the two outputs are compared when those fields have the same
/// lengths in both (a port id of the same number of digits), else the
/// tools run again.
#[test]
fn ss_netlink_sockets_match_iproute2() {
    if !privileged("ss_netlink_sockets_match_iproute2") {
        return;
    }
    let w = world();
    let ns = w.ns.name();
    let bin = example_bin("ss");
    let widths = |row: &Option<String>| {
        row.as_deref()
            .map(|r| r.split_whitespace().map(str::len).collect::<Vec<_>>())
    };
    for args in [
        &["-A", "netlink", "-an"][..],
        &["-f", "netlink", "-a"],
        &["-A", "netlink", "-ane"],
        &["-f", "netlink", "-anm"],
        &["-A", "netlink,unix", "-a"],
        &["-A", "netlink", "-an", "not", "sport", "=", ":0"],
        &["-A", "netlink", "-an", "autobound"],
    ] {
        let mut compared = false;
        for _ in 0..8 {
            let (theirs, their_own) = netlink_rows("ss", ns, args);
            let (ours, our_own) = netlink_rows(bin.to_str().unwrap(), ns, args);
            if widths(&their_own) != widths(&our_own) {
                continue;
            }
            assert_eq!(ours, theirs, "ss {args:?}");
            assert!(!theirs.is_empty(), "{args:?}");
            // the columns are padded: the rows share their second
            // column's start
            let starts: std::collections::HashSet<Option<usize>> = theirs
                .iter()
                .map(|r| {
                    let first = r.find(' ')?;
                    r[first..].find(|c: char| c != ' ').map(|i| i + first)
                })
                .collect();
            assert_eq!(starts.len(), 1, "ss {args:?}: {theirs:#?}");
            compared = true;
            break;
        }
        assert!(compared, "ss {args:?}: own socket's fields never had the same widths");
    }
    // Without -a only connected states are asked for: no netlink socket.
    same(ns, &["-A", "netlink"]);
}

/// `--json OPTIONS` (one object a line in an array, serialized from the
/// library's records) lists the sockets `ss OPTIONS` lists, compared on
/// what both print: state, queues and ports (unix: inodes).
fn json_lists_what_ss_lists(ns: &str, options: &str) {
    let bin = example_bin("ss");
    let out = output(bin.to_str().unwrap(), &["-N", ns, "--json", options]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("[\n  {") && text.ends_with("}\n]\n"), "{text}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(rows.len(), text.lines().count() - 2, "one object a line");
    let num = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
    let unix = options.contains('x');
    let mut ours: Vec<(String, u64, u64, String)> = rows
        .iter()
        .map(|v| {
            let port = match (unix, num(v, if unix { "inode" } else { "sport" })) {
                (false, 0) => "*".to_owned(),
                (_, p) => p.to_string(),
            };
            (
                v["state"].as_str().unwrap().to_owned(),
                num(v, "recv_q"),
                num(v, "send_q"),
                port,
            )
        })
        .collect();
    let mut theirs: Vec<(String, u64, u64, String)> =
        String::from_utf8_lossy(&output("ss", &["-N", ns, "-H", options]).stdout)
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                // -x shows the Netid column; a name and its inode are two fields.
                let at = usize::from(unix);
                let port = match unix {
                    true => f[f.len() - 3].to_owned(),
                    false => f[at + 3].rsplit(':').next().unwrap().to_owned(),
                };
                (
                    f[at].to_owned(),
                    f[at + 1].parse().unwrap(),
                    f[at + 2].parse().unwrap(),
                    port,
                )
            })
            .collect();
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs, "ss --json {options}");
}

/// Splits an `ss -i` info line into `name[:value]` words and reduces each
/// value to its form (digits become 9), so moving figures compare by
/// presence and form.
fn info_form(line: &str) -> Vec<String> {
    line.split_whitespace()
        .map(|w| {
            w.chars()
                .map(|c| if c.is_ascii_digit() { '9' } else { c })
                .collect::<String>()
        })
        .map(|w| {
            // 9.99 and 9 are the same form of a number printed with %g.
            let mut s = w.replace("9.9", "9");
            while s.contains("99") {
                s = s.replace("99", "9");
            }
            s
        })
        .collect()
}

/// The words of an `ss -i` info line that do not move while a connection
/// is quiet, exactly as printed: the congestion control, window scales,
/// segment sizes, the congestion window and threshold, the byte and
/// segment counters, and the flags. (Timers, RTTs, rates and the `last*`
/// ages move between two reads; they compare by form.)
fn info_stable(line: &str) -> Vec<&str> {
    const NAMES: &[&str] = &[
        "wscale:",
        "mss:",
        "pmtu:",
        "rcvmss:",
        "advmss:",
        "cwnd:",
        "ssthresh:",
        "bytes_sent:",
        "bytes_acked:",
        "bytes_received:",
        "segs_out:",
        "segs_in:",
        "data_segs_out:",
        "data_segs_in:",
        "delivered:",
        "rcv_ssthresh:",
        "notsent:",
        "reordering:",
        "retrans:",
        "lost:",
        "sacked:",
        "dsack_dups:",
        "reord_seen:",
    ];
    const FLAGS: &[&str] = &[
        "ts",
        "sack",
        "ecn",
        "ecnseen",
        "app_limited",
        "cubic",
        "reno",
        "bbr",
        "orphaned",
    ];
    line.split_whitespace()
        .filter(|w| FLAGS.contains(w) || NAMES.iter().any(|n| w.starts_with(n)))
        .collect()
}

#[test]
fn ss_info_fields_match_iproute2() {
    if !privileged("ss_info_fields_match_iproute2") {
        return;
    }
    let w = world();
    let ns = w.ns.name();
    let bin = example_bin("ss");
    for args in [&["-tin"][..], &["-tino"], &["-tinm"]] {
        let mut full = vec!["-N", ns];
        full.extend_from_slice(args);
        // ss, ours, ss again: a connection whose retransmission timer
        // fires between two reads (slow machines, emulated VMs) changes
        // rto/backoff/cwnd; ours must equal the read before or the one after.
        let want = output("ss", &full);
        let got = output(bin.to_str().unwrap(), &full);
        let after = output("ss", &full);
        let want = String::from_utf8_lossy(&want.stdout).into_owned();
        let got = String::from_utf8_lossy(&got.stdout).into_owned();
        let after = String::from_utf8_lossy(&after.stdout).into_owned();
        let wl: Vec<&str> = want.lines().collect();
        let gl: Vec<&str> = got.lines().collect();
        let mut stable_lines = 0;
        let al: Vec<&str> = after.lines().collect();
        assert_eq!(wl.len(), gl.len(), "ss {full:?}\n{want}\n---\n{got}");
        for ((a, b), a2) in wl.iter().zip(&gl).zip(al.iter().chain(std::iter::repeat(&""))) {
            if a.starts_with('\t') {
                let (fa, fb) = (info_form(a), info_form(b));
                // Fields that appear only once a counter moves (lastsnd after
                // the first send, busy time) may differ between two reads.
                let optional = |w: &String| {
                    [
                        "lastsnd:",
                        "lastrcv:",
                        "lastack:",
                        "busy:",
                        "rcv_rtt:",
                        "rcv_space:",
                        "minrtt:",
                    ]
                    .iter()
                    .any(|p| w.starts_with(p))
                };
                let fa2 = info_form(a2);
                let na: Vec<&String> = fa.iter().filter(|w| !optional(w)).collect();
                let nb: Vec<&String> = fb.iter().filter(|w| !optional(w)).collect();
                let na2: Vec<&String> = fa2.iter().filter(|w| !optional(w)).collect();
                if nb != na2 {
                    assert_eq!(na, nb, "ss {full:?}\nwant: {a}\ngot:  {b}\nafter: {a2}");
                }
                // What does not move must be equal, value for value, to the
                // read before ours or the one after (cwnd:10 is not cwnd:7).
                let (sa, sb, sa2) = (info_stable(a), info_stable(b), info_stable(a2));
                stable_lines += usize::from(!sb.is_empty());
                if sb != sa2 {
                    assert_eq!(
                        sa, sb,
                        "ss {full:?}: fields that do not move\nwant: {a}\ngot:  {b}\nafter: {a2}"
                    );
                }
            } else {
                // The timer's retransmission count moves too (a SYN-SENT
                // socket's SYN timer fires between two reads in the VMs).
                let masked = |l: &str| {
                    String::from_utf8_lossy(&mask_timers(l.as_bytes()))
                        .trim_end()
                        .to_owned()
                };
                let (a, b, a2) = (masked(a), masked(b), masked(a2));
                if b != a2 {
                    assert_eq!(a, b, "ss {full:?}\nafter: {a2}");
                }
            }
        }
        assert!(
            stable_lines > 0,
            "ss {full:?}: no info line with fields that do not move\n{got}"
        );
    }
}

#[test]
fn ss_summary_and_errors() {
    if !privileged("ss_summary_and_errors") {
        return;
    }
    let w = world();
    let ns = w.ns.name();
    let bin = example_bin("ss");
    let full = ["-N", ns, "-s"];
    assert_same_output("ss -s", || output("ss", &full), || output(bin.to_str().unwrap(), &full));
    // A namespace that does not exist: same text and status as ss.
    let missing = ["-N", "netobs-no-such-ns", "-tan"];
    let want = output("ss", &missing);
    let got = output(bin.to_str().unwrap(), &missing);
    assert_eq!(want.status.code(), got.status.code());
    assert_eq!(
        String::from_utf8_lossy(&want.stderr).lines().next(),
        String::from_utf8_lossy(&got.stderr).lines().next()
    );
    // An invalid filter: an error with its column, no output, no panic.
    let bad = output(
        bin.to_str().unwrap(),
        &["-N", ns, "-tan", "sport", "=", ":22", "or", "bogus"],
    );
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("column 16"), "{err}");
    let bad = output(bin.to_str().unwrap(), &["-N", ns, "-tan", "state", "nonsense"]);
    assert!(!bad.status.success());
}

/// `-K` without CAP_NET_ADMIN: the kernel refuses SOCK_DESTROY with EPERM
/// and the example says which capability is missing.
#[test]
fn ss_kill_needs_cap_net_admin() {
    if !privileged("ss_kill_needs_cap_net_admin") {
        return;
    }
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = format!(":{}", l.local_addr().unwrap().port());
    let bin = example_bin("ss");
    let out = output(
        "setpriv",
        &[
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            bin.to_str().unwrap(),
            "-tlnK",
            "sport",
            "=",
            &port,
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("CAP_NET_ADMIN"), "{err}");
    // The socket is still there.
    assert!(std::net::TcpStream::connect(l.local_addr().unwrap()).is_ok());
}

/// `-K` with CAP_NET_ADMIN: the example destroys the sockets its filter
/// selects (SOCK_DESTROY) and prints them, as ss does. Two equal
/// connections in one namespace: ss kills one, the example the other;
/// both print the same (ports aside), both clients see the abort, and the
/// connections are gone from the table.
#[test]
fn ss_kill_destroys_like_ss() {
    if !privileged("ss_kill_destroys_like_ss") {
        return;
    }
    use std::io::Read;
    let ns = TestNetns::new();
    let (l, mut c1, mut c2) = netobs::core::Netns::named(ns.name())
        .run(|| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let a = l.local_addr().unwrap();
            let c1 = std::net::TcpStream::connect(a).unwrap();
            let c2 = std::net::TcpStream::connect(a).unwrap();
            (l, c1, c2)
        })
        .unwrap();
    let _s1 = l.accept().unwrap();
    let _s2 = l.accept().unwrap();
    let (p1, p2) = (c1.local_addr().unwrap().port(), c2.local_addr().unwrap().port());
    let bin = example_bin("ss");
    let kill = |tool: &str, port: u16| {
        let out = output(tool, &["-N", ns.name(), "-tnK", "sport", "=", &format!(":{port}")]);
        assert!(
            out.status.success(),
            "{tool} -K: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).replace(&port.to_string(), "PORT")
    };
    let theirs = kill("ss", p1);
    let ours = kill(bin.to_str().unwrap(), p2);
    assert_eq!(theirs.lines().count(), 2, "ss killed one socket:\n{theirs}");
    assert_eq!(ours, theirs);
    for c in [&mut c1, &mut c2] {
        let err = c.read(&mut [0u8; 8]).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ECONNABORTED), "{err}");
    }
    let left = String::from_utf8_lossy(&output("ss", &["-N", ns.name(), "-tn"]).stdout).into_owned();
    // No socket left with a killed client's local address.
    for p in [p1, p2] {
        let local = format!("127.0.0.1:{p}");
        assert!(
            left.lines()
                .skip(1)
                .all(|l| l.split_whitespace().nth(3) != Some(local.as_str())),
            "{local} still listed:\n{left}"
        );
    }
}
