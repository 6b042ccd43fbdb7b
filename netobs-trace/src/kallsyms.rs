//! Kernel symbols from /proc/kallsyms: addresses to `sym+0xoff/0xsize`.
//!
//! Each line is `ADDRESS TYPE NAME [MODULE]`. The file gives no sizes: a
//! symbol ends where the next text symbol of the same owner (the kernel
//! image or one module) begins. The last symbol of an owner has no known
//! end, so an address past it is printed as a plain address rather than as
//! a huge offset (dropwatch prints `__brk_limit+1e6c5938` there). Only text
//! symbols (types t, T, w, W) are kept: drop locations are code addresses.
//! Without root the kernel shows all addresses as zero (kptr_restrict).

use std::fmt;

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
struct Sym {
    addr: u64,
    /// Bytes to the next symbol of the same owner; None for the last one.
    size: Option<u64>,
    name: Box<str>,
    module: Option<Box<str>>,
}

/// The kernel's text symbols, sorted by address, loaded once.
#[derive(Debug, Clone, Default)]
pub struct Kallsyms {
    syms: Vec<Sym>,
}

/// An address resolved to a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location<'a> {
    /// The address looked up.
    pub addr: u64,
    /// The containing symbol's name (with suffixes such as `.constprop.0`).
    pub name: &'a str,
    /// Offset into the symbol.
    pub offset: u64,
    /// Symbol size (distance to the next symbol).
    pub size: u64,
    /// The module, for module symbols.
    pub module: Option<&'a str>,
}

impl Location<'_> {
    /// The name without compiler suffixes (`.constprop.0`, `.isra.0`, `.cold`).
    pub fn base_name(&self) -> &str {
        base_name(self.name)
    }
}

/// A symbol name without compiler suffixes after the first `.`.
pub fn base_name(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

impl fmt::Display for Location<'_> {
    /// `sym+0xoff/0xsize` and ` [module]` for module symbols, as `%pS`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{:#x}/{:#x}", self.name, self.offset, self.size)?;
        if let Some(m) = self.module {
            write!(f, " [{m}]")?;
        }
        Ok(())
    }
}

impl Kallsyms {
    /// Loads /proc/kallsyms.
    pub fn load() -> Result<Self> {
        let text = std::fs::read_to_string("/proc/kallsyms").map_err(|e| Error::io("read", "/proc/kallsyms", e))?;
        let k = Self::parse(&text);
        if k.syms.is_empty() || k.syms.iter().all(|s| s.addr == 0) {
            return Err(Error::KallsymsHidden);
        }
        Ok(k)
    }

    /// Parses kallsyms text; malformed lines are skipped.
    pub fn parse(text: &str) -> Self {
        let mut syms: Vec<Sym> = Vec::new();
        for line in text.lines() {
            let mut it = line.split_whitespace();
            let (Some(addr), Some(kind), Some(name)) = (it.next(), it.next(), it.next()) else {
                continue;
            };
            if !matches!(kind, "t" | "T" | "w" | "W") {
                continue;
            }
            let Ok(addr) = u64::from_str_radix(addr, 16) else {
                continue;
            };
            let module = it
                .next()
                .map(|m| m.trim_start_matches('[').trim_end_matches(']').into());
            syms.push(Sym {
                addr,
                size: None,
                name: name.into(),
                module,
            });
        }
        syms.sort_by_key(|s| s.addr);
        syms.dedup_by(|b, a| a.addr == b.addr);
        for i in 0..syms.len() {
            syms[i].size = syms
                .get(i + 1)
                .filter(|n| n.module == syms[i].module)
                .map(|n| n.addr - syms[i].addr);
        }
        Kallsyms { syms }
    }

    /// Number of text symbols.
    pub fn len(&self) -> usize {
        self.syms.len()
    }

    /// Whether nothing was loaded.
    pub fn is_empty(&self) -> bool {
        self.syms.is_empty()
    }

    /// The symbol containing `addr`, by binary search; None when the address
    /// is before the first symbol or past the known end of the nearest one.
    pub fn lookup(&self, addr: u64) -> Option<Location<'_>> {
        let i = self.syms.partition_point(|s| s.addr <= addr).checked_sub(1)?;
        let s = &self.syms[i];
        let size = s.size?;
        let offset = addr - s.addr;
        if offset >= size {
            return None;
        }
        Some(Location {
            addr,
            name: &s.name,
            offset,
            size,
            module: s.module.as_deref(),
        })
    }

    /// `sym+0xoff/0xsize`, or `0xADDR` when the address is not inside a symbol.
    pub fn format(&self, addr: u64) -> String {
        match self.lookup(addr) {
            Some(l) => l.to_string(),
            None => format!("{addr:#x}"),
        }
    }

    /// Every symbol's address by its full name (the first of duplicates),
    /// to turn the kernel's `%pS` text back into addresses.
    pub fn addresses(&self) -> std::collections::HashMap<String, u64> {
        let mut m = std::collections::HashMap::with_capacity(self.syms.len());
        for s in &self.syms {
            m.entry(s.name.to_string()).or_insert(s.addr);
        }
        m
    }

    /// Address ranges `[start, end)` of every symbol whose base name (no
    /// `.constprop.0`-style suffix) is `name`.
    pub fn ranges(&self, name: &str) -> Vec<(u64, u64)> {
        self.syms
            .iter()
            .filter(|s| base_name(&s.name) == name)
            .filter_map(|s| Some((s.addr, s.addr + s.size?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "ffffffff81000000 T _stext\n\
        ffffffff81000000 T startup_64\n\
        ffffffff81000100 t __netif_receive_skb_core.constprop.0\n\
        ffffffff81000900 D some_data\n\
        ffffffff81001000 T tcp_v4_rcv\n\
        ffffffff81002000 T _etext\n\
        ffffffffc0200000 t veth_xmit\t[veth]\n\
        ffffffffc0200400 t veth_poll\t[veth]\n\
        garbage line\n";

    #[test]
    fn lookup_and_format() {
        let k = Kallsyms::parse(TEXT);
        let l = k.lookup(0xffffffff810008e6).unwrap();
        assert_eq!(l.name, "__netif_receive_skb_core.constprop.0");
        assert_eq!(l.base_name(), "__netif_receive_skb_core");
        assert_eq!(l.to_string(), "__netif_receive_skb_core.constprop.0+0x7e6/0xf00");
        assert_eq!(k.format(0xffffffffc0200010), "veth_xmit+0x10/0x400 [veth]");
        // Past the last symbol of an owner: plain address.
        assert_eq!(k.format(0xffffffff81002010), "0xffffffff81002010");
        assert_eq!(k.format(0xffffffffc0200500), "0xffffffffc0200500");
        assert_eq!(k.format(0x10), "0x10");
        assert_eq!(k.ranges("tcp_v4_rcv"), vec![(0xffffffff81001000, 0xffffffff81002000)]);
    }
}
