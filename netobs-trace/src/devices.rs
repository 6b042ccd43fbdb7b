//! Which device an skb was last seen on: `net:netif_receive_skb` and
//! `net:net_dev_queue`, joined to drops by skb address.
//!
//! `skb:kfree_skb` is host-wide and names neither namespace nor device
//! (include/trace/events/skb.h). The two `net` tracepoints
//! (include/trace/events/net.h) fire at every device hop: for every frame
//! a device receives (`__netif_receive_skb_core`, before any protocol
//! handler) and every frame handed to a device for transmission
//! (`__dev_queue_xmit`, after the egress netfilter hook and tc egress, before
//! the qdisc), with the skb's address and the device's *name*. An skb that
//! is dropped after one of them keeps its address, so the latest such
//! event for that address before the drop names the device the dropped
//! frame belonged to. `skb:consume_skb` ends a trail: an skb freed as
//! consumed gives its address back, and whoever gets it next starts afresh.
//!
//! What the join cannot know, and [`DeviceSeen`] says so:
//! - device names are per namespace: `eth0` may exist in many; the facade
//!   decides how sure a name match is (`netobs::diagnose`);
//! - skb memory is reused at once (slab free lists are LIFO), and not every
//!   free passes a tracepoint (`__kfree_skb` and the deferred frees of TCP
//!   data do not): an skb made and dropped without passing a device (a
//!   local packet dropped by its route, by netfilter OUTPUT or tc egress)
//!   may inherit such a trail. A trail older than [`DeviceTrail::max_age`]
//!   is ignored, and `age` is reported;
//! - a packet socket on a device makes the kernel clone shared skbs
//!   (`skb_share_check` in ip_rcv), so the dropped clone has a new address
//!   and no trail.
//!
//! Records from different CPUs are ordered by time stamp before the join,
//! on a clock comparable across CPUs (the instance's `mono` trace clock).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::error::Result;
use crate::format::{EventFormat, FieldRef};
use crate::ring::Record;
use crate::tracefs::{Instance, Tracefs};

/// Which of the two events saw the skb.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `net:netif_receive_skb`: the device received it.
    Receive,
    /// `net:net_dev_queue`: it was queued to the device for transmission.
    Transmit,
}

/// The device event a drop was joined to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceSeen<'a> {
    /// The device's name, in whichever namespace it lives.
    pub name: &'a str,
    /// Received or queued for transmission.
    pub direction: Direction,
    /// Time from that event to the drop, ns.
    pub age: u64,
}

/// The layouts of the events, resolved from their format files.
#[derive(Debug, Clone)]
pub struct DeviceEvents {
    receive: Layout,
    transmit: Layout,
    /// `skb:consume_skb`: id and skbaddr.
    consume: Option<(u16, FieldRef)>,
}

#[derive(Debug, Clone)]
struct Layout {
    id: u16,
    skbaddr: FieldRef,
    name: FieldRef,
}

impl Layout {
    fn new(format: &EventFormat) -> Result<Self> {
        Ok(Layout {
            id: format.id,
            skbaddr: format.field_ref("skbaddr")?,
            name: format.field_ref("name")?,
        })
    }
}

/// One decoded device event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceEvent<'a> {
    /// Time stamp.
    pub timestamp: u64,
    /// The skb.
    pub skbaddr: u64,
    /// The device name, or None for `skb:consume_skb` (the skb was freed
    /// as consumed: its trail ends).
    pub name: Option<&'a str>,
    /// Which event (meaningless for consume_skb).
    pub direction: Direction,
}

impl DeviceEvents {
    /// Reads the format files; a missing `net` event is an error naming
    /// it, a missing consume_skb only shortens trails less.
    pub fn new(tracefs: &Tracefs) -> Result<Self> {
        let consume = tracefs
            .event_format("skb", "consume_skb")
            .ok()
            .and_then(|f| Some((f.id, f.field_ref("skbaddr").ok()?)));
        Ok(DeviceEvents {
            receive: Layout::new(&tracefs.event_format("net", "netif_receive_skb")?)?,
            transmit: Layout::new(&tracefs.event_format("net", "net_dev_queue")?)?,
            consume,
        })
    }

    /// Enables the events in `instance`, unfiltered: a trail must see every
    /// device, or an address reused on an unseen device keeps its old owner.
    pub fn enable(&self, instance: &Instance) -> Result<()> {
        instance.enable_event("net", "netif_receive_skb", None)?;
        instance.enable_event("net", "net_dev_queue", None)?;
        if self.consume.is_some() {
            instance.enable_event("skb", "consume_skb", None)?;
        }
        Ok(())
    }

    /// Decodes `rec` if it is one of the events.
    pub fn decode<'r>(&self, rec: &Record<'r>) -> Option<DeviceEvent<'r>> {
        let id = rec.event_id()?;
        if let Some((cid, addr)) = &self.consume {
            if id == *cid {
                return Some(DeviceEvent {
                    timestamp: rec.timestamp,
                    skbaddr: rec.uint(addr)?,
                    name: None,
                    direction: Direction::Receive,
                });
            }
        }
        let (layout, direction) = if id == self.receive.id {
            (&self.receive, Direction::Receive)
        } else if id == self.transmit.id {
            (&self.transmit, Direction::Transmit)
        } else {
            return None;
        };
        Some(DeviceEvent {
            timestamp: rec.timestamp,
            skbaddr: rec.uint(&layout.skbaddr)?,
            name: Some(rec.str(&layout.name)?),
            direction,
        })
    }
}

/// Hashes skb addresses: kernel pointers (not chosen by anyone who could
/// aim at collisions), spread by one multiplication. The default SipHash
/// costs more than the rest of the join at a million events a second.
#[derive(Debug, Default, Clone, Copy)]
pub struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_u64(&mut self, v: u64) {
        // Fibonacci hashing; the high bits carry the low bits' entropy.
        self.0 = (v ^ (v >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(26);
    }
}

type AddrMap<V> = HashMap<u64, V, BuildHasherDefault<AddrHasher>>;

/// The latest device event per skb address, bounded in age and size.
#[derive(Debug, Clone)]
pub struct DeviceTrail {
    names: Vec<String>,
    ids: HashMap<String, u32>,
    /// skbaddr -> (time stamp, name id, direction).
    last: AddrMap<(u64, u32, Direction)>,
    newest: u64,
    max_age: u64,
}

/// Entries kept before old ones are pruned.
const PRUNE_AT: usize = 1 << 16;

impl DeviceTrail {
    /// An empty trail that ignores device events older than `max_age` ns
    /// at the drop.
    pub fn new(max_age: u64) -> Self {
        DeviceTrail {
            names: Vec::new(),
            ids: HashMap::new(),
            last: AddrMap::default(),
            newest: 0,
            max_age,
        }
    }

    /// The age limit, ns.
    pub fn max_age(&self) -> u64 {
        self.max_age
    }

    /// Records a device event, or forgets the address of a consumed skb
    /// (call in time-stamp order).
    pub fn learn(&mut self, e: &DeviceEvent<'_>) {
        match e.name {
            Some(name) => {
                let id = self.intern(name);
                self.learn_id(e.timestamp, e.skbaddr, id, e.direction);
            }
            None => self.forget(e.skbaddr),
        }
    }

    /// Ends the trail of `skbaddr`: the skb was freed as consumed.
    pub fn forget(&mut self, skbaddr: u64) {
        self.last.remove(&skbaddr);
    }

    /// The number standing for device name `name` in [`DeviceTrail::learn_id`].
    pub fn intern(&mut self, name: &str) -> u32 {
        // Most events come from a few devices: a short scan first.
        if let Some(i) = self.names.iter().take(8).position(|n| n == name) {
            return i as u32;
        }
        match self.ids.get(name) {
            Some(&id) => id,
            None => {
                let id = self.names.len() as u32;
                self.names.push(name.to_owned());
                self.ids.insert(name.to_owned(), id);
                id
            }
        }
    }

    /// [`DeviceTrail::learn`] with the name already interned.
    pub fn learn_id(&mut self, timestamp: u64, skbaddr: u64, id: u32, direction: Direction) {
        self.newest = self.newest.max(timestamp);
        self.last.insert(skbaddr, (timestamp, id, direction));
        if self.last.len() >= PRUNE_AT {
            let horizon = self.newest.saturating_sub(self.max_age);
            self.last.retain(|_, (ts, _, _)| *ts >= horizon);
            if self.last.len() >= PRUNE_AT {
                // Everything is recent: a flood. Forget the oldest half.
                let mut stamps: Vec<u64> = self.last.values().map(|v| v.0).collect();
                let mid = stamps.len() / 2;
                let cut = *stamps.select_nth_unstable(mid).1;
                self.last.retain(|_, (ts, _, _)| *ts > cut);
            }
        }
    }

    /// The device `skbaddr` was last seen on before `timestamp`, within
    /// the age limit. Forgets it: a dropped skb's address starts afresh.
    pub fn take(&mut self, skbaddr: u64, timestamp: u64) -> Option<DeviceSeen<'_>> {
        let (ts, id, direction) = *self.last.get(&skbaddr)?;
        if ts > timestamp {
            // Seen again after the drop: the address was reused already.
            return None;
        }
        self.last.remove(&skbaddr);
        let age = timestamp - ts;
        if age > self.max_age {
            return None;
        }
        Some(DeviceSeen {
            name: &self.names[id as usize],
            direction,
            age,
        })
    }

    /// Skb addresses remembered now.
    pub fn len(&self) -> usize {
        self.last.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: u64, addr: u64, name: &str) -> DeviceEvent<'_> {
        DeviceEvent {
            timestamp: ts,
            skbaddr: addr,
            name: Some(name),
            direction: Direction::Receive,
        }
    }

    #[test]
    fn joins_the_latest_event_before_the_drop() {
        let mut t = DeviceTrail::new(1_000);
        t.learn(&ev(10, 0xa, "veth0"));
        t.learn(&ev(20, 0xa, "eth0"));
        let seen = t.take(0xa, 25).unwrap();
        assert_eq!((seen.name, seen.age), ("eth0", 5));
        assert!(t.take(0xa, 26).is_none(), "a drop forgets its trail");
    }

    #[test]
    fn a_consumed_skb_ends_its_trail() {
        let mut t = DeviceTrail::new(1_000);
        t.learn(&ev(10, 0xa, "veth0"));
        t.learn(&DeviceEvent {
            timestamp: 11,
            skbaddr: 0xa,
            name: None,
            direction: Direction::Receive,
        });
        assert!(t.take(0xa, 12).is_none(), "the address went back to the slab");
    }

    #[test]
    fn stale_and_future_events_do_not_join() {
        let mut t = DeviceTrail::new(100);
        t.learn(&ev(10, 0xa, "veth0"));
        assert!(t.take(0xa, 500).is_none(), "older than max_age");
        t.learn(&ev(600, 0xb, "veth0"));
        assert!(t.take(0xb, 550).is_none(), "seen after the drop: reused");
    }

    #[test]
    fn stays_bounded() {
        let mut t = DeviceTrail::new(u64::MAX);
        for i in 0..(PRUNE_AT as u64 * 3) {
            t.learn(&ev(i, i, "d"));
        }
        assert!(t.len() < PRUNE_AT);
        assert!(
            t.take(PRUNE_AT as u64 * 3 - 1, u64::MAX).is_some(),
            "the newest are kept"
        );
    }
}
