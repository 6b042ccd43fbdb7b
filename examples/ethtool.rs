//! `ethtool -S DEV` and `ethtool -i DEV`, printed as ethtool 6.1 prints
//! them (error text and exit status included), on netobs-ethtool's ioctl
//! path. Other ethtool options come with the netlink family.

use std::io::Write as _;
use std::process::ExitCode;

use netobs::ethtool::{Error, Ethtool};

/// strerror-style text of an error's errno, as ethtool's perror prints it.
fn strerror(e: &Error) -> String {
    match e.errno() {
        Some(n) => {
            let s = std::io::Error::from_raw_os_error(n).to_string();
            s.split(" (os error").next().unwrap_or_default().to_string()
        }
        None => e.to_string(),
    }
}

fn bad_args() -> ExitCode {
    eprintln!("ethtool: bad command line argument(s)");
    eprintln!("For more information run ethtool -h");
    ExitCode::from(1)
}

fn stats(eth: &Ethtool, dev: &str) -> ExitCode {
    let names = match eth.string_set(dev, netobs::ethtool::ioctl::ETH_SS_STATS) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("Cannot get stats strings information: {}", strerror(&e));
            return ExitCode::from(96);
        }
    };
    if names.is_empty() {
        eprintln!("no stats available");
        return ExitCode::from(94);
    }
    let mut values = Vec::new();
    if let Err(e) = eth.read_values(dev, netobs::ethtool::ioctl::ETHTOOL_GSTATS, &names, &mut values) {
        eprintln!("Cannot get stats information: {}", strerror(&e));
        return ExitCode::from(97);
    }
    let mut out = String::with_capacity(32 * values.len());
    out.push_str("NIC statistics:\n");
    for (name, v) in names.names().zip(values) {
        out.push_str("     ");
        out.push_str(name);
        out.push_str(": ");
        out.push_str(&v.to_string());
        out.push('\n');
    }
    let _ = std::io::stdout().write_all(out.as_bytes());
    ExitCode::SUCCESS
}

fn info(eth: &Ethtool, dev: &str) -> ExitCode {
    let d = match eth.driver_info(dev) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("Cannot get driver information: {}", strerror(&e));
            return ExitCode::from(71);
        }
    };
    let yn = |v: u32| if v != 0 { "yes" } else { "no" };
    println!("driver: {}", d.driver);
    println!("version: {}", d.version);
    println!("firmware-version: {}", d.fw_version);
    println!("expansion-rom-version: {}", d.erom_version);
    println!("bus-info: {}", d.bus_info);
    println!("supports-statistics: {}", yn(d.n_stats));
    println!("supports-test: {}", yn(d.testinfo_len));
    println!("supports-eeprom-access: {}", yn(d.eedump_len));
    println!("supports-register-dump: {}", yn(d.regdump_len));
    println!("supports-priv-flags: {}", yn(d.n_priv_flags));
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, dev) = match args.as_slice() {
        [m, dev] if m == "-S" || m == "--statistics" => ("S", dev),
        [m, dev] if m == "-i" || m == "--driver" => ("i", dev),
        _ => return bad_args(),
    };
    let eth = match Ethtool::open() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("Cannot get control socket: {}", strerror(&e));
            return ExitCode::from(70);
        }
    };
    match mode {
        "S" => stats(&eth, dev),
        _ => info(&eth, dev),
    }
}
