//! Which frames died as UNHANDLED_PROTO (the seed article 001 question):
//! their senders and EtherTypes.
//!
//! Where the kernel has event probes, an eprobe on skb:kfree_skb reads the
//! Ethernet header out of each dropped skb during the window
//! ([`netobs_trace::frames::DropFrames`]); its records are joined to the
//! target's attributed drops by skb address and time. Elsewhere a short
//! capture on the device runs *after* the window, keeping the frames whose
//! EtherType no handler in /proc/net/ptype takes: while a packet socket is
//! on the device, `__netif_receive_skb_core` delivers such frames to it
//! instead of dropping them (net/core/dev.c), so capturing during the
//! window would change what is counted.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use netobs_capture::capture::{CaptureConfig, Direction};
use netobs_capture::ptype::PacketHandlers;
use netobs_core::stop::Stop;
use netobs_core::Netns;
use netobs_trace::btf::Btf;
use netobs_trace::frames::{mac_text, DropFrames, DroppedFrame};
use netobs_trace::{DropFilter, Tracefs};

use super::{netns_name, FrameGroup, Options, Source, Verdict};

/// The pseudo-EtherType 802.3 frames are delivered under
/// (include/uapi/linux/if_ether.h).
const ETH_P_802_2: u16 = 0x0004;

/// Drop and probe records of the same skb are written by the same
/// kfree_skb call: their time stamps differ by the probe's run time.
const SAME_DROP_NS: u64 = 1_000_000;

pub(crate) fn open_eprobe(_options: &Options) -> netobs_trace::Result<DropFrames> {
    let tracefs = Tracefs::find_or_mount()?;
    let btf = Btf::load_vmlinux()?;
    let filter = DropFilter {
        reason: Some("UNHANDLED_PROTO".into()),
        ..DropFilter::default()
    };
    let frames = DropFrames::open(&tracefs, &filter, None, &btf)?;
    // The drop monitor runs on the mono clock (for its device join); the
    // probe's records must be comparable with its drops.
    frames.instance().set_trace_clock("mono")?;
    Ok(frames)
}

pub(crate) fn poll_eprobe(frames: &mut DropFrames, out: &mut Vec<DroppedFrame>) -> netobs_trace::Result<()> {
    frames.poll(Some(Duration::ZERO), |f| {
        // Bounded: a flood of unhandled frames needs only a sample.
        if out.len() < super::FRAME_SAMPLE {
            out.push(*f);
        }
    })?;
    Ok(())
}

/// Groups the frames behind the target's UNHANDLED_PROTO drops; returns
/// them with a sentence on how they were found.
pub(crate) fn name_frames(
    unhandled: &[(u64, u64, String)],
    probed: &[DroppedFrame],
    eprobe_used: bool,
    devices: &[(&Netns, Vec<String>)],
    verdict: &Verdict,
    options: &Options,
) -> (Vec<FrameGroup>, String) {
    let mut groups: BTreeMap<(String, String, u16), u64> = BTreeMap::new();
    if eprobe_used {
        let mut by_addr: std::collections::HashMap<u64, Vec<&DroppedFrame>> = std::collections::HashMap::new();
        for f in probed {
            by_addr.entry(f.skbaddr).or_default().push(f);
        }
        let mut joined = 0;
        for (addr, ts, dev) in unhandled {
            // The record of the same kfree_skb call is the closest in time:
            // a freed skb's address is reused at once, so other drops of
            // the same address (of this burst, or of other namespaces) can
            // be within a millisecond too.
            let frame = by_addr
                .get(addr)
                .and_then(|fs| fs.iter().min_by_key(|f| f.timestamp.abs_diff(*ts)))
                .filter(|f| f.timestamp.abs_diff(*ts) < SAME_DROP_NS);
            if let Some(e) = frame.and_then(|f| f.ethernet) {
                *groups.entry((dev.clone(), mac_text(&e.src), e.ethertype)).or_default() += 1;
                joined += 1;
            }
        }
        let note = format!(
            "read from the dropped skbs by an eprobe on skb:kfree_skb ({joined} of {} drops)",
            unhandled.len()
        );
        return (to_groups(groups), note);
    }
    // The device with the evidence: the first attributed drop, else the
    // device counter.
    let Some(ev) = verdict
        .evidence
        .iter()
        .find(|e| matches!(e.source, Source::Drops | Source::Link) && !e.subject.is_empty())
    else {
        return (Vec::new(), "no device to capture on".into());
    };
    let Some((ns, _)) = devices
        .iter()
        .find(|(n, d)| netns_name(n) == ev.netns && d.contains(&ev.subject))
    else {
        return (Vec::new(), format!("device {} is not in the target", ev.subject));
    };
    let dev = ev.subject.clone();
    match capture_unhandled(ns, &dev, options, &mut groups) {
        Ok(n) => {
            let note = format!(
                "captured on {dev} for {:.1} s after the window ({n} frames; kept those whose EtherType no handler \
                 in /proc/net/ptype takes); eprobes, which read the dropped skbs themselves, are not available here",
                options.capture_window.as_secs_f64()
            );
            (to_groups(groups), note)
        }
        Err(e) => (
            Vec::new(),
            format!("could not capture on {dev} to name the frames: {e}"),
        ),
    }
}

fn to_groups(groups: BTreeMap<(String, String, u16), u64>) -> Vec<FrameGroup> {
    let mut v: Vec<FrameGroup> = groups
        .into_iter()
        .map(|((device, source, ethertype), count)| FrameGroup {
            device,
            source,
            ethertype,
            count,
        })
        .collect();
    v.sort_by_key(|g| std::cmp::Reverse(g.count));
    v
}

fn capture_unhandled(
    ns: &Netns,
    dev: &str,
    options: &Options,
    groups: &mut BTreeMap<(String, String, u16), u64>,
) -> netobs_capture::Result<u64> {
    let handlers = PacketHandlers::read_in(ns)?;
    let mut cap = CaptureConfig::new()
        .interface(dev)
        .snaplen(64)
        .direction(Direction::In)
        .retire_timeout_ms(50)
        .open_in(ns)?;
    if let Some(stop) = &options.stop {
        cap.set_stop(stop);
    }
    let deadline = Instant::now() + options.capture_window;
    let mut seen = 0;
    loop {
        let now = Instant::now();
        if now >= deadline || options.stop.as_ref().is_some_and(Stop::woken) {
            break;
        }
        let Some(mut block) = cap.next_block(Some(deadline - now))? else {
            continue;
        };
        for p in block.packets() {
            let d = p.data();
            if d.len() < 14 {
                continue;
            }
            seen += 1;
            let ethertype = u16::from_be_bytes([d[12], d[13]]);
            // Below 0x0600 the field is an 802.3 length: such frames go to
            // the ETH_P_802_2 handler (llc_rcv) when it is registered.
            let handled = if ethertype < 0x0600 {
                handlers.handles(ETH_P_802_2, dev)
            } else {
                handlers.handles(ethertype, dev)
            };
            if !handled {
                let mut src = [0u8; 6];
                src.copy_from_slice(&d[6..12]);
                *groups.entry((dev.to_string(), mac_text(&src), ethertype)).or_default() += 1;
            }
        }
    }
    Ok(seen)
}
